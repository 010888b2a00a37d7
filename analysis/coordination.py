"""Partial coordination numbers, averaged over frames.

cn["A-B"] is the mean number of B atoms within the A–B cutoff of an A atom, so that
c_A·cn["A-B"] = c_B·cn["B-A"]. Cutoffs follow the shared bond-cutoff specification
(``phasefire.analysis.bonds``: one distance, one per species pair, or "auto" for the first
minimum of each partial g(r) computed to min(6 Å, half the shortest cell height)); counting
is exact on the cell list, not an integral of a binned g(r).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from phasefire.analysis.bonds import BondAccumulator, BondCutoff, default_cutoffs  # noqa: F401
from phasefire.analysis.frames import as_frames, pair_label, species_codes, species_order
from phasefire.analysis.rdf import batches
from phasefire.workflows.errors import PhasefireError


@dataclass(frozen=True)
class Coordination:
    """cn: "A-B" → mean B neighbours of an A atom; by_species: "A" → mean neighbours of
    an A atom; mean: over all atoms; cutoffs: "A-B" → cutoff used (Å, 0 = not bonded);
    source: where the cutoffs came from ("given" or "g(r) first minimum")."""

    cn: dict[str, float]
    by_species: dict[str, float]
    mean: float
    cutoffs: dict[str, float]
    source: str
    n_frames: int

    def to_dict(self) -> dict:
        return {
            "cn": self.cn,
            "cn_by_species": self.by_species,
            "cn_mean": self.mean,
            "cutoffs_A": self.cutoffs,
            "cutoff_source": self.source,
            "n_frames": self.n_frames,
        }


def coordination_from(accumulator: BondAccumulator, source: str = "given") -> Coordination:
    """Coordination numbers from the bonds counted by ``accumulator``."""
    species, counts = accumulator.species, accumulator.cn.astype(float)
    if counts.sum() == 0:
        raise PhasefireError(
            f"no neighbours within the cutoffs (largest {accumulator.cutoffs.max():g} Å): empty neighbour shells; "
            "use a larger cutoff"
        )
    n_of = np.bincount(accumulator.codes, minlength=len(species)) * accumulator.n_frames
    return Coordination(
        cn={
            pair_label(a, b): float(counts[i, j] / n_of[i])
            for i, a in enumerate(species)
            for j, b in enumerate(species)
        },
        by_species={a: float(counts[i].sum() / n_of[i]) for i, a in enumerate(species)},
        mean=float(counts.sum() / n_of.sum()),
        cutoffs={
            pair_label(a, b): float(accumulator.cutoffs[i, j])
            for i, a in enumerate(species)
            for j, b in enumerate(species)
            if i <= j
        },
        source=source,
        n_frames=accumulator.n_frames,
    )


def coordination_numbers(atoms_or_frames: Atoms | Iterable[Atoms], cutoff=None) -> Coordination:
    """Partial coordination numbers with the bond ``cutoff`` (``BondCutoff`` or anything
    ``BondCutoff.of`` takes: Å, "A-B" dict, "auto"; default 3.2 Å).

    Raises PhasefireError for bad cells, cutoffs beyond half the shortest cell height, or no
    neighbour at all within the cutoffs.
    """
    frames = as_frames(atoms_or_frames)
    species = species_order(frames[0])
    spec = BondCutoff.of(cutoff)
    resolved = spec.with_first_minima(frames)
    cutoffs = resolved.matrix(species)
    as_frames(frames, cutoff=float(cutoffs.max()))
    accumulator = BondAccumulator(species, species_codes(frames[0], species), cutoffs)
    for batch, _ in batches(frames):
        accumulator.add(batch)
    return coordination_from(accumulator, spec.source)
