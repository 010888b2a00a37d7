"""One validated list of frames from an Atoms object or a trajectory.

Every analysis averages over frames, so all frames must describe the same system:
same number of atoms, same species in the same order, fully periodic, finite volume.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers, chemical_symbols

from phasefire.analysis.neighbors import check_periodic_cell, shortest_cell_height
from phasefire.workflows.errors import PhasefireError


def check_frame(index: int, frame, reference: Atoms | None, cutoff: float | None = None) -> None:
    """Raise PhasefireError unless ``frame`` (number ``index``) is a periodic Atoms of the
    same system as ``reference`` (frame 0) and, when given, cutoff (Å) ≤ half its cell height."""
    if not isinstance(frame, Atoms):
        raise PhasefireError(f"frame {index} is a {type(frame).__name__}, not an ase.Atoms")
    if len(frame) == 0:
        raise PhasefireError(f"frame {index} has no atoms")
    if reference is not None and frame is not reference:
        if len(frame) != len(reference):
            raise PhasefireError(
                f"frame {index} has {len(frame)} atoms but frame 0 has {len(reference)}; "
                "all frames of a trajectory must describe the same system"
            )
        if not np.array_equal(frame.numbers, reference.numbers):
            raise PhasefireError(
                f"frame {index} has different species (or species order) than frame 0; "
                "all frames of a trajectory must describe the same system"
            )
    try:
        check_periodic_cell(frame, cutoff)
    except PhasefireError as exc:
        raise PhasefireError(f"frame {index}: {exc}") from None


def as_frames(atoms_or_sequence: Atoms | Iterable[Atoms], cutoff: float | None = None) -> list[Atoms]:
    """Return frames as a list, raising PhasefireError on the first inconsistent one.

    cutoff (Å), when given, is checked against half the shortest cell height of every frame.
    """
    frames = [atoms_or_sequence] if isinstance(atoms_or_sequence, Atoms) else list(atoms_or_sequence)
    if not frames:
        raise PhasefireError("no frames given; pass at least one periodic structure")
    for index, frame in enumerate(frames):
        check_frame(index, frame, frames[0], cutoff)
    return frames


def supercell_for(cell, range_A: float) -> tuple[int, int, int]:
    """Smallest repeat (n1, n2, n3) of ``cell`` (rows = lattice vectors, Å) whose perpendicular
    heights all exceed 2·range_A, which the cell lists need for pairs and bonds up to range_A
    (no atom meets its own image, no pair is seen twice; ``neighbors.check_periodic_cell``).
    (1, 1, 1) whenever the cell already allows range_A, so big-enough cells are left as they are.
    Repeating a periodic frame changes nothing it describes: per-atom results are those of the
    same infinite periodic structure."""
    cell = np.asarray(cell, dtype=float)
    if not np.isfinite(range_A) or range_A <= 0:
        raise PhasefireError(f"range must be a positive distance in Å, got {range_A}")
    if range_A <= 0.5 * shortest_cell_height(cell):
        return (1, 1, 1)
    volume = abs(np.linalg.det(cell))
    heights = volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    return tuple(1 if range_A <= 0.5 * h else int(np.floor(2.0 * range_A / h)) + 1 for h in heights)


def species_order(atoms: Atoms) -> tuple[str, ...]:
    """Chemical species in order of first appearance (e.g. ('Sb', 'Se') for Sb2Se3)."""
    numbers, first = np.unique(atoms.numbers, return_index=True)
    return tuple(chemical_symbols[z] for z in numbers[np.argsort(first)])


def pair_label(a: str, b: str) -> str:
    """Key of a species pair, "A-B"."""
    return f"{a}-{b}"


def species_codes(atoms: Atoms, species: tuple[str, ...]) -> np.ndarray:
    """Index into ``species`` of every atom."""
    lookup = np.zeros(int(atoms.numbers.max()) + 1, dtype=np.intp)
    lookup[[atomic_numbers[s] for s in species]] = np.arange(len(species))
    return lookup[atoms.numbers]
