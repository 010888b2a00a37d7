"""Silver selenide: orthorhombic alpha (naumannite) and cubic beta approximant."""

from __future__ import annotations

from ase import Atoms
from pymatgen.core import Lattice

from phasefire.structures._symmetry import from_wyckoff

#: cell used by the Ag2Se paper (Luo et al., Nat. Commun. (2025), doi:10.1038/s41467-025-57057-5), Å
ALPHA_PAPER_CELL_A = (4.3357, 7.07, 7.774)
#: beta lattice constant quoted by the Ag2Se paper (citing Oliveria et al., Solid State Ionics 28, 1332 (1988)), Å
BETA_PAPER_A = 5.3357


def alpha_ag2se() -> Atoms:
    """alpha-Ag2Se (naumannite), P2_12_12_1 (No. 19), Z = 4, 12 atoms.

    Fractional coordinates: G. A. Wiegers, Am. Mineral. 56, 1882 (1971) (AMCSD 00261),
    in the ITA setting (origin shifted by (-1/4, -1/4, 0) from the AMCSD listing; see
    shared/reference/structures/WYCKOFF_NOTES.md). Lattice: the Ag2Se paper's refinement,
    a = 4.3357, b = 7.07, c = 7.774 Å (Wiegers: 4.333, 7.062, 7.764 Å).
    Ag1 is 4-fold and Ag2 3-fold coordinated by Se; Se sits off-centre in its Ag cage,
    the origin of the paper's antiparallel dipoles.
    """
    sites = [
        ("Ag", (0.857, 0.119, 0.456)),  # Ag1, 4a
        ("Ag", (0.478, 0.779, 0.361)),  # Ag2, 4a
        ("Se", (0.108, 0.985, 0.149)),  # Se, 4a
    ]
    return from_wyckoff("P2_12_12_1", Lattice.orthorhombic(*ALPHA_PAPER_CELL_A), sites)


def beta_ag2se() -> Atoms:
    """beta-Ag2Se ordered approximant: antifluorite Fm-3m (No. 225), a = 5.3357 Å, 12 atoms.

    The real superionic beta phase has Se on an fcc (paper) or bcc sublattice with Ag
    disordered over many interstitial sites; this builder orders Ag on the tetrahedral
    8c sites of the fcc Se sublattice (the antifluorite approximant), with the lattice
    constant the Ag2Se paper quotes (Oliveria et al., Solid State Ionics 28, 1332 (1988)).
    Use it as a starting point for relaxations, not as the disordered phase itself.
    """
    sites = [("Se", (0.0, 0.0, 0.0)), ("Ag", (0.25, 0.25, 0.25))]
    return from_wyckoff("Fm-3m", Lattice.cubic(BETA_PAPER_A), sites)
