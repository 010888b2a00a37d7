"""How long a ring search will take, said before it starts (``phasefire analyze rings``/``all``).

The shortest-path search (``analysis.rings``) walks, from every atom, every pair of shortest paths
of up to ``max_size // 2`` bonds to a common node, so its work per atom is about the sum over the
nodes v of that neighbourhood of σ(v)², σ(v) the number of shortest paths to v. In a crystal or a
dense network σ grows exponentially with the depth (bcc with 14 neighbours: 10× per two ring
sizes), so ``--max-size 20`` can mean months. This module counts σ by a breadth-first search on the
periodic bond graph from a few atoms (no paths are listed: milliseconds), turns the sum into
seconds with the kernel's measured speed, and, while the search runs, shows that estimate as a
progress bar on a terminal. It calls the ring kernel's public inputs only (the bond graph of
``analysis.cells``), never the kernel itself.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from phasefire.workflows.errors import PhasefireError

#: shortest-path pairs (Σ σ²) the ring kernel walks per second of wall time, order of magnitude only:
#: measured on bcc Fe with --max-size 10 on the shared 2-core development machine, 54 atoms 4.4e7
#: pairs in 39 s and 128 atoms 1.0e8 pairs in 75 s under load (19 s of CPU); measured time grew
#: 7.5x from --max-size 8 to 10 where Σ σ² grows 13x, so larger sizes are overestimated
PAIRS_PER_SECOND = 2.0e6
#: an estimate above this (s per frame) is refused unless --force is given
REFUSE_ABOVE_S = 1800.0
#: an estimate above this (s per frame) is said on stderr before the search starts
ANNOUNCE_ABOVE_S = 10.0
#: roots sampled for the estimate, and the most nodes one breadth-first search may visit
SAMPLE_ROOTS = 3
MAX_NODES = 200_000


@dataclass(frozen=True)
class RingEstimate:
    """pairs[m]: estimated Σ σ² per atom for rings up to m atoms (m = 3..max_size); seconds[m] the same
    as time for one frame of n_atoms; complete: False when the larger sizes are extrapolated."""

    pairs: dict[int, float]
    seconds: dict[int, float]
    n_atoms: int
    complete: bool


def bond_graph(frame, cutoffs: np.ndarray):
    """(indptr, neighbour, image shift) of the frame's bonds (``analysis.cells.bond_graph``)."""
    from phasefire.analysis import cells
    from phasefire.analysis.frames import species_codes, species_order
    from phasefire.analysis.rdf import prepare_batch

    batch, _ = prepare_batch([frame])
    codes = species_codes(frame, species_order(frame))
    indptr, neighbor, shift, _ = cells.bond_graph(batch, np.asarray(codes, dtype=np.int64), cutoffs)
    return indptr, neighbor, shift


def path_pairs(indptr, neighbor, shift, root: int, depth: int, limit: float = np.inf) -> tuple[np.ndarray, bool]:
    """Σ σ(v)² over the nodes v at each distance 0..depth from ``root`` on the periodic graph
    (nodes are (atom, image)), and whether the search went all the way: it stops after MAX_NODES
    nodes or once the running total passes ``limit``."""
    sigma = {(root, 0, 0, 0): 1}
    frontier = [(root, 0, 0, 0)]
    sums = np.zeros(depth + 1)
    sums[0] = 1.0
    seen = 1
    for d in range(1, depth + 1):
        following: dict[tuple, int] = {}
        for node in frontier:
            atom, x, y, z = node
            count = sigma[node]
            for e in range(indptr[atom], indptr[atom + 1]):
                s = shift[e]
                target = (int(neighbor[e]), x + int(s[0]), y + int(s[1]), z + int(s[2]))
                if target in sigma:
                    continue
                following[target] = following.get(target, 0) + count
        sigma.update(following)
        frontier = list(following)
        sums[d] = float(sum(c * c for c in following.values()))
        seen += len(following)
        if seen > MAX_NODES or sums[: d + 1].sum() > limit:
            return sums[: d + 1], False
    return sums, True


