"""Partial coordination numbers, averaged over frames.

cn["A-B"] is the mean number of B atoms within the A–B cutoff of an A atom, so that
c_A·cn["A-B"] = c_B·cn["B-A"]. Cutoffs are one distance, one per species pair ("A-B",
either order), or by default the first minimum of each partial g(r) (``phasefire.analysis.rdf``,
computed to min(6 Å, half the shortest cell height)); counting is exact on the neighbour
list, not an integral of a binned g(r).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from phasefire.analysis.angles import Cutoff, pair_cutoffs
from phasefire.analysis.frames import as_frames, pair_label, species_codes, species_order
from phasefire.analysis.neighbors import neighbor_list, shortest_cell_height
from phasefire.analysis.rdf import radial_distribution

#: largest r (Å) of the g(r) searched for default cutoffs
DEFAULT_CUTOFF_SEARCH_A = 6.0


@dataclass(frozen=True)
class Coordination:
    """cn: "A-B" → mean B neighbours of an A atom; by_species: "A" → mean neighbours of
    an A atom; mean: over all atoms; cutoffs: "A-B" → cutoff used (Å); source: where the
    cutoffs came from ("given" or "g(r) first minimum")."""

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


def default_cutoffs(frames: list[Atoms]) -> dict[str, float]:
    """First minimum (Å) of every partial g(r), ValueError naming any pair without one."""
    r_max = min(DEFAULT_CUTOFF_SEARCH_A, 0.5 * min(shortest_cell_height(a.cell.array) for a in frames) - 1e-9)
    rdf = radial_distribution(frames, r_max=r_max, bins=int(round(r_max / 0.02)))
    missing = [key for key, value in rdf.first_minimum.items() if not np.isfinite(value)]
    if missing:
        raise ValueError(
            f"no first minimum of g(r) below {r_max:.3g} Å for {', '.join(missing)}; give cutoffs explicitly"
        )
    return rdf.first_minimum


def coordination_numbers(atoms_or_frames: Atoms | Iterable[Atoms], cutoff: Cutoff | None = None) -> Coordination:
    """Partial coordination numbers with ``cutoff`` (Å; one value, "A-B" dict, or None for
    the g(r) first minima).

    Raises ValueError for bad cells, cutoffs beyond half the shortest cell height, a pair
    without a cutoff, or no neighbour at all within the cutoffs.
    """
    frames = as_frames(atoms_or_frames)
    species = species_order(frames[0])
    source = "given"
    if cutoff is None:
        cutoff, source = default_cutoffs(frames), "g(r) first minimum"
    cutoffs = pair_cutoffs(species, cutoff)
    as_frames(frames, cutoff=float(cutoffs.max()))
    codes = species_codes(frames[0], species)
    n_species = len(species)
    counts = np.zeros(n_species * n_species)
    for atoms in frames:
        neighbors = neighbor_list(atoms, float(cutoffs.max()), check=False)
        ci, cj = codes[neighbors.i], codes[neighbors.j]
        keep = neighbors.distance < cutoffs[ci, cj]
        counts += np.bincount(ci[keep] * n_species + cj[keep], minlength=n_species * n_species)
    if counts.sum() == 0:
        raise ValueError(
            f"no neighbours within the cutoffs (largest {cutoffs.max():g} Å): empty neighbour shells; "
            "use a larger cutoff"
        )
    counts = counts.reshape(n_species, n_species)
    n_of = np.bincount(codes, minlength=n_species) * len(frames)
    return Coordination(
        cn={
            pair_label(a, b): float(counts[i, j] / n_of[i])
            for i, a in enumerate(species)
            for j, b in enumerate(species)
        },
        by_species={a: float(counts[i].sum() / n_of[i]) for i, a in enumerate(species)},
        mean=float(counts.sum() / n_of.sum()),
        cutoffs={
            pair_label(a, b): float(cutoffs[i, j])
            for i, a in enumerate(species)
            for j, b in enumerate(species)
            if i <= j
        },
        source=source,
        n_frames=len(frames),
    )
