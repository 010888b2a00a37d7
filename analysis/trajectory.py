"""One streaming pass over a trajectory that feeds every requested analysis.

Frames are read once, one at a time (e.g. from ``ase.io.iread``), checked against frame 0,
and grouped into batches of about ``atoms_per_batch`` atoms; each batch is one parallel kernel
launch per kind of analysis (pair histogram for g(r)/S(q); bonds for CN, ADF and ALTBC, which
share one cell-list pass), run in a worker thread while the next frames are read. Ring
searches of different frames run in parallel threads. Only the accumulators and one or two
batches are in memory, never the whole trajectory. Results are frame means with the same
types (and JSON keys) as the single-analysis functions, which are this pass on a list.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from phasefire.analysis.altbc import altbc_bins, altbc_from, check_altbc_options
from phasefire.analysis.angles import angles_from
from phasefire.analysis.bonds import BondAccumulator, BondCutoff
from phasefire.analysis.coordination import coordination_from
from phasefire.analysis.frames import check_frame, species_codes, species_order
from phasefire.analysis.neighbors import shortest_cell_height
from phasefire.analysis.rdf import RdfAccumulator, prepare_batch
from phasefire.analysis.rings import RingAccumulator
from phasefire.analysis.structure_factor import xray_structure_factor
from phasefire.workflows.errors import PhasefireError

#: every analysis of one pass, in output order
ANALYSES = ("rdf", "sq", "cn", "adf", "rings", "altbc")
#: largest default r_max (Å) of g(r) and S(q)
DEFAULT_R_MAX_A = 10.0


@dataclass(frozen=True)
class PassSettings:
    """Parameters of every analysis of a pass (units in names; defaults as the single commands).

    r_max_A None: DEFAULT_R_MAX_A or, if smaller, just below half the first frame's shortest
    cell height. cutoff: the shared bond cutoff of cn, adf, rings and altbc.
    """

    cutoff: BondCutoff = field(default_factory=lambda: BondCutoff.of(None))
    r_max_A: float | None = None
    rdf_bins: int = 200
    sq_bins: int = 500
    q_max_inv_A: float = 12.0
    lorch: bool = True
    angle_bins: int = 180
    ring_max_size: int = 10
    ring_criterion: str = "shortest-path"
    altbc_angle_min_deg: float = 155.0
    altbc_r_min_A: float = 2.0
    altbc_bin_width_A: float = 0.02
    atoms_per_batch: int = 60_000


def default_r_max(frame: Atoms, r_max: float | None = None) -> float:
    """``r_max`` (Å) if given, else DEFAULT_R_MAX_A capped just below half the shortest cell height."""
    if r_max is not None:
        return float(r_max)
    return min(DEFAULT_R_MAX_A, 0.999 * 0.5 * shortest_cell_height(frame.cell.array))


def analyze_trajectory(
    frames: Iterable[Atoms] | Callable[[], Iterable[Atoms]],
    analyses: Iterable[str] = ANALYSES,
    settings: PassSettings | None = None,
) -> dict[str, object]:
    """Every analysis in ``analyses`` (names from ANALYSES) over ``frames`` in one pass.

    frames: an iterable of ase.Atoms of one system, or a function returning a fresh one
    (needed with the 'auto' bond cutoff, whose g(r) minima take a first pass). Returns
    name → result object (RadialDistribution, StructureFactor, Coordination,
    AngleDistribution, RingStatistics, ALTBC), each averaged over all frames.
    """
    settings = settings or PassSettings()
    wanted = list(dict.fromkeys(analyses))
    unknown = [name for name in wanted if name not in ANALYSES]
    if unknown or not wanted:
        raise PhasefireError(f"unknown analysis {', '.join(unknown) or '(none)'}; choose from {', '.join(ANALYSES)}")
    cutoff = settings.cutoff
    bonded = any(name in wanted for name in ("cn", "adf", "rings", "altbc"))
    if cutoff.auto and bonded:
        cutoff = cutoff.with_first_minima(_fresh(frames, "the 'auto' bond cutoff"))
    stream = _fresh(frames, None)
    return _one_pass(stream, wanted, settings, cutoff if bonded else None, source=settings.cutoff.source)


def _fresh(frames, purpose: str | None) -> Iterable[Atoms]:
    """A new iteration over frames; a one-shot iterator can serve only one pass."""
    if callable(frames):
        return frames()
    if isinstance(frames, Atoms):
        return [frames]
    if purpose is not None and isinstance(frames, Iterator):
        raise PhasefireError(
            f"{purpose} needs two passes over the frames but got a one-shot iterator; "
            "pass a list or a function returning a fresh iterator, or give the cutoff in Å"
        )
    return frames


def _one_pass(stream: Iterable[Atoms], wanted: list[str], settings: PassSettings, cutoff, source: str):
    bond_kinds = {"cn", "adf", "altbc"} & set(wanted)
    rdf_bins = tuple(b for name, b in (("rdf", settings.rdf_bins), ("sq", settings.sq_bins)) if name in wanted)
    rdf_acc = bonds_acc = rings_acc = None
    reference = None
    largest = 0.0
    chunk: list[Atoms] = []
    pending = []
    n_frames = 0
    worker = ThreadPoolExecutor(1)

    def process(frames: list[Atoms]) -> None:
        batch, volumes = prepare_batch(frames)
        if rdf_acc is not None:
            rdf_acc.add(batch, volumes)
        if bonds_acc is not None:
            bonds_acc.add(batch)
        if rings_acc is not None:
            rings_acc.add(batch)

    try:
        for index, frame in enumerate(stream):
            if reference is None:
                check_frame(0, frame, None)
                reference = frame
                species = species_order(frame)
                codes = species_codes(frame, species)
                r_max = default_r_max(frame, settings.r_max_A) if rdf_bins else 0.0
                cutoffs = cutoff.matrix(species) if cutoff is not None else None
                largest = max(r_max, float(cutoffs.max()) if cutoffs is not None else 0.0)
                if rdf_bins:
                    rdf_acc = RdfAccumulator(species, codes, r_max, rdf_bins)
                if bond_kinds:
                    r_bond = float(cutoffs.max())
                    if "altbc" in bond_kinds:
                        check_altbc_options(settings.altbc_angle_min_deg, settings.altbc_r_min_A, r_bond)
                    bonds_acc = BondAccumulator(
                        species,
                        codes,
                        cutoffs,
                        angle_bins=settings.angle_bins if "adf" in bond_kinds else None,
                        altbc_angle_min_deg=settings.altbc_angle_min_deg if "altbc" in bond_kinds else None,
                        altbc_r_min_A=settings.altbc_r_min_A,
                        altbc_bins=altbc_bins(settings.altbc_r_min_A, r_bond, settings.altbc_bin_width_A),
                    )
                if "rings" in wanted:
                    workers = min(2, len(os.sched_getaffinity(0))) if len(frame) < 2000 else 1
                    rings_acc = RingAccumulator(
                        species, codes, cutoffs, settings.ring_max_size, settings.ring_criterion, workers=workers
                    )
                per_batch = max(1, settings.atoms_per_batch // len(frame))
            check_frame(index, frame, reference, largest)
            chunk.append(frame)
            n_frames += 1
            if len(chunk) == per_batch:
                pending.append(worker.submit(process, chunk))
                chunk = []
                if len(pending) >= 2:
                    pending.pop(0).result()
        if reference is None:
            raise PhasefireError("no frames given; pass at least one periodic structure")
        if chunk:
            pending.append(worker.submit(process, chunk))
        for future in pending:
            future.result()
    except BaseException:
        if rings_acc is not None:
            rings_acc.close()
        raise
    finally:
        worker.shutdown(wait=True, cancel_futures=True)

    results: dict[str, object] = {}
    for name in wanted:
        if name == "rdf":
            results[name] = rdf_acc.result(settings.rdf_bins)
        elif name == "sq":
            q = np.arange(0.3, settings.q_max_inv_A + 1e-9, 0.01)
            results[name] = xray_structure_factor(rdf_acc.result(settings.sq_bins), q=q, lorch=settings.lorch)
        elif name == "cn":
            results[name] = coordination_from(bonds_acc, source)
        elif name == "adf":
            results[name] = angles_from(bonds_acc)
        elif name == "altbc":
            results[name] = altbc_from(bonds_acc)
        elif name == "rings":
            results[name] = rings_acc.result()
    return results
