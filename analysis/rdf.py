"""Radial distribution functions g(r), total and partial, averaged over frames.

Normalisation (the usual solid-state one, as in ``ase.geometry.rdf.get_rdf`` and LAMMPS):

    g_ab(r) = V / (N_a N_b) * n_ab(r) / (4π/3 [(r + dr)³ - r³])

where n_ab(r) counts ordered pairs (centre of species a, neighbour of species b) in the
shell [r, r + dr), so g_ab = g_ba, g(r) = Σ_ab c_a c_b g_ab(r) and g → 1 at large r
(to within 1/N_a for like pairs). Every frame is normalised with its own volume, then
frames are averaged with equal weight.

One half neighbour list per frame (vesin's cell list) feeds a single ``np.bincount`` over
(pair type × radial bin), so all partials cost the same as the total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from vesin import NeighborList

from phasefire.analysis.frames import as_frames, pair_label, species_codes, species_order

#: points of the first peak used in its fit: the contiguous region with g ≥ this fraction of its maximum
PEAK_FIT_FRACTION = 0.7
#: width (Å) of the running mean applied before locating maxima and minima
SMOOTHING_WIDTH_A = 0.1


@dataclass(frozen=True)
class FirstPeak:
    """Position r1 (Å) of the first peak of g(r) and its standard uncertainty (Å).

    method: how the uncertainty was obtained ("fit covariance", "frame-to-frame spread"
    or "bin width"); the larger candidate is reported.
    """

    r1: float
    r1_error: float
    method: str


@dataclass(frozen=True)
class RadialDistribution:
    """g(r) on bin centres ``r`` (Å), averaged over ``n_frames`` frames.

    partial: "A-B" → g_AB(r) for each unordered pair (A before B in species order).
    first_minimum: "A-B" → first minimum (Å) after the first peak of g_AB, NaN if none
    within r_max; these are the default coordination cutoffs.
    number_density: mean atoms per Å³; concentrations: atomic fractions.
    """

    r: np.ndarray
    total: np.ndarray
    partial: dict[str, np.ndarray]
    species: tuple[str, ...]
    concentrations: dict[str, float]
    number_density: float
    n_frames: int
    first_peak: FirstPeak
    first_minimum: dict[str, float]

    @property
    def bin_width(self) -> float:
        return float(self.r[1] - self.r[0])

    @property
    def r_max(self) -> float:
        return float(self.r[-1] + 0.5 * self.bin_width)

    def to_dict(self) -> dict:
        return {
            "r_A": self.r.tolist(),
            "g_total": self.total.tolist(),
            "g_partial": {key: values.tolist() for key, values in self.partial.items()},
            "species": list(self.species),
            "concentrations": self.concentrations,
            "number_density_per_A3": self.number_density,
            "n_frames": self.n_frames,
            "r1_A": self.first_peak.r1,
            "r1_error_A": self.first_peak.r1_error,
            "r1_error_method": self.first_peak.method,
            "first_minimum_A": {key: _finite_or_none(v) for key, v in self.first_minimum.items()},
        }


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def pair_keys(species: tuple[str, ...]) -> list[str]:
    """Unordered pair labels "A-B" with A not after B in ``species`` order."""
    return [pair_label(a, b) for k, a in enumerate(species) for b in species[k:]]


def _half_pair_distances(atoms: Atoms, r_max: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair closer than r_max (Å) once: (i, j, distance)."""
    calculator = NeighborList(cutoff=float(r_max), full_list=False)
    i, j, d = calculator.compute(points=atoms.positions, box=atoms.cell.array, periodic=True, quantities="ijd")
    return i, j, d


