"""Benchmark: the 4-hour forward-bias rectification run on 1,000 cells (target <= 10 s), against scipy's
own stiff integrators on the same semi-discretisation.

``bordered-BDF`` (the model's default) is scipy's BDF with the Newton systems solved exactly through a
sparse Poisson border.  References, measured in the same run: ``solve_ivp(method="BDF")`` and
``solve_ivp(method="Radau")`` on the same right-hand side with its exact (finite-difference, dense)
Jacobian, which is dense because the Poisson solve couples every cell.  A reference that runs past
``--reference-limit-s`` is stopped; its time so far is then a lower bound (printed with ">").  Wall
times depend on the machine's load; the CPU time of the model run is printed beside them.  Run from the repository root: ``python benchmarks/bench_rectification.py [--grid 1000]
[--hours 4] [--bias 4] [--repeats 2]``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from phasefire.models.rectification import RectificationParameters, simulate  # noqa: E402


class _Stop(Exception):
    pass


def _timed_reference(method: str, args, params, limit_s: float) -> tuple[float, float, str]:
    """(wall s for the whole run or its extrapolation, simulated fraction reached, note)."""
    reached = [0.0]
    start = time.perf_counter()

    def progress(fraction: float) -> None:
        reached[0] = fraction
        if time.perf_counter() - start > limit_s:
            raise _Stop

    try:
        result = simulate(args.bias, args.hours, args.grid, params, snapshots=2, method=method, progress=progress)
    except _Stop:
        wall = time.perf_counter() - start
        return wall, reached[0], f"stopped at {100 * reached[0]:.1f}% of the simulated time: a lower bound"
    wall = time.perf_counter() - start
    note = f"complete; migration length {result.migration_length_um:.4f} µm, nfev {result.stats['nfev']}, njev {result.stats['njev']}"
    return wall, 1.0, note


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--bias", type=float, default=4.0, help="V/µm")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--reference-limit-s", type=float, default=120.0, help="stop a reference after this wall time")
    args = parser.parse_args()
    params = RectificationParameters()

    timings, cpu, result = [], [], None
    for _ in range(args.repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = simulate(args.bias, args.hours, args.grid, params, snapshots=2)
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    best = min(timings)
    print(
        f"bordered-BDF: {args.bias:+g} V/µm, {args.hours:g} h, {args.grid} cells ({result.stats['unknowns']} unknowns): "
        f"best of {args.repeats} = {best:.2f} s wall, {min(cpu):.2f} s CPU (all wall: {', '.join(f'{t:.2f}' for t in timings)}); "
        f"nfev {result.stats['nfev']}, njev {result.stats['njev']}, nlu {result.stats['nlu']}; "
        f"migration length {result.migration_length_um:.4f} µm, budget error {result.halide_sites_relative_error:.1e}"
    )
    for method in ("BDF", "Radau"):
        wall, fraction, note = _timed_reference(method, args, params, args.reference_limit_s)
        bound = "" if fraction >= 1.0 else ">"
        print(
            f"scipy solve_ivp {method} (dense exact Jacobian): {bound}{wall:.1f} s ({note}); "
            f"ratio to bordered-BDF {bound}{wall / best:.1f}x"
        )
    return 0 if math.isfinite(best) else 1


if __name__ == "__main__":
    sys.exit(main())
