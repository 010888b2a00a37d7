"""Radial distribution functions g(r), total and partial, averaged over frames.

Normalisation (the usual solid-state one, as in ``ase.geometry.rdf.get_rdf`` and LAMMPS):

    g_ab(r) = V / (N_a N_b) * n_ab(r) / (4π/3 [(r + dr)³ - r³])

where n_ab(r) counts ordered pairs (centre of species a, neighbour of species b) in the
shell [r, r + dr), so g_ab = g_ba, g(r) = Σ_ab c_a c_b g_ab(r) and g → 1 at large r
(to within 1/N_a for like pairs). Every frame is normalised with its own volume, then
frames are averaged with equal weight.

Pairs are histogrammed by (pair type × radial bin) straight from a cell list
(``phasefire.analysis.cells``), without a pair array, so all partials cost the same as the
total; a batch of frames is one parallel launch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from phasefire.analysis import cells
from phasefire.analysis.frames import as_frames, pair_label, species_codes, species_order
from phasefire.workflows.errors import PhasefireError

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


def pair_index_matrix(n_species: int) -> np.ndarray:
    """Species × species index of the unordered pair type, in ``pair_keys`` order."""
    index = np.full((n_species, n_species), -1, dtype=np.int64)
    k = 0
    for a in range(n_species):
        for b in range(a, n_species):
            index[a, b] = index[b, a] = k
            k += 1
    return index


class RdfAccumulator:
    """Frame-by-frame partial and total g(r) from 0 to r_max (Å), for one or more bin counts.

    Pairs are histogrammed once at the least common multiple of the bin counts (when it is
    at most LCM_BINS_MAX, else once per bin count) and summed into coarser bins, so g(r)
    and S(q) share one pass over the pairs. Every frame is normalised with its own volume.
    """

    LCM_BINS_MAX = 20000

    def __init__(self, species: tuple[str, ...], codes: np.ndarray, r_max: float, bins: tuple[int, ...]):
        for value in bins:
            if value < 2:
                raise PhasefireError(f"bins must be at least 2, got {value}")
        self.species, self.codes, self.r_max = species, np.asarray(codes, dtype=np.int64), float(r_max)
        self.bins = tuple(dict.fromkeys(int(b) for b in bins))
        lcm = int(np.lcm.reduce(self.bins))
        self.fine = (lcm,) if lcm <= self.LCM_BINS_MAX else self.bins
        self.pair_index = pair_index_matrix(len(species))
        n_pairs = len(species) * (len(species) + 1) // 2
        self.n_of = np.bincount(self.codes, minlength=len(species)).astype(float)
        self.sum_partial = {b: np.zeros((n_pairs, b)) for b in self.bins}
        self.frame_totals: dict[int, list[np.ndarray]] = {b: [] for b in self.bins}
        self.densities: list[float] = []

    def add(self, batch: cells.Batch, volumes: np.ndarray) -> None:
        """Add the frames of a prepared batch with their cell volumes (Å³)."""
        n_atoms = len(self.codes)
        for fine in self.fine:
            counts = cells.pair_histogram(batch, self.codes, self.pair_index, self.r_max, fine).astype(float)
            for bins in self.bins:
                if fine % bins:
                    continue
                coarse = counts.reshape(counts.shape[0], counts.shape[1], bins, fine // bins).sum(axis=3)
                edges = np.linspace(0.0, self.r_max, bins + 1)
                shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
                for a in range(len(self.species)):
                    for b in range(a, len(self.species)):
                        k = self.pair_index[a, b]
                        ordered = coarse[:, k] * (2.0 if a == b else 1.0)
                        self.sum_partial[bins][k] += (
                            volumes[:, None] * ordered / (self.n_of[a] * self.n_of[b] * shell)
                        ).sum(axis=0)
                total = volumes[:, None] * 2.0 * coarse.sum(axis=1) / (n_atoms**2 * shell)
                self.frame_totals[bins].extend(total)
        self.densities.extend(n_atoms / volumes)

    def result(self, bins: int | None = None) -> RadialDistribution:
        """g(r) averaged over the frames added, with ``bins`` bins (default: the first)."""
        bins = self.bins[0] if bins is None else bins
        frame_totals = np.array(self.frame_totals[bins])
        n_frames = len(frame_totals)
        if n_frames == 0:
            raise PhasefireError("no frames given; pass at least one periodic structure")
        total = frame_totals.mean(axis=0)
        if not np.any(total > 0):
            raise PhasefireError(f"no atom pairs closer than r_max = {self.r_max:g} Å; use a larger r_max")
        partial = self.sum_partial[bins] / n_frames
        edges = np.linspace(0.0, self.r_max, bins + 1)
        r = 0.5 * (edges[1:] + edges[:-1])
        keys = pair_keys(self.species)
        fractions = self.n_of / self.n_of.sum()
        return RadialDistribution(
            r=r,
            total=total,
            partial=dict(zip(keys, partial)),
            species=self.species,
            concentrations={s: float(fractions[k]) for k, s in enumerate(self.species)},
            number_density=float(np.mean(self.densities)),
            n_frames=n_frames,
            first_peak=first_peak(r, total, frame_totals),
            first_minimum={key: first_minimum(r, g) for key, g in zip(keys, partial)},
        )


def batches(frames: list[Atoms], atoms_per_batch: int = 60_000):
    """Consecutive frames of one system as prepared kernel batches, with their volumes (Å³)."""
    size = max(1, atoms_per_batch // len(frames[0]))
    for start in range(0, len(frames), size):
        chunk = frames[start : start + size]
        yield prepare_batch(chunk)


def prepare_batch(frames: list[Atoms]) -> tuple[cells.Batch, np.ndarray]:
    """Kernel batch of frames of one system and their volumes (Å³)."""
    cell = np.array([a.cell.array for a in frames])
    batch = cells.prepare(np.array([a.positions for a in frames]), cell)
    return batch, np.abs(np.linalg.det(cell))


def radial_distribution(
    atoms_or_frames: Atoms | Iterable[Atoms], r_max: float = 10.0, bins: int = 200
) -> RadialDistribution:
    """Total and partial g(r) from 0 to r_max (Å) in ``bins`` bins, averaged over frames.

    Raises PhasefireError for non-periodic or zero-volume cells, r_max beyond half the shortest
    cell height, inconsistent frames, or no pair closer than r_max.
    """
    if bins < 2:
        raise PhasefireError(f"bins must be at least 2, got {bins}")
    frames = as_frames(atoms_or_frames, cutoff=r_max)
    species = species_order(frames[0])
    accumulator = RdfAccumulator(species, species_codes(frames[0], species), r_max, (bins,))
    for batch, volumes in batches(frames):
        accumulator.add(batch, volumes)
    return accumulator.result()


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
