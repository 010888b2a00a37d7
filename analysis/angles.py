"""Bond-angle distribution (ADF), total and per central species, averaged over frames.

A bond is a neighbour pair closer than its cutoff (the shared specification of
``phasefire.analysis.bonds``). Every unordered pair of bonds sharing a central atom gives one
angle, counted once (matscipy's ``angle_distribution`` counts each twice). A per-centre kernel
(``phasefire.analysis.cells``) gathers each atom's bonds from the cell list and histograms
their angles at once: no neighbour list, no array of bond pairs, memory linear in N.

The weight near 60° (the paper's signature of three-membered rings / close-packed motifs in
the high-density amorphous phase, Fig. 3b) is the fraction of angles between 50° and 70°.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from phasefire.analysis.bonds import BondAccumulator, BondCutoff
from phasefire.analysis.frames import as_frames, species_codes, species_order
from phasefire.analysis.rdf import batches
from phasefire.workflows.errors import PhasefireError

#: window (degrees) of the "weight near 60°"
NEAR_60_WINDOW_DEG = (50.0, 70.0)


@dataclass(frozen=True)
class AngleDistribution:
    """ADF on bin centres ``angle`` (degrees), as probability densities (1/degree, area 1).

    counts: angles per bin (each angle once) summed over frames; by_center: species → density
    of the angles centred on that species; angles_per_atom: mean number of bond angles per atom;
    weight_near_60: fraction of angles within NEAR_60_WINDOW_DEG (total and by centre).
    """

    angle: np.ndarray
    total: np.ndarray
    counts: np.ndarray
    by_center: dict[str, np.ndarray]
    angles_per_atom: float
    weight_near_60: float
    weight_near_60_by_center: dict[str, float]
    cutoffs: dict[str, float]
    n_frames: int

    def to_dict(self) -> dict:
        return {
            "angle_deg": self.angle.tolist(),
            "adf_total_per_deg": self.total.tolist(),
            "counts": self.counts.tolist(),
            "adf_by_center_per_deg": {key: v.tolist() for key, v in self.by_center.items()},
            "angles_per_atom": self.angles_per_atom,
            "weight_near_60": self.weight_near_60,
            "weight_near_60_by_center": self.weight_near_60_by_center,
            "near_60_window_deg": list(NEAR_60_WINDOW_DEG),
            "cutoffs_A": self.cutoffs,
            "n_frames": self.n_frames,
        }


def _density(counts: np.ndarray, bin_width: float) -> np.ndarray:
    total = counts.sum()
    return counts / (total * bin_width) if total else np.zeros(len(counts))


def angles_from(accumulator: BondAccumulator) -> AngleDistribution:
    """ADF from the bond angles counted by ``accumulator`` (which needs angle_bins)."""
    species, counts, bins = accumulator.species, accumulator.adf, accumulator.angle_bins
    total_counts = counts.sum(axis=0)
    if total_counts.sum() == 0:
        raise PhasefireError(
            f"no bond angles: no atom has two neighbours within the cutoff ({accumulator.cutoffs.max():g} Å); "
            "use a larger cutoff"
        )
    bin_width = 180.0 / bins
    angle = (np.arange(bins) + 0.5) * bin_width
    near = (angle >= NEAR_60_WINDOW_DEG[0]) & (angle <= NEAR_60_WINDOW_DEG[1])

    def near_60(c: np.ndarray) -> float:
        return float(c[near].sum() / c.sum()) if c.sum() else float("nan")

    return AngleDistribution(
        angle=angle,
        total=_density(total_counts, bin_width),
        counts=total_counts,
        by_center={s: _density(counts[k], bin_width) for k, s in enumerate(species)},
        angles_per_atom=float(total_counts.sum() / (accumulator.n_frames * len(accumulator.codes))),
        weight_near_60=near_60(total_counts),
        weight_near_60_by_center={s: near_60(counts[k]) for k, s in enumerate(species)},
        cutoffs={
            f"{a}-{b}": float(accumulator.cutoffs[i, j])
            for i, a in enumerate(species)
            for j, b in enumerate(species)
            if i <= j
        },
        n_frames=accumulator.n_frames,
    )


def bond_angle_distribution(
    atoms_or_frames: Atoms | Iterable[Atoms], cutoff=None, bins: int = 180
) -> AngleDistribution:
    """ADF of bonds shorter than ``cutoff`` (``BondCutoff`` or what ``BondCutoff.of`` takes;
    default 3.2 Å) over 0–180° in ``bins`` bins.

    Raises PhasefireError for bad cells, cutoffs beyond half the shortest cell height, or when
    no atom has two bonds (empty neighbour shells).
    """
    if bins < 1:
        raise PhasefireError(f"angle bins must be at least 1, got {bins}")
    frames = as_frames(atoms_or_frames)
    species = species_order(frames[0])
    cutoffs = BondCutoff.of(cutoff).with_first_minima(frames).matrix(species)
    as_frames(frames, cutoff=float(cutoffs.max()))
    accumulator = BondAccumulator(species, species_codes(frames[0], species), cutoffs, angle_bins=bins)
    for batch, _ in batches(frames):
        accumulator.add(batch)
    return angles_from(accumulator)
