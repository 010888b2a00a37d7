"""The one bond-cutoff specification shared by coordination, bond angles, rings and ALTBC.

A bond is a pair of atoms closer than its cutoff. The cutoff is one of

- one distance in Å for every species pair (``3.2``, the default, ``DEFAULT_BOND_CUTOFF_A``);
- one distance per species pair (``{"Sb-Se": 3.2, "Sb-Sb": 3.4}``, either order); pairs not
  listed are not bonded (e.g. only heteropolar bonds for a ring search);
- ``"auto"``: the first minimum after the first peak of each partial g(r), searched up to
  min(6 Å, half the shortest cell height) over all frames analysed.

On the command line the same three forms are written ``3.2``, ``Sb-Se=3.2,Sb-Sb=3.4`` and
``auto`` (``parse_bond_cutoff``, help text ``BOND_CUTOFF_HELP``).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from phasefire.analysis import cells
from phasefire.analysis.frames import as_frames, pair_label
from phasefire.analysis.neighbors import shortest_cell_height
from phasefire.analysis.rdf import radial_distribution
from phasefire.workflows.errors import PhasefireError

#: largest r (Å) of the g(r) searched for 'auto' cutoffs
DEFAULT_CUTOFF_SEARCH_A = 6.0

#: default bond cutoff (Å): the end of the Sb–Se first shell in amorphous Sb2Se3
DEFAULT_BOND_CUTOFF_A = 3.2

BOND_CUTOFF_HELP = (
    f"bond cutoff: a distance in Å, one per species pair like 'Sb-Se=3.2,Sb-Sb=3.4' (unlisted pairs "
    f"are not bonded), or 'auto' (first minimum of each partial g(r)); default {DEFAULT_BOND_CUTOFF_A:g}"
)


@dataclass(frozen=True)
class BondCutoff:
    """Bond cutoff: ``distance_A`` for every pair, else ``pairs_A`` ("A-B" → Å; unlisted
    pairs not bonded), else ``auto`` (g(r) first minima, resolved by ``with_first_minima``)."""

    distance_A: float | None = None
    pairs_A: tuple[tuple[str, str, float], ...] | None = None
    auto: bool = False

    @classmethod
    def of(cls, value: BondCutoff | float | str | Mapping[str, float] | None) -> BondCutoff:
        """A BondCutoff from a distance (Å), an "A-B" mapping, "auto", command-line text, or
        None (the default, DEFAULT_BOND_CUTOFF_A); PhasefireError for anything else."""
        if value is None:
            return cls(distance_A=DEFAULT_BOND_CUTOFF_A)
        if isinstance(value, BondCutoff):
            return value
        if isinstance(value, str):
            return parse_bond_cutoff(value)
        if isinstance(value, Mapping):
            pairs = []
            for key, distance in value.items():
                elements = str(key).split("-")
                if len(elements) != 2 or not all(elements):
                    raise PhasefireError(f"per-pair cutoff key {key!r} is not a species pair; write it like 'Sb-Se'")
                pairs.append((elements[0], elements[1], _positive(distance, key)))
            if not pairs:
                raise PhasefireError("empty per-pair cutoff; give at least one pair like {'Sb-Se': 3.2}")
            return cls(pairs_A=tuple(pairs))
        return cls(distance_A=_positive(value, "cutoff"))

    @property
    def largest_A(self) -> float:
        if self.auto:
            raise PhasefireError("the 'auto' bond cutoff is not resolved yet; call with_first_minima(frames) first")
        return self.distance_A if self.distance_A is not None else max(d for _, _, d in self.pairs_A)

    def matrix(self, species: tuple[str, ...]) -> np.ndarray:
        """Species × species cutoffs (Å, 0 = not bonded) in the order of ``species``."""
        self.largest_A  # noqa: B018  (raises for an unresolved 'auto')
        if self.distance_A is not None:
            return np.full((len(species), len(species)), self.distance_A)
        index = {s: k for k, s in enumerate(species)}
        matrix = np.zeros((len(species), len(species)))
        for a, b, distance in self.pairs_A:
            unknown = [s for s in (a, b) if s not in index]
            if unknown:
                raise PhasefireError(
                    f"cutoff for {a}-{b} names {', '.join(unknown)}, not in this structure "
                    f"(species: {', '.join(species)}); fix the pair"
                )
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = distance
        return matrix

    def by_pair(self, species: tuple[str, ...]) -> dict[str, float]:
        """ "A-B" → cutoff (Å) for every unordered pair in species order (0 = not bonded)."""
        matrix = self.matrix(species)
        return {
            pair_label(a, b): float(matrix[i, j])
            for i, a in enumerate(species)
            for j, b in enumerate(species)
            if i <= j
        }

    def with_first_minima(self, frames) -> BondCutoff:
        """This cutoff, 'auto' replaced by the first minima of the partial g(r) of ``frames``."""
        if not self.auto:
            return self
        return BondCutoff.of(default_cutoffs(frames))

    @property
    def source(self) -> str:
        return "g(r) first minimum" if self.auto else "given"


def default_cutoffs(frames: list[Atoms]) -> dict[str, float]:
    """First minimum (Å) of every partial g(r), PhasefireError naming any pair without one."""
    frames = as_frames(frames)
    r_max = min(DEFAULT_CUTOFF_SEARCH_A, 0.5 * min(shortest_cell_height(a.cell.array) for a in frames) - 1e-9)
    rdf = radial_distribution(frames, r_max=r_max, bins=int(round(r_max / 0.02)))
    missing = [key for key, value in rdf.first_minimum.items() if not np.isfinite(value)]
    if missing:
        raise PhasefireError(
            f"no first minimum of g(r) below {r_max:.3g} Å for {', '.join(missing)}; give cutoffs explicitly"
        )
    return rdf.first_minimum


def _positive(value, name) -> float:
    try:
        distance = float(value)
    except (TypeError, ValueError):
        raise PhasefireError(f"cutoff {name}: {value!r} is not a distance in Å") from None
    if not np.isfinite(distance) or distance <= 0:
        raise PhasefireError(f"cutoff {name} must be a positive distance in Å, got {value!r}")
    return distance


def parse_bond_cutoff(text: str) -> BondCutoff:
    """'3.2' → 3.2 Å; 'Sb-Se=3.2,Se-Se=3.0' → per pair; 'auto' → g(r) first minima."""
    text = text.strip()
    if text.lower() == "auto":
        return BondCutoff(auto=True)
    try:
        if "=" not in text:
            return BondCutoff.of(float(text))
        pairs = [item.split("=") for item in text.split(",") if item.strip()]
        return BondCutoff.of({key.strip(): float(value) for key, value in pairs})
    except ValueError:
        raise PhasefireError(
            f"cutoff {text!r} is neither a distance in Å, a list like 'Sb-Se=3.2,Se-Se=3.0', nor 'auto'"
        ) from None


def bond_cutoff_argument(text: str) -> BondCutoff:
    """argparse type for --cutoff (errors become argparse usage errors)."""
    try:
        return parse_bond_cutoff(text)
    except PhasefireError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_bond_cutoff_option(parser: argparse.ArgumentParser) -> None:
    """--cutoff with the shared type, default and help text."""
    parser.add_argument("--cutoff", type=bond_cutoff_argument, default=None, metavar="CUTOFF", help=BOND_CUTOFF_HELP)


class BondAccumulator:
    """Frame-by-frame bond statistics of one system from one cell-list pass per batch:
    bonds per species pair (always), bond angles (``angle_bins`` over 0–180°, optional) and
    the ALTBC of bond pairs wider than ``altbc_angle_min_deg`` (optional, ``altbc_bins`` bins
    per axis from ``altbc_r_min_A`` to the largest cutoff)."""

    def __init__(
        self,
        species: tuple[str, ...],
        codes: np.ndarray,
        cutoffs: np.ndarray,
        angle_bins: int | None = None,
        altbc_angle_min_deg: float | None = None,
        altbc_r_min_A: float = 2.0,
        altbc_bins: int = 1,
    ):
        self.species, self.codes, self.cutoffs = species, np.asarray(codes, dtype=np.int64), cutoffs
        self.angle_bins, self.altbc_angle_min_deg = angle_bins, altbc_angle_min_deg
        self.altbc_r_min_A, self.altbc_bins = altbc_r_min_A, altbc_bins
        n = len(species)
        self.n_frames = 0
        self.cn = np.zeros((n, n), dtype=np.int64)
        self.adf = np.zeros((n, angle_bins or 1), dtype=np.int64)
        self.altbc = np.zeros((altbc_bins, altbc_bins), dtype=np.int64)
        self.asymmetry_sum = self.asymmetry_square_sum = 0.0
        self.collinear_pairs = 0
        self.frame_pld: list[float] = []

    def add(self, batch: cells.Batch) -> None:
        counts = cells.bond_histograms(
            batch,
            self.codes,
            self.cutoffs,
            angle_bins=self.angle_bins,
            altbc_angle_min_deg=self.altbc_angle_min_deg,
            altbc_r_min=self.altbc_r_min_A,
            altbc_bins=self.altbc_bins,
        )
        self.n_frames += counts.cn.shape[0]
        self.cn += counts.cn.sum(axis=0)
        if counts.adf is not None:
            self.adf += counts.adf.sum(axis=0)
        if counts.altbc is not None:
            self.altbc += counts.altbc.sum(axis=0)
            sums = counts.altbc_moments.sum(axis=0)
            self.asymmetry_sum += sums[0]
            self.asymmetry_square_sum += sums[1]
            self.collinear_pairs += int(round(sums[2]))
            self.frame_pld.extend(m[0] / m[2] for m in counts.altbc_moments if m[2] > 0)
