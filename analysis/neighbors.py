"""Periodic neighbour lists shared by every analysis in this package.

The search itself is vesin's cell-list code (a trusted, compiled neighbour-list
library, ~15x faster than ``ase.neighborlist.neighbor_list`` at 20k atoms); this
module only validates the cell and returns full (both-direction) pair arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from vesin import NeighborList

from phasefire.workflows.errors import PhasefireError


@dataclass(frozen=True)
class Neighbors:
    """Full neighbour list: every pair appears as (i, j) and (j, i).

    i, j: atom indices; distance: |r_j + shift - r_i| in Å; vector: that vector in Å.
    """

    i: np.ndarray
    j: np.ndarray
    distance: np.ndarray
    vector: np.ndarray


def shortest_cell_height(cell: np.ndarray) -> float:
    """Smallest distance between opposite faces of a cell (Å): volume / largest face area."""
    cell = np.asarray(cell, dtype=float)
    volume = abs(np.linalg.det(cell))
    areas = np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    return float(volume / areas.max())


def check_periodic_cell(atoms: Atoms, cutoff: float | None = None) -> None:
    """Raise PhasefireError unless atoms is fully periodic with a finite volume and, when a
    cutoff (Å) is given, it is below half the shortest cell height (minimum image)."""
    if not all(atoms.pbc):
        raise PhasefireError(
            "structure is not periodic in all three directions; analysis needs a bulk cell "
            "(set pbc=True and a cell, e.g. read a POSCAR or extxyz with a Lattice)"
        )
    if abs(atoms.cell.volume) < 1e-6:
        raise PhasefireError("structure has a zero-volume cell; give the simulation box (lattice vectors)")
    if cutoff is not None:
        if not np.isfinite(cutoff) or cutoff <= 0:
            raise PhasefireError(f"cutoff must be a positive distance in Å, got {cutoff}")
        half = 0.5 * shortest_cell_height(atoms.cell.array)
        if cutoff > half:
            raise PhasefireError(
                f"cutoff {cutoff:.3g} Å exceeds half the shortest cell height ({half:.3g} Å); "
                "use a smaller cutoff or a larger supercell"
            )


def neighbor_list(atoms: Atoms, cutoff: float, *, check: bool = True) -> Neighbors:
    """All pairs closer than ``cutoff`` (Å) in a periodic cell, both directions."""
    if check:
        check_periodic_cell(atoms, cutoff)
    calculator = NeighborList(cutoff=float(cutoff), full_list=True)
    i, j, d, vec = calculator.compute(points=atoms.positions, box=atoms.cell.array, periodic=True, quantities="ijdD")
    return Neighbors(i=i.astype(np.intp), j=j.astype(np.intp), distance=d, vector=vec)