def estimate(frame, cutoffs: np.ndarray, max_size: int) -> RingEstimate:
    """Work and time of a shortest-path ring search up to ``max_size`` in one frame (see module doc)."""
    indptr, neighbor, shift = bond_graph(frame, cutoffs)
    n_atoms = len(indptr) - 1
    roots = np.unique(np.linspace(0, n_atoms - 1, min(SAMPLE_ROOTS, n_atoms)).astype(int))
    depth = max_size // 2
    totals = np.zeros(depth + 1)
    complete = True
    limit = 10 * REFUSE_ABOVE_S * PAIRS_PER_SECOND / n_atoms  # far beyond refusal: extrapolate instead
    for root in roots:
        sums, finished = path_pairs(indptr, neighbor, shift, int(root), depth, limit)
        complete &= finished
        totals[: len(sums)] += np.cumsum(sums)
        if not finished:  # the rest grows at least as fast as the last step
            growth = max(sums[-1] / max(sums[-2], 1.0), 1.0) if len(sums) > 1 else 1.0
            for d in range(len(sums), depth + 1):
                totals[d] += totals[d - 1] * growth / len(roots)
    per_atom = totals / len(roots)
    pairs = {m: float(per_atom[m // 2]) for m in range(3, max_size + 1)}
    return RingEstimate(
        pairs=pairs,
        seconds={m: n_atoms * p / PAIRS_PER_SECOND for m, p in pairs.items()},
        n_atoms=n_atoms,
        complete=complete,
    )


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.2g} s"


def check(result: RingEstimate, max_size: int, force: bool) -> float:
    """Refuse a search estimated beyond REFUSE_ABOVE_S per frame (unless ``force``), naming the largest
    --max-size that fits; say a long one on stderr. Returns the estimated seconds per frame."""
    seconds = result.seconds[max_size]
    pairs = f"~{result.pairs[max_size]:.2g} shortest-path pairs per atom{'' if result.complete else ' or more'}"
    if seconds > REFUSE_ABOVE_S and not force:
        fitting = [m for m, s in result.seconds.items() if s <= REFUSE_ABOVE_S]
        smaller = (
            f"use --max-size {max(fitting)} or less (about {_duration(result.seconds[max(fitting)])}), "
            if fitting
            else "use "
        )
        raise PhasefireError(
            f"rings up to {max_size} in this network: {pairs}, about {_duration(seconds)} per frame of "
            f"{result.n_atoms} atoms; {smaller}a shorter --cutoff, or --force to search anyway"
        )
    if seconds > ANNOUNCE_ABOVE_S:
        print(
            f"phasefire: note: rings up to {max_size}: {pairs}, about {_duration(seconds)} per frame of "
            f"{result.n_atoms} atoms (a rough estimate)",
            file=sys.stderr,
        )
    return seconds


@contextmanager
def progress(seconds: float, label: str):
    """A bar on stderr (a terminal only, and only for a search announced by ``check``) advancing over
    the estimated ``seconds`` of one frame while the block runs (the ring kernel releases the GIL, so
    a thread can tick it); past the estimate it stays full and the elapsed time goes on."""
    if not sys.stderr.isatty() or seconds < ANNOUNCE_ABOVE_S:
        yield
        return
    from tqdm import tqdm

    bar = tqdm(total=round(seconds, 1), unit="s", desc=label, file=sys.stderr, leave=False,
               bar_format="{desc}: {percentage:3.0f}% of the estimate for one frame |{bar}| {elapsed}")  # fmt: skip
    stop = threading.Event()

    def tick():
        start = time.monotonic()
        while not stop.wait(0.5):
            bar.n = min(round(time.monotonic() - start, 1), bar.total)
            bar.refresh()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        bar.close()
