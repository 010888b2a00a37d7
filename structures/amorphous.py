"""Random dense starting configurations for melt–quench simulations of glasses."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.data import atomic_masses, atomic_numbers
from ase.geometry import get_distances

#: grams per atomic mass unit
GRAMS_PER_AMU = 1.66053906660e-24

#: crystalline Pnma Sb2Se3 density (g/cm^3) from the Voutsas et al. (1985) cell, 4 formula units
#: in 11.7938 x 3.9858 x 11.6478 Å (``phasefire.structures.sb2se3.PNMA_CELL_A``)
PNMA_SB2SE3_DENSITY_G_CM3 = 4 * (2 * 121.760 + 3 * 78.971) * GRAMS_PER_AMU / (11.7938 * 3.9858 * 11.6478 * 1e-24)

#: the paper (Zhang et al., PRL 127, 127002 (2021), Fig. 4a): a-Sb2Se3 is 16 % less dense than Pnma at 0 GPa
AMORPHOUS_SB2SE3_DENSITY_G_CM3 = 0.84 * PNMA_SB2SE3_DENSITY_G_CM3


def random_packing(
    composition: dict[str, int],
    density_g_cm3: float,
    min_distance_A: float,
    rng: np.random.Generator,
    max_attempts_per_atom: int = 10_000,
) -> Atoms:
    """Atoms placed one by one at uniform random points of a cubic box, each at least
    ``min_distance_A`` (Å, periodic) from all earlier ones (random sequential addition).

    composition: symbol -> number of atoms (e.g. {"Sb": 40, "Se": 60}); the cube's edge
    follows from ``density_g_cm3``. Atoms come out grouped by species in composition order.
    Raises ValueError when an atom finds no place in ``max_attempts_per_atom`` tries
    (the box is too dense for that minimum distance).
    """
    if density_g_cm3 <= 0 or min_distance_A < 0 or not composition or min(composition.values()) < 1:
        raise ValueError("need a positive density, a non-negative minimum distance and at least one atom per species")
    symbols = [symbol for symbol, count in composition.items() for _ in range(count)]
    mass_g = sum(atomic_masses[atomic_numbers[s]] for s in symbols) * GRAMS_PER_AMU
    edge_A = (mass_g / density_g_cm3 * 1e24) ** (1 / 3)
    cell = np.eye(3) * edge_A
    positions = np.empty((len(symbols), 3))
    for k in range(len(symbols)):
        for _ in range(max_attempts_per_atom):
            trial = rng.uniform(0.0, edge_A, size=3)
            if k == 0:
                break
            _, distances = get_distances(trial[None], positions[:k], cell=cell, pbc=True)
            if distances.min() >= min_distance_A:
                break
        else:
            raise ValueError(
                f"no room for atom {k + 1} of {len(symbols)} at {min_distance_A} Å spacing and "
                f"{density_g_cm3} g/cm^3; lower min_distance_A"
            )
        positions[k] = trial
    return Atoms(symbols=symbols, positions=positions, cell=cell, pbc=True)


def amorphous_sb2se3_start(
    n_formula_units: int,
    rng: np.random.Generator,
    density_g_cm3: float = AMORPHOUS_SB2SE3_DENSITY_G_CM3,
    min_distance_A: float = 2.3,
) -> Atoms:
    """Random Sb(2n)Se(3n) packing at ``density_g_cm3`` (default: the amorphous density,
    16 % below Pnma) with no two atoms closer than ``min_distance_A`` (Å; Sb–Se bonds are ~2.7 Å)."""
    return random_packing({"Sb": 2 * n_formula_units, "Se": 3 * n_formula_units}, density_g_cm3, min_distance_A, rng)
