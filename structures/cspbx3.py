"""Caesium lead halide perovskites CsPbX3 (X = Cl, Br, I): cubic and orthorhombic phases."""

from __future__ import annotations

from ase import Atoms
from pymatgen.core import Lattice

from phasefire.structures._symmetry import from_wyckoff

#: cubic (Pm-3m) lattice constants, Å, with their sources
CUBIC_LATTICE_A = {
    "Cl": 5.605,  # R. L. Moreira & A. Dias, J. Phys. Chem. Solids 68, 1617 (2007)
    "Br": 5.874,  # as used by Huang & Lambrecht, Phys. Rev. B 93, 195211 (2016), Table II
    "I": 6.2894,  # D. M. Trots & S. V. Myagkota, J. Phys. Chem. Solids 69, 2520 (2008), 634 K
}


def cubic(halide: str) -> Atoms:
    """Cubic CsPbX3, Pm-3m (No. 221): Cs 1a (0,0,0), Pb 1b (1/2,1/2,1/2), X 3c (0,1/2,1/2)."""
    sites = [("Cs", (0.0, 0.0, 0.0)), ("Pb", (0.5, 0.5, 0.5)), (halide, (0.0, 0.5, 0.5))]
    return from_wyckoff("Pm-3m", Lattice.cubic(CUBIC_LATTICE_A[halide]), sites)


def cubic_cspbbr3() -> Atoms:
    """Cubic CsPbBr3 (Pm-3m), a = 5.874 Å (high-temperature phase; Huang & Lambrecht 2016)."""
    return cubic("Br")


def cubic_cspbcl3() -> Atoms:
    """Cubic CsPbCl3 (Pm-3m), a = 5.605 Å (Moreira & Dias 2007)."""
    return cubic("Cl")


def cubic_cspbi3() -> Atoms:
    """Cubic CsPbI3 (Pm-3m), a = 6.2894 Å at 634 K (Trots & Myagkota 2008)."""
    return cubic("I")


def orthorhombic_cspbbr3() -> Atoms:
    """Orthorhombic CsPbBr3, Pnma (No. 62), Z = 4, 20 atoms (room-temperature phase).

    C. C. Stoumpos et al., Cryst. Growth Des. 13, 2722 (2013) (COD 4510745):
    a = 8.2440, b = 11.7351, c = 8.1982 Å; Cs 4c, Pb 4a, Br1 8d, Br2 4c. Mean Pb-Br 2.962 Å.
    """
    sites = [
        ("Cs", (0.53100, 0.25, 0.00702)),
        ("Pb", (0.0, 0.5, 0.0)),
        ("Br", (0.29347, 0.47611, 0.20607)),
        ("Br", (0.00370, 0.75, 0.04550)),
    ]
    return from_wyckoff("Pnma", Lattice.orthorhombic(8.2440, 11.7351, 8.1982), sites)


def orthorhombic_cspbcl3() -> Atoms:
    """Orthorhombic CsPbCl3, Pnma (No. 62), Z = 4, 20 atoms (low-temperature phase).

    Cell a = 7.837, b = 11.1675, c = 7.841 Å and positions Cs 4c, Pb 4b, Cl 8d + 4c from an
    experimental refinement (with e.s.d.s) distributed in a public perovskite structure set
    (CMTCL-IITM DIST-HP, 38_3_CsPbCl3.cif) whose original publication could not be identified;
    its Pb-Cl distances (2.806-2.811 Å) and Pnma symmetry check out. Linaburg et al.,
    Chem. Mater. 29, 3507 (2017) confirm Pnma with a-b+a- tilts.
    """
    sites = [
        ("Cs", (0.4788, 0.25, 0.0034)),
        ("Pb", (0.0, 0.0, 0.0)),
        ("Cl", (0.2125, 0.0173, 0.2870)),
        ("Cl", (0.001, -0.25, 0.041)),
    ]
    return from_wyckoff("Pnma", Lattice.orthorhombic(7.837, 11.1675, 7.841), sites)
