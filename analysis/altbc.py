"""Angular-limited three-body correlation (ALTBC) and a scalar Peierls-like distortion (PLD).

The ALTBC (J.-Y. Raty, V. V. Godlevsky, Ph. Ghosez, C. Bichara, J.-P. Gaspard and
J. R. Chelikowsky, "Evidence of a reentrant Peierls distortion in liquid GeTe",
Phys. Rev. Lett. 85, 1950 (2000); used for amorphous and liquid chalcogenides and
metavalent bonding by Raty et al., Adv. Mater. 31, 1806280 (2019) and Wuttig et al.,
Adv. Mater. 30, 1803777 (2018)) is the 2D distribution of the two bond lengths (r1, r2)
of bond pairs sharing a central atom whose bond angle exceeds a threshold (nearly
collinear, default 155°). An undistorted (cubic, bcc-like) environment puts the weight
on the diagonal r1 = r2; a Peierls-like distortion moves it to a short bond opposite a
long one, off the diagonal (the paper's Fig. 5a, b).

Histogram: symmetric (each pair enters as (r1, r2) and (r2, r1)), normalised to
collinear bond pairs per atom per Å² (its integral is 2 × pairs per atom).
Bonds follow the shared cutoff specification of ``phasefire.analysis.bonds`` (default
3.2 Å; pass a longer one, e.g. 4.0 Å, to include the long bonds of a strong distortion).
Bond lengths below r_min are left out of the histogram (not the PLD). Scalar PLD measure: the mean over collinear pairs of (r_long − r_short)/(r_long + r_short);
0 for equal bonds. Its uncertainty is the frame-to-frame standard error (two or more
frames) or the pair-to-pair standard deviation / √pairs (one frame).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from phasefire.analysis.bonds import BondAccumulator, BondCutoff
from phasefire.analysis.frames import as_frames, pair_label, species_codes, species_order
from phasefire.analysis.rdf import batches
from phasefire.workflows.errors import PhasefireError


@dataclass(frozen=True)
class ALTBC:
    """ALTBC histogram on bin centres ``r`` (Å) × ``r`` (Å), in pairs per atom per Å².

    pld: mean (r_long − r_short)/(r_long + r_short) over collinear pairs, pld_error its
    standard error; pairs_per_atom: collinear bond pairs per atom per frame; cutoffs: "A-B"
    → bond cutoff (Å, 0 = not bonded); the histogram ends at the largest.
    """

    r: np.ndarray
    histogram: np.ndarray
    pld: float
    pld_error: float
    pairs_per_atom: float
    angle_min_deg: float
    cutoffs: dict[str, float]
    n_frames: int

    def to_dict(self) -> dict:
        return {
            "r_A": self.r.tolist(),
            "altbc_per_atom_per_A2": self.histogram.tolist(),
            "pld": self.pld,
            "pld_error": self.pld_error,
            "pairs_per_atom": self.pairs_per_atom,
            "angle_min_deg": self.angle_min_deg,
            "cutoffs_A": self.cutoffs,
            "n_frames": self.n_frames,
        }


def check_altbc_options(angle_min: float, r_min: float, r_max: float) -> None:
    if not 90.0 <= angle_min < 180.0:
        raise PhasefireError(f"angle_min must be between 90 and 180 degrees, got {angle_min}")
    if not 0 <= r_min < r_max:
        raise PhasefireError(f"r_min must be in [0, cutoff), got {r_min}")


def altbc_bins(r_min: float, r_max: float, bin_width: float) -> int:
    """Bins per axis of the ALTBC histogram from r_min to r_max (Å)."""
    return max(1, int(round((r_max - r_min) / bin_width)))


def altbc_from(accumulator: BondAccumulator) -> ALTBC:
    """ALTBC from the collinear bond pairs counted by ``accumulator``."""
    if accumulator.collinear_pairs == 0:
        raise PhasefireError(
            f"no bond pairs with angle above {accumulator.altbc_angle_min_deg:g}° within "
            f"{accumulator.cutoffs.max():g} Å; use a larger cutoff or a smaller angle_min"
        )
    n = accumulator.collinear_pairs
    mean = accumulator.asymmetry_sum / n
    if len(accumulator.frame_pld) >= 2:
        pld_error = float(np.std(accumulator.frame_pld, ddof=1) / np.sqrt(len(accumulator.frame_pld)))
    else:
        variance = max(accumulator.asymmetry_square_sum / n - mean * mean, 0.0)
        pld_error = float(np.sqrt(variance) / np.sqrt(n))
    r_min, r_max, bins = accumulator.altbc_r_min_A, float(accumulator.cutoffs.max()), accumulator.altbc_bins
    width = (r_max - r_min) / bins
    n_atoms = accumulator.n_frames * len(accumulator.codes)
    species = accumulator.species
    return ALTBC(
        r=r_min + (np.arange(bins) + 0.5) * width,
        histogram=accumulator.altbc / (n_atoms * width * width),
        pld=float(mean),
        pld_error=pld_error,
        pairs_per_atom=float(n / n_atoms),
        angle_min_deg=float(accumulator.altbc_angle_min_deg),
        cutoffs={
            pair_label(a, b): float(accumulator.cutoffs[i, j])
            for i, a in enumerate(species)
            for j, b in enumerate(species)
            if i <= j
        },
        n_frames=accumulator.n_frames,
    )


def altbc(
    atoms_or_frames: Atoms | Iterable[Atoms],
    cutoff=None,
    angle_min: float = 155.0,
    r_min: float = 2.0,
    bin_width: float = 0.02,
) -> ALTBC:
    """ALTBC of bonds shorter than ``cutoff`` (``BondCutoff`` or what ``BondCutoff.of`` takes;
    default 3.2 Å) forming angles above ``angle_min`` (degrees), histogrammed from r_min to
    the largest cutoff (Å) in bins of ``bin_width`` (Å).

    Raises PhasefireError for bad cells or cutoffs, and when no bond pair is that collinear.
    """
    frames = as_frames(atoms_or_frames)
    species = species_order(frames[0])
    cutoffs = BondCutoff.of(cutoff).with_first_minima(frames).matrix(species)
    r_max = float(cutoffs.max())
    check_altbc_options(angle_min, r_min, r_max)
    as_frames(frames, cutoff=r_max)
    accumulator = BondAccumulator(
        species,
        species_codes(frames[0], species),
        cutoffs,
        altbc_angle_min_deg=angle_min,
        altbc_r_min_A=r_min,
        altbc_bins=altbc_bins(r_min, r_max, bin_width),
    )
    for batch, _ in batches(frames):
        accumulator.add(batch)
    return altbc_from(accumulator)
