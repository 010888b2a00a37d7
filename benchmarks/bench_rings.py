"""Time shortest-path ring statistics (rings <= 10) on amorphous-like stand-ins.

    python benchmarks/bench_rings.py [--with-slow-anchors] [--repeats 5]

Frames: random sequential addition, 3,000 and 20,000 atoms, 0.034 atoms/Å³, 2.3 Å hard
core, 3.2 Å bond cutoff, seed 0. Anchors timed in the same run: matscipy's
ring_statistics (3k always; 20k only with --with-slow-anchors: ~15 s and ~1.6 GB for its
dense N x N distance map) and OVITO's FindRingsModifier when the ovito package is
importable, both as CreateBonds + FindRings (like phasefire's figure, which includes its
bond list) and on pre-built bonds. phasefire and OVITO are timed as the best (and median)
of --repeats runs after a warm-up run that pays the numba compile (reported separately);
the ratios use the best times, and OVITO's ring counts (sizes 4..10) are compared with
phasefire's. Memory is the growth of the peak resident set of a fresh process over one
ring search (after the frame is built and the kernels are loaded; Linux /proc), so it
counts the numba buffers that tracemalloc cannot see.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._standins import rsa_frame  # noqa: E402
from phasefire.analysis.rings import ring_statistics  # noqa: E402

CUTOFF_A = 3.2
MAX_SIZE = 10


def _times(function, repeats):
    """Seconds of repeats calls (after one warm-up call): (best, median)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def _rss_mb(field):
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _memory_probe(n_atoms):
    """Print the peak-RSS growth (MB) of one ring search on an n_atoms frame (Linux)."""
    ring_statistics(rsa_frame(64, seed=1), CUTOFF_A)
    frame = rsa_frame(n_atoms, seed=0)
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
    before = _rss_mb("VmRSS")
    ring_statistics(frame, CUTOFF_A, MAX_SIZE)
    print(_rss_mb("VmHWM") - before)


def _search_memory_mb(n_atoms):
    probe = [sys.executable, __file__, "--memory-probe", str(n_atoms)]
    return float(subprocess.run(probe, capture_output=True, text=True, check=True).stdout.split()[-1])


def _matscipy_seconds(frame):
    from matscipy.rings import ring_statistics as matscipy_rings

    start = time.perf_counter()
    counts = matscipy_rings(frame, CUTOFF_A, maxlength=MAX_SIZE + 2)  # even L finds up to L-1
    return time.perf_counter() - start, np.asarray(counts)[3 : MAX_SIZE + 1]


def _ovito_seconds(frame, repeats):
    """Best and median seconds of OVITO's CreateBonds + FindRings and of FindRings on pre-built
    bonds, by name, and OVITO's ring counts by size; or a reason they were skipped."""
    try:
        from ovito.io.ase import ase_to_ovito
        from ovito.modifiers import CreateBondsModifier, FindRingsModifier
        from ovito.pipeline import Pipeline, StaticSource
    except ImportError:
        return "ovito not importable"
    try:
        data = ase_to_ovito(frame)
        size_attribute = next(
            (name for name in ("maximum_size", "max_size", "maximum_ring_size") if hasattr(FindRingsModifier(), name)),
            None,
        )
        if size_attribute is None:
            return "FindRingsModifier has no known maximum-size attribute"

        def rings():
            modifier = FindRingsModifier()
            setattr(modifier, size_attribute, MAX_SIZE)
            return modifier

        def with_bonds():
            pipeline = Pipeline(source=StaticSource(data=data))
            pipeline.modifiers.append(CreateBondsModifier(cutoff=CUTOFF_A))
            pipeline.modifiers.append(rings())
            pipeline.compute()

        bonded = Pipeline(source=StaticSource(data=data))
        bonded.modifiers.append(CreateBondsModifier(cutoff=CUTOFF_A))
        bonded_data = bonded.compute()

        def on_bonds():
            pipeline = Pipeline(source=StaticSource(data=bonded_data))
            pipeline.modifiers.append(rings())
            return pipeline.compute()

        seconds = {
            "CreateBonds + FindRings": _times(with_bonds, repeats),
            "FindRings on bonds": _times(on_bonds, repeats),
        }
        histogram = on_bonds().tables["ring-size-histogram"].xy()
        return seconds, {int(size): int(count) for size, count in histogram}
    except Exception as error:  # e.g. a Pro feature missing from the free pip package
        return f"OVITO failed: {str(error).splitlines()[0] if str(error) else type(error).__name__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-slow-anchors", action="store_true", help="also time matscipy at 20k atoms")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-probe", type=int, metavar="N_ATOMS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        _memory_probe(args.memory_probe)
        return

    start = time.perf_counter()
    ring_statistics(rsa_frame(64, seed=1), CUTOFF_A)
    print(f"warm-up (numba compile or cache load): {time.perf_counter() - start:.2f} s")

    timings = {}
    for n_atoms in (3_000, 20_000):
        frame = rsa_frame(n_atoms, seed=0)
        ours, ours_median = _times(lambda: ring_statistics(frame, CUTOFF_A, MAX_SIZE), args.repeats)
        stats = ring_statistics(frame, CUTOFF_A, MAX_SIZE)
        memory_mb = _search_memory_mb(n_atoms)
        timings[n_atoms] = ours
        counts = [stats.ring_size_counts[n] for n in range(3, MAX_SIZE + 1)]
        print(f"\n{n_atoms} atoms: phasefire {ours:.3f} s best, {ours_median:.3f} s median of {args.repeats}; "
              f"memory +{memory_mb:.0f} MB")  # fmt: skip
        print(f"  rings 3..{MAX_SIZE}: {[int(c) for c in counts]}")
        anchors = {}
        if n_atoms <= 3_000 or args.with_slow_anchors:
            seconds, theirs = _matscipy_seconds(frame)
            anchors["matscipy"] = seconds
            agree = "agree" if np.array_equal(theirs, counts) else f"DIFFER: {theirs.tolist()}"
            print(f"  matscipy {seconds:.3f} s, counts {agree}")
        ovito = _ovito_seconds(frame, args.repeats)
        if isinstance(ovito, tuple):
            seconds, theirs = ovito
            for name, (best, median) in seconds.items():
                anchors[f"OVITO {name}"] = best
                print(f"  OVITO {name} {best:.3f} s best, {median:.3f} s median")
            differ = {n: c for n, c in theirs.items() if c != stats.ring_size_counts.get(n)}
            print(
                f"  OVITO counts of sizes {min(theirs)}..{max(theirs)} " + (f"DIFFER: {differ}" if differ else "agree")
            )
        else:
            print(f"  OVITO anchor skipped: {ovito}")
        if anchors:
            for name, anchor in anchors.items():
                print(f"  phasefire / {name} = {ours / anchor:.2f}")
    exponent = np.log(timings[20_000] / timings[3_000]) / np.log(20_000 / 3_000)
    print(f"\nscaling exponent 3k -> 20k atoms: {exponent:.2f} (1 = linear)")


if __name__ == "__main__":
    main()
