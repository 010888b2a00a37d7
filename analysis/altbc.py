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
Scalar PLD measure: the mean over collinear pairs of (r_long − r_short)/(r_long + r_short);
0 for equal bonds. Its uncertainty is the frame-to-frame standard error (two or more
frames) or the pair-to-pair standard deviation / √pairs (one frame).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from phasefire.analysis.angles import Cutoff, bond_pairs, bonds, pair_cutoffs
from phasefire.analysis.frames import as_frames, species_codes, species_order


@dataclass(frozen=True)
class ALTBC:
    """ALTBC histogram on bin centres ``r`` (Å) × ``r`` (Å), in pairs per atom per Å².

    pld: mean (r_long − r_short)/(r_long + r_short) over collinear pairs, pld_error its
    standard error; pairs_per_atom: collinear bond pairs per atom per frame.
    """

    r: np.ndarray
    histogram: np.ndarray
    pld: float
    pld_error: float
    pairs_per_atom: float
    angle_min_deg: float
    cutoff: float
    n_frames: int

    def to_dict(self) -> dict:
        return {
            "r_A": self.r.tolist(),
            "altbc_per_atom_per_A2": self.histogram.tolist(),
            "pld": self.pld,
            "pld_error": self.pld_error,
            "pairs_per_atom": self.pairs_per_atom,
            "angle_min_deg": self.angle_min_deg,
            "cutoff_A": self.cutoff,
            "n_frames": self.n_frames,
        }


def altbc(
    atoms_or_frames: Atoms | Iterable[Atoms],
    cutoff: Cutoff = 4.0,
    angle_min: float = 155.0,
    r_min: float = 2.0,
    bin_width: float = 0.02,
) -> ALTBC:
    """ALTBC of bonds shorter than ``cutoff`` (Å; one value or "A-B" dict) forming angles
    above ``angle_min`` (degrees), histogrammed from r_min to the largest cutoff (Å).

    Raises ValueError for bad cells or cutoffs, and when no bond pair is that collinear.
    """
    if not 90.0 <= angle_min < 180.0:
        raise ValueError(f"angle_min must be between 90 and 180 degrees, got {angle_min}")
    frames = as_frames(atoms_or_frames)
    species = species_order(frames[0])
    cutoffs = pair_cutoffs(species, cutoff)
    r_max = float(cutoffs.max())
    as_frames(frames, cutoff=r_max)
    if not 0 <= r_min < r_max:
        raise ValueError(f"r_min must be in [0, cutoff), got {r_min}")
    codes = species_codes(frames[0], species)
    bins = max(1, int(round((r_max - r_min) / bin_width)))
    scale = bins / (r_max - r_min)
    histogram = np.zeros(bins * bins)
    frame_pld, all_asymmetry = [], []
    for atoms in frames:
        frame_bonds = bonds(atoms, cutoffs, codes)
        pairs = bond_pairs(frame_bonds, len(atoms))
        collinear = pairs.angle > angle_min
        r1 = frame_bonds.length[pairs.first[collinear]]
        r2 = frame_bonds.length[pairs.second[collinear]]
        b1 = np.clip(((r1 - r_min) * scale).astype(np.intp), -1, bins)
        b2 = np.clip(((r2 - r_min) * scale).astype(np.intp), -1, bins)
        inside = (b1 >= 0) & (b1 < bins) & (b2 >= 0) & (b2 < bins)
        b1, b2 = b1[inside], b2[inside]
        histogram += np.bincount(np.concatenate([b1 * bins + b2, b2 * bins + b1]), minlength=bins * bins)
        asymmetry = np.abs(r2 - r1) / (r2 + r1)
        all_asymmetry.append(asymmetry)
        if asymmetry.size:
            frame_pld.append(asymmetry.mean())
    asymmetry = np.concatenate(all_asymmetry)
    if asymmetry.size == 0:
        raise ValueError(
            f"no bond pairs with angle above {angle_min:g}° within {r_max:g} Å; "
            "use a larger cutoff or a smaller angle_min"
        )
    if len(frame_pld) >= 2:
        pld_error = float(np.std(frame_pld, ddof=1) / np.sqrt(len(frame_pld)))
    else:
        pld_error = float(asymmetry.std() / np.sqrt(asymmetry.size))
    n_atoms = len(frames) * len(frames[0])
    width = 1.0 / scale
    return ALTBC(
        r=r_min + (np.arange(bins) + 0.5) * width,
        histogram=histogram.reshape(bins, bins) / (n_atoms * width * width),
        pld=float(asymmetry.mean()),
        pld_error=pld_error,
        pairs_per_atom=float(asymmetry.size / n_atoms),
        angle_min_deg=float(angle_min),
        cutoff=r_max,
        n_frames=len(frames),
    )
