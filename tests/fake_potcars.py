"""Fake POTCAR library for tests: pymatgen-parseable headers, no licensed data.

Only the keyword header (TITEL, ZVAL, ENMAX, ...) and a few numbers are written; pymatgen
warns that the data are unknown, which is expected for fakes.
"""

from __future__ import annotations

from pathlib import Path

from pymatgen.core import Element
from pymatgen.io.vasp.inputs import PotcarSingle
from pymatgen.io.vasp.sets import MPRelaxSet

TEMPLATE = """  PAW_PBE {symbol} 01Jan2000
 {zval:.1f}
 parameters from PSCTR are:
   VRHFIN ={element}: fake
   LEXCH  = PE
   EATOM  =   100.0000 eV,    7.3499 Ry

   TITEL  = PAW_PBE {symbol} 01Jan2000
   LULTRA =        F    use ultrasoft PP ?
   IUNSCR =        1    unscreen: 0-lin 1-nonlin 2-no
   RPACOR =    1.500    partial core radius
   POMASS =  {mass:8.3f}; ZVAL   = {zval:8.3f}    mass and valenz
   RCORE  =    1.900    outmost cutoff radius
   RWIGS  =    2.480; RWIGS  =    1.312    wigner-seitz radius (au A)
   ENMAX  =  250.000; ENMIN  =  187.500 eV
   ICORE  =        2    local potential
   LCOR   =        T    correct aug charges
   LPAW   =        T    paw PP
   EAUG   =  322.069
   DEXC   =    0.000
   RMAX   =    1.950    core radius for proj-oper
   RAUG   =    1.300    factor for augmentation sphere
   RDEP   =    1.993    radius for radial grids
   RDEPT  =    1.837    core radius for aug-charge

   Atomic configuration
    1 entries
     n  l   j            E        occ.
     1  0  0.50       -10.0000   2.0000
   Description
     l       E        TYP  RCUT    TYP  RCUT
     0    -10.0000000     23  1.900
   END of PSCTR-controll parameters
 local part
   98.2657514061040
  0.12345678E+00  0.23456789E+00  0.34567890E+00  0.45678901E+00  0.56789012E+00
 End of Dataset
"""


def write_fake_potcar_library(root: Path, elements: list[str], functional: str = "PBE_54") -> Path:
    """Write ``root/<functional folder>/<symbol>/POTCAR`` for each element's MPRelaxSet POTCAR symbol."""
    symbols = MPRelaxSet.CONFIG["POTCAR"]
    functional_dir = PotcarSingle.functional_dir[functional]
    for element in elements:
        symbol = symbols.get(element, element)
        folder = root / functional_dir / symbol
        folder.mkdir(parents=True, exist_ok=True)
        zval = 8.0 if "_sv" in symbol else 4.0
        text = TEMPLATE.format(symbol=symbol, element=element, zval=zval, mass=float(Element(element).atomic_mass))
        (folder / "POTCAR").write_text(text)
    return root