def _frame_partials(atoms: Atoms, species: tuple[str, ...], edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One frame's partial g (pairs × bins, in ``pair_keys`` order) and total g (bins)."""
    n_species, bins = len(species), len(edges) - 1
    codes = species_codes(atoms, species)
    pair_index = np.full((n_species, n_species), -1)
    k = 0
    for a in range(n_species):
        for b in range(a, n_species):
            pair_index[a, b] = pair_index[b, a] = k
            k += 1
    i, j, d = _half_pair_distances(atoms, edges[-1])
    radial_bin = (d * (bins / edges[-1])).astype(np.intp)
    keep = radial_bin < bins
    flat = pair_index[codes[i[keep]], codes[j[keep]]] * bins + radial_bin[keep]
    counts = np.bincount(flat, minlength=k * bins).reshape(k, bins).astype(float)

    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    volume = atoms.cell.volume
    n_of = np.bincount(codes, minlength=n_species).astype(float)
    partial = np.empty_like(counts)
    for a in range(n_species):
        for b in range(a, n_species):
            ordered = counts[pair_index[a, b]] * (2.0 if a == b else 1.0)
            partial[pair_index[a, b]] = volume * ordered / (n_of[a] * n_of[b] * shell)
    total = volume * 2.0 * counts.sum(axis=0) / (len(atoms) ** 2 * shell)
    return partial, total


def radial_distribution(
    atoms_or_frames: Atoms | Iterable[Atoms], r_max: float = 10.0, bins: int = 200
) -> RadialDistribution:
    """Total and partial g(r) from 0 to r_max (Å) in ``bins`` bins, averaged over frames.

    Raises ValueError for non-periodic or zero-volume cells, r_max beyond half the shortest
    cell height, inconsistent frames, or no pair closer than r_max.
    """
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    frames = as_frames(atoms_or_frames, cutoff=r_max)
    species = species_order(frames[0])
    edges = np.linspace(0.0, r_max, bins + 1)
    per_frame = [_frame_partials(atoms, species, edges) for atoms in frames]
    partial = np.mean([p for p, _ in per_frame], axis=0)
    frame_totals = np.array([t for _, t in per_frame])
    total = frame_totals.mean(axis=0)
    if not np.any(total > 0):
        raise ValueError(f"no atom pairs closer than r_max = {r_max:g} Å; use a larger r_max")

    r = 0.5 * (edges[1:] + edges[:-1])
    keys = pair_keys(species)
    symbols = frames[0].get_chemical_symbols()
    return RadialDistribution(
        r=r,
        total=total,
        partial=dict(zip(keys, partial)),
        species=species,
        concentrations={s: symbols.count(s) / len(symbols) for s in species},
        number_density=float(np.mean([len(a) / a.cell.volume for a in frames])),
        n_frames=len(frames),
        first_peak=first_peak(r, total, frame_totals),
        first_minimum={key: first_minimum(r, g) for key, g in zip(keys, partial)},
    )


def _smoothing_half_width(bin_width: float) -> int:
    return max(0, int(np.floor(0.5 * SMOOTHING_WIDTH_A / bin_width + 0.5 + 1e-9)))


def _smooth(g: np.ndarray, bin_width: float) -> np.ndarray:
    """Running mean over ~SMOOTHING_WIDTH_A (odd number of bins, at least 1)."""
    half = _smoothing_half_width(bin_width)
    if half == 0:
        return g
    kernel = np.full(2 * half + 1, 1.0 / (2 * half + 1))
    return np.convolve(np.pad(g, half, mode="edge"), kernel, mode="valid")


def _first_peak_index(g: np.ndarray, bin_width: float) -> tuple[int, int] | None:
    """(smoothed, raw) indices of the first peak: the first local maximum of the smoothed g
    that rises above 1 (the global maximum if g never exceeds 1), and the largest raw g
    within the smoothing window around it. None for an all-zero g."""
    smooth = _smooth(g, bin_width)
    if not np.any(smooth > 0):
        return None
    above = np.flatnonzero(smooth > 1.0)
    if above.size == 0:
        k = int(np.argmax(smooth))
    else:
        k = int(above[0])
        while k + 1 < len(smooth) and smooth[k + 1] >= smooth[k]:
            k += 1
    reach = _smoothing_half_width(bin_width) + 1
    start = max(0, k - 2 * reach)
    return k, int(start + np.argmax(g[start : k + reach + 1]))


def _peak_vertex(r: np.ndarray, g: np.ndarray, k: int) -> tuple[float, float, str]:
    """Gaussian fit (parabola in ln g) over the contiguous points with g ≥ PEAK_FIT_FRACTION·g[k].

    Returns (r1, standard error, method). With fewer than 4 points the three points
    around the maximum give the vertex and the error is bin width / √12.
    """
    bin_width = float(r[1] - r[0])
    threshold = PEAK_FIT_FRACTION * g[k]
    lo, hi = k, k
    while lo > 0 and g[lo - 1] >= threshold > 0:
        lo -= 1
    while hi + 1 < len(g) and g[hi + 1] >= threshold > 0:
        hi += 1
    if hi - lo + 1 >= 4:
        x = r[lo : hi + 1] - r[k]
        (a, b, _), cov = np.polyfit(x, np.log(g[lo : hi + 1]), 2, cov=True)
        if a < 0:
            vertex = -b / (2 * a)
            # delta method: ∂v/∂a = b/(2a²), ∂v/∂b = -1/(2a)
            grad = np.array([b / (2 * a * a), -1 / (2 * a)])
            error = float(np.sqrt(max(grad @ cov[:2, :2] @ grad, 0.0)))
            return float(r[k] + vertex), error, "fit covariance"
    if 0 < k < len(g) - 1 and np.all(g[k - 1 : k + 2] > 0):
        y0, y1, y2 = np.log(g[k - 1 : k + 2])
        curvature = y0 - 2 * y1 + y2
        if curvature < 0:
            shift = 0.5 * (y0 - y2) / curvature * bin_width
            return float(r[k] + shift), bin_width / np.sqrt(12), "bin width"
    return float(r[k]), bin_width / np.sqrt(12), "bin width"


def first_peak(r: np.ndarray, g: np.ndarray, frame_g: np.ndarray | None = None) -> FirstPeak:
    """First-peak position r1 (Å) of g(r) with its uncertainty.

    r1 is the vertex of a Gaussian (quadratic in ln g) least-squares fit over the top of
    the peak (g ≥ 70 % of the maximum). The uncertainty is the larger of the fit's standard
    error (from its covariance) and, given two or more frames (rows of ``frame_g``), the
    standard error of the frame-by-frame r1 (std / √n_frames).
    """
    bin_width = float(r[1] - r[0])
    peak = _first_peak_index(g, bin_width)
    if peak is None:
        return FirstPeak(float("nan"), float("nan"), "no peak")
    r1, error, method = _peak_vertex(r, g, peak[1])
    if frame_g is not None and len(frame_g) >= 2:
        per_frame = []
        for g_frame in frame_g:
            peak_frame = _first_peak_index(g_frame, bin_width)
            if peak_frame is not None:
                per_frame.append(_peak_vertex(r, g_frame, peak_frame[1])[0])
        if len(per_frame) >= 2:
            spread = float(np.std(per_frame, ddof=1) / np.sqrt(len(per_frame)))
            if spread > error:
                error, method = spread, "frame-to-frame spread"
    return FirstPeak(r1, float(error), method)


def first_minimum(r: np.ndarray, g: np.ndarray) -> float:
    """First minimum (Å) of g(r) after its first peak, NaN if g is empty or keeps falling.

    Located on g smoothed over ~0.1 Å; a flat minimum (e.g. the empty gap between two
    crystal shells) gives the middle of the flat stretch.
    """
    bin_width = float(r[1] - r[0])
    peak = _first_peak_index(g, bin_width)
    if peak is None:
        return float("nan")
    k = peak[0]
    smooth = _smooth(g, bin_width)
    m = k
    while m + 1 < len(smooth) and smooth[m + 1] <= smooth[m]:
        m += 1
    if m + 1 >= len(smooth):
        return float("nan")
    flat = np.isclose(smooth[k : m + 1], smooth[m], rtol=0.0, atol=1e-9 + 1e-6 * smooth[k])
    start = k + int(np.argmax(flat))
    return float(0.5 * (r[start] + r[m]))
