"""Antimony selenide Sb2Se3: ambient Pnma crystal and the high-pressure bcc alloy."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.build import bulk
from pymatgen.core import Lattice

from phasefire.structures._symmetry import from_wyckoff

#: Voutsas, Papazoglou, Rentzeperis & Siapkas, Z. Kristallogr. 171, 261 (1985), Å
PNMA_CELL_A = (11.7938, 3.9858, 11.6478)

#: bcc lattice constant, Å. No measured value was found: estimated from an atomic volume of
#: 19.5 Å^3 (0.71 x the ambient Pnma volume, the compression expected near 50 GPa where the
#: paper sees bcc). Relax it at the target pressure before use.
BCC_LATTICE_A = 3.39

#: conventional bcc cells repeated to hold 40 sites = 8 Sb2Se3 units
BCC_SUPERCELL = (2, 2, 5)


#: the five 4c (x, 1/4, z) sites, Voutsas labels. Sb2Se3's own x, z were not found in any
#: accessible source, so these are the isostructural stibnite Sb2S3 values of A. Kyono and
#: M. Kimata, Am. Mineral. 89, 932 (2004) (as tabulated in AFLOW's A3B2_oP20_62_3c_2c prototype),
#: placed in the Sb2Se3 cell. Sb-Se distances come out within 0.04 Å of the ranges Voutsas
#: et al. report (Sb1 6-fold 2.664-3.248 Å, Sb2 7-fold 2.589-3.485 Å); relax before use.
PNMA_SITES = [
    ("Sb", (-0.02937, 0.25, 0.17398)),  # Sb1
    ("Sb", (0.64939, 0.25, -0.03603)),  # Sb2
    ("Se", (0.4504, 0.25, 0.877)),  # Se1
    ("Se", (0.6246, 0.25, 0.5611)),  # Se2
    ("Se", (0.2922, 0.25, 0.19181)),  # Se3
]


def pnma_sb2se3() -> Atoms:
    """Sb2Se3 stibnite type, Pnma (No. 62), Z = 4, 20 atoms.

    Cell: Voutsas, Papazoglou, Rentzeperis & Siapkas, Z. Kristallogr. 171, 261 (1985),
    a = 11.7938, b = 3.9858, c = 11.6478 Å. Atomic positions: see ``PNMA_SITES``.
    """
    return from_wyckoff("Pnma", Lattice.orthorhombic(*PNMA_CELL_A), PNMA_SITES)


def bcc_sb2se3(rng: np.random.Generator) -> Atoms:
    """bcc Sb2Se3 (Im-3m, No. 229, Sb/Se disordered on 2a): a random 40-atom Sb16Se24 supercell.

    The paper (Zhang et al., PRL 127, 127002 (2021)) sees amorphous Sb2Se3 crystallise into
    bcc above ~51-58 GPa with Sb and Se sharing one site; here the 2x2x5 conventional
    supercell gets a random Sb/Se arrangement drawn from ``rng`` (seed it for
    reproducibility). Treating all atoms alike, spglib finds Im-3m.
    """
    atoms = bulk("Sb", "bcc", a=BCC_LATTICE_A, cubic=True).repeat(BCC_SUPERCELL)
    n_sb = 2 * len(atoms) // 5
    symbols = np.array(["Se"] * len(atoms))
    symbols[rng.permutation(len(atoms))[:n_sb]] = "Sb"
    atoms.set_chemical_symbols(symbols.tolist())
    order = np.argsort(symbols == "Se", kind="stable")  # Sb first, like the other builders
    return atoms[order]
