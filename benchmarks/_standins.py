"""Amorphous-like stand-in structures for benchmarks.

Random sequential addition (RSA): points are drawn uniformly in a cubic periodic box and
kept when no kept point lies within the hard-core distance. At 0.034 atoms/Å³ with a
2.3 Å core (packing fraction 0.22, well below RSA jamming at 0.38) this gives a
liquid-like pair distribution and, with a 3.2 Å bond cutoff, a network of ~3-4 bonds per
atom with rings of every size, a fair stand-in for a-Sb2Se3 at ambient pressure.
"""

from __future__ import annotations

import numba
import numpy as np
from ase import Atoms


@numba.njit(cache=True)
def _rsa_positions(n_atoms, box, hard_core, seed):
    """n_atoms points (Å) in a periodic cube of side box (Å), no pair closer than hard_core."""
    np.random.seed(seed)
    n_cells = max(1, int(box / hard_core))
    cell_size = box / n_cells
    # each grid cell holds few points at this density: a fixed-width table suffices
    width = 16
    table = np.full((n_cells, n_cells, n_cells, width), -1, np.int64)
    count = np.zeros((n_cells, n_cells, n_cells), np.int64)
    positions = np.empty((n_atoms, 3))
    placed = 0
    core2 = hard_core * hard_core
    while placed < n_atoms:
        trial = np.random.random(3) * box
        cx, cy, cz = (
            int(trial[0] / cell_size) % n_cells,
            int(trial[1] / cell_size) % n_cells,
            int(trial[2] / cell_size) % n_cells,
        )
        overlap = False
        for dx in range(-1, 2):
            for dy in range(-1, 2):
                for dz in range(-1, 2):
                    x, y, z = (cx + dx) % n_cells, (cy + dy) % n_cells, (cz + dz) % n_cells
                    for slot in range(count[x, y, z]):
                        other = positions[table[x, y, z, slot]]
                        d2 = 0.0
                        for c in range(3):
                            d = trial[c] - other[c]
                            d -= box * np.round(d / box)
                            d2 += d * d
                        if d2 < core2:
                            overlap = True
                            break
                    if overlap:
                        break
                if overlap:
                    break
            if overlap:
                break
        if overlap or count[cx, cy, cz] == width:
            continue
        positions[placed] = trial
        table[cx, cy, cz, count[cx, cy, cz]] = placed
        count[cx, cy, cz] += 1
        placed += 1
    return positions


def rsa_frame(
    n_atoms: int,
    density_per_A3: float = 0.034,
    hard_core_A: float = 2.3,
    seed: int = 0,
    species: tuple[str, ...] = ("Sb", "Se"),
    ratio: tuple[int, ...] = (2, 3),
) -> Atoms:
    """Periodic cubic frame of n_atoms RSA points at density_per_A3 (atoms/Å³) with no
    pair closer than hard_core_A (Å); species assigned at random in the given ratio."""
    box = (n_atoms / density_per_A3) ** (1.0 / 3.0)
    positions = _rsa_positions(n_atoms, box, hard_core_A, seed)
    weights = np.asarray(ratio, dtype=float)
    counts = np.floor(n_atoms * weights / weights.sum()).astype(int)
    counts[0] += n_atoms - counts.sum()
    symbols = np.repeat(np.asarray(species), counts)
    np.random.default_rng(seed).shuffle(symbols)
    return Atoms(symbols=list(symbols), positions=positions, cell=[box] * 3, pbc=True)
