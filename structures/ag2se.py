"""Silver selenide: orthorhombic alpha (naumannite), the superionic cubic beta phase as an ordered
approximant (bcc Se, Ag on tetrahedral sites) and the paper's fcc cell."""

from __future__ import annotations

import itertools

import numpy as np
from ase import Atoms
from pymatgen.core import Lattice

from phasefire.structures._symmetry import from_wyckoff

#: cell used by the Ag2Se paper (Luo et al., Nat. Commun. (2025), doi:10.1038/s41467-025-57057-5), Å
ALPHA_PAPER_CELL_A = (4.3357, 7.07, 7.774)
#: beta lattice constant quoted by the Ag2Se paper (citing Oliveria et al., Solid State Ionics 28, 1332 (1988)), Å
BETA_PAPER_A = 5.3357
#: bcc Se sublattice of superionic beta-Ag2Se (Im-3m) above ~407 K, Å: Rahlfs, Z. Phys. Chem. B 31, 157 (1936);
#: Oliveria et al., Solid State Ionics 28, 1332 (1988) (neutron diffraction; Ag mostly on tetrahedral 12d sites)
BETA_BCC_A = 4.98
#: repeats of the 2-Se bcc cell in the beta approximant (16 Se, 32 Ag, 9.96 A between a defect and its images)
BETA_SUPERCELL = (2, 2, 2)
#: tetrahedral 12d sites of Im-3m (fractions of the cubic cell): Ag-Se = a*sqrt(5)/4 = 2.78 A at a = 4.98 A
TETRAHEDRAL_12D = (
    (0.25, 0.5, 0.0), (0.75, 0.5, 0.0), (0.0, 0.25, 0.5), (0.0, 0.75, 0.5), (0.5, 0.0, 0.25), (0.5, 0.0, 0.75),
    (0.75, 0.0, 0.5), (0.25, 0.0, 0.5), (0.5, 0.75, 0.0), (0.5, 0.25, 0.0), (0.0, 0.5, 0.75), (0.0, 0.5, 0.25),
)  # fmt: skip
#: smallest Ag-Ag distance allowed in a sampled arrangement, Å (face-sharing tetrahedra are a*sqrt(2)/4 = 1.76 A)
MIN_AG_AG_A = 2.2
#: seed of the sampled arrangements and the index of the lowest-energy one (CHGNet 0.3.0 single points of
#: ``BETA_SAMPLES`` arrangements; ``phasefire.workflows.studies.ag2se.rank_beta_arrangements`` reproduces it)
BETA_SEED = 2025
BETA_SAMPLES = 200
BETA_CHOSEN = 152


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


def tetrahedral_sites(
    a_A: float = BETA_BCC_A, repeats: tuple[int, int, int] = BETA_SUPERCELL
) -> tuple[Atoms, np.ndarray]:
    """The bcc Se sublattice (Im-3m, ``repeats`` cubic cells) and the Cartesian positions (Å) of all
    its tetrahedral 12d interstices (6 per Se)."""
    host = Atoms("Se2", scaled_positions=[(0, 0, 0), (0.5, 0.5, 0.5)], cell=[a_A] * 3, pbc=True).repeat(repeats)
    cells = np.array(list(itertools.product(*(range(n) for n in repeats))), dtype=float)
    fractions = (cells[:, None, :] + np.array(TETRAHEDRAL_12D)[None, :, :]).reshape(-1, 3) / np.array(repeats)
    return host, fractions @ host.cell.array


def beta_arrangement(rng: np.random.Generator, a_A: float = BETA_BCC_A, repeats=BETA_SUPERCELL) -> Atoms:
    """One random Ag2Se arrangement: Ag on tetrahedral sites of the bcc Se sublattice, no two Ag
    closer than ``MIN_AG_AG_A`` (random sequential addition, restarted until every Ag is placed)."""
    host, sites = tetrahedral_sites(a_A, repeats)
    wanted = 2 * len(host)
    cell = host.cell.array
    delta = sites[:, None, :] - sites[None, :, :]
    fractional = np.linalg.solve(cell.T, delta.reshape(-1, 3).T).T
    fractional -= np.round(fractional)
    distance = np.linalg.norm(fractional @ cell, axis=1).reshape(len(sites), len(sites))
    for _ in range(1000):
        chosen: list[int] = []
        for k in rng.permutation(len(sites)):
            if all(distance[k, j] >= MIN_AG_AG_A for j in chosen):
                chosen.append(int(k))
                if len(chosen) == wanted:
                    atoms = host + Atoms(f"Ag{wanted}", positions=sites[sorted(chosen)], cell=cell, pbc=True)
                    atoms.info["tetrahedral_sites"] = sorted(chosen)
                    return atoms
    raise RuntimeError("no arrangement found")  # pragma: no cover - 2x2x2 always succeeds


def beta_arrangements(count: int = BETA_SAMPLES, seed: int = BETA_SEED) -> list[Atoms]:
    """``count`` seeded random arrangements (``beta_arrangement``), the candidates for the approximant."""
    rng = np.random.default_rng(seed)
    return [beta_arrangement(rng) for _ in range(count)]


def beta_ag2se() -> Atoms:
    """beta-Ag2Se ordered approximant: bcc Se (Im-3m, a = 4.98 A) with Ag on tetrahedral 12d sites, 48 atoms.

    The superionic beta phase (above ~407 K) has Se on a bcc lattice and Ag disordered over the
    interstices, mostly the tetrahedral ones (Rahlfs 1936; Oliveria et al., Solid State Ionics 28,
    1332 (1988)). This approximant puts 32 Ag on 32 of the 96 tetrahedral sites of a 2x2x2 cell:
    the lowest-energy (CHGNet 0.3.0, unrelaxed single points) of ``BETA_SAMPLES`` seeded random
    arrangements without face-sharing Ag pairs. Volume per formula unit 61.8 A^3 (alpha: 59.4 A^3).
    """
    atoms = beta_arrangements(BETA_CHOSEN + 1)[BETA_CHOSEN]
    atoms.info.pop("tetrahedral_sites", None)
    return atoms


def fcc_paper_ag2se() -> Atoms:
    """The Ag2Se paper's beta cell taken literally: antifluorite Fm-3m, a = 5.3357 A, 12 atoms.

    Inconsistent with the paper's own phases: Ag-Se bonds of 2.31 A and 36 % less volume per atom
    than alpha (38.0 vs 59.4 A^3 per formula unit); CHGNet relaxes it to a = 6.45 A. Kept to
    reproduce the paper's stated cell; the physical beta phase is ``beta_ag2se``.
    """
    sites = [("Se", (0.0, 0.0, 0.0)), ("Ag", (0.25, 0.25, 0.25))]
    return from_wyckoff("Fm-3m", Lattice.cubic(BETA_PAPER_A), sites)
