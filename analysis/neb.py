"""Barriers and energy profiles of a nudged-elastic-band path (pure: energies and images in).

The reaction coordinate is the cumulative mass-unweighted distance between successive images
(Å, minimum-image convention); energies are relative to the initial image (eV).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.geometry import find_mic


@dataclass(frozen=True)
class BarrierProfile:
    """Energy profile along the path: reaction_coordinate_A (Å) and energies_eV relative to the
    first image; forward barrier = E_max - E_first, backward = E_max - E_last (eV);
    saddle_index: the highest image."""

    reaction_coordinate_A: np.ndarray
    energies_eV: np.ndarray
    barrier_forward_eV: float
    barrier_backward_eV: float
    saddle_index: int

    @property
    def reaction_energy_eV(self) -> float:
        return float(self.energies_eV[-1])

    def as_dict(self) -> dict:
        return {
            "reaction_coordinate_A": [float(x) for x in self.reaction_coordinate_A],
            "energies_eV": [float(x) for x in self.energies_eV],
            "barrier_forward_eV": self.barrier_forward_eV,
            "barrier_backward_eV": self.barrier_backward_eV,
            "reaction_energy_eV": self.reaction_energy_eV,
            "saddle_index": self.saddle_index,
        }


def path_coordinate_A(images: list[Atoms]) -> np.ndarray:
    """Cumulative distance (Å) along the images, each step |R_i - R_(i-1)| with the minimum image."""
    steps = [0.0]
    for previous, current in zip(images[:-1], images[1:]):
        if len(previous) != len(current):
            raise ValueError(f"images differ in size ({len(previous)} vs {len(current)} atoms)")
        delta, _ = find_mic(current.positions - previous.positions, current.cell, current.pbc)
        steps.append(float(np.linalg.norm(delta)))
    return np.cumsum(steps)


def barrier_profile(energies_eV: np.ndarray, reaction_coordinate_A: np.ndarray | None = None) -> BarrierProfile:
    """Profile and barriers from total energies of the images in path order (eV)."""
    energies = np.asarray(energies_eV, dtype=float)
    if energies.ndim != 1 or energies.size < 3:
        raise ValueError(f"need the energies of at least 3 images (endpoints + 1), got {energies.size}")
    if not np.isfinite(energies).all():
        raise ValueError("image energies contain non-finite values")
    coordinate = (
        np.arange(energies.size, dtype=float)
        if reaction_coordinate_A is None
        else np.asarray(reaction_coordinate_A, float)
    )
    if coordinate.shape != energies.shape:
        raise ValueError(f"{coordinate.size} reaction coordinates for {energies.size} energies")
    relative = energies - energies[0]
    saddle = int(np.argmax(relative))
    return BarrierProfile(
        reaction_coordinate_A=coordinate,
        energies_eV=relative,
        barrier_forward_eV=float(relative[saddle]),
        barrier_backward_eV=float(relative[saddle] - relative[-1]),
        saddle_index=saddle,
    )


def endpoint_problem(
    initial_relaxed: Atoms,
    final_relaxed: Atoms,
    mover: int,
    hop_length_A: float,
    start: Atoms | None = None,
    final_start: Atoms | None = None,
    max_shift_fraction: float = 0.35,
) -> str | None:
    """Why relaxed hop endpoints cannot bound a NEB, or None when they can.

    They fail when the mover ends closer than ``max_shift_fraction`` x hop length to where it
    is in the other endpoint (the endpoints relaxed into each other), or when an atom of the
    mover's species moved more than that during relaxation from ``start`` / ``final_start`` (the
    defect went to another site, e.g. a neighbour fell into the vacancy). Other species may relax
    freely around the defect.
    """
    limit = max_shift_fraction * hop_length_A
    delta, _ = find_mic(final_relaxed.positions[mover] - initial_relaxed.positions[mover], final_relaxed.cell, True)
    if np.linalg.norm(delta) < hop_length_A - limit:
        return (
            f"the endpoints relaxed into each other: the mover ends {np.linalg.norm(delta):.2f} A apart "
            f"(hop length {hop_length_A:.2f} A)"
        )
    for name, before, after in (("initial", start, initial_relaxed), ("final", final_start, final_relaxed)):
        if before is None:
            continue
        shifts, _ = find_mic(after.positions - before.positions, after.cell, True)
        moved = np.where(
            np.array(after.get_chemical_symbols()) == after[mover].symbol, np.linalg.norm(shifts, axis=1), 0.0
        )
        worst = int(np.argmax(moved))
        if moved[worst] > limit:
            return (
                f"the {name} endpoint relaxed into another configuration: atom {worst} ({after[worst].symbol}) "
                f"moved {moved[worst]:.2f} A (> {limit:.2f} A)"
            )
    return None
