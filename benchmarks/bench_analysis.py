"""Timings of the structural analyses against trusted anchors, measured in the same run.

Frames: random-sequential-addition Sb2Se3 stand-ins (0.034 atoms/Å³, 2.3 Å hard core) of
3,000 and 20,000 atoms. Each figure is the median of several calls after one warm-up, the contenders of a
task called in turn so that load from other processes affects them alike.

  neighbour list 3.2 Å     phasefire (vesin, validated)  vs matscipy, vesin
  g(r) + partials to 10 Å  phasefire (200 bins)          vs freud (total + each partial), ASE get_rdf (3k, total only)
  ADF within 3.2 Å         phasefire                     vs matscipy neighbour list + angle_distribution
  ALTBC within 4.0 Å       phasefire (155°)              vs matscipy neighbour list + angle_distribution at 4.0 Å
  CN (3.2 Å), S(q)         phasefire only (scaling)

Run: python benchmarks/bench_analysis.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._standins import rsa_frame  # noqa: E402
from phasefire.analysis.altbc import altbc  # noqa: E402
from phasefire.analysis.angles import bond_angle_distribution  # noqa: E402
from phasefire.analysis.coordination import coordination_numbers  # noqa: E402
from phasefire.analysis.neighbors import neighbor_list  # noqa: E402
from phasefire.analysis.rdf import radial_distribution  # noqa: E402
from phasefire.analysis.structure_factor import xray_structure_factor  # noqa: E402

SIZES = (3000, 20000)


def median_times(functions: dict[str, callable], repeats: int) -> dict[str, float]:
    """Median seconds per function; calls alternate round-robin so that load from other
    processes on the machine hits every contender alike."""
    for function in functions.values():
        function()  # warm-up (imports, vesin/freud initialisation, caches)
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def anchors(atoms, size: int) -> dict[str, dict[str, callable]]:
    """Anchor implementations per task, those importable here."""
    import matscipy.neighbours as matscipy_nl
    from matscipy.angle_distribution import angle_distribution
    from vesin import NeighborList

    tasks: dict[str, dict[str, callable]] = {"neighbour list": {}, "g(r)+partials": {}, "ADF": {}, "ALTBC": {}}
    tasks["neighbour list"]["matscipy"] = lambda: matscipy_nl.neighbour_list("ijdD", atoms, 3.2)
    tasks["neighbour list"]["vesin"] = lambda: NeighborList(cutoff=3.2, full_list=True).compute(
        points=atoms.positions, box=atoms.cell.array, periodic=True, quantities="ijdD"
    )

    def matscipy_angles(cutoff):
        def run():
            i, j, dr = matscipy_nl.neighbour_list("ijD", atoms, cutoff)
            return angle_distribution(i, j, dr, 180)

        return run

    tasks["ADF"]["matscipy"] = matscipy_angles(3.2)
    tasks["ALTBC"]["matscipy angles at 4.0 Å"] = matscipy_angles(4.0)
    try:
        import freud

        box = freud.box.Box.from_matrix(atoms.cell.array.T)
        symbols = np.array(atoms.get_chemical_symbols())
        groups = [atoms.positions[symbols == s] for s in dict.fromkeys(symbols)]

        def freud_rdf():
            results = []
            calculator = freud.density.RDF(bins=200, r_max=10.0)
            results.append(calculator.compute((box, atoms.positions)).rdf)
            for a in range(len(groups)):
                for b in range(a, len(groups)):
                    calculator = freud.density.RDF(bins=200, r_max=10.0)
                    results.append(calculator.compute((box, groups[b]), query_points=groups[a]).rdf)
            return results

        tasks["g(r)+partials"]["freud"] = freud_rdf
    except ImportError:
        print("freud not installed: no g(r) anchor from it (pip install freud-analysis)")
    if size <= 3000:
        from ase.geometry.rdf import get_rdf

        tasks["g(r)+partials"]["ASE get_rdf (total only)"] = lambda: get_rdf(atoms, 10.0, 200)
    return tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    ours: dict[str, dict[int, float]] = {}
    ratios: dict[str, dict[int, float]] = {}
    for size in SIZES:
        atoms = rsa_frame(size)
        rdf = radial_distribution(atoms, r_max=10.0, bins=200)
        phasefire = {
            "neighbour list": lambda: neighbor_list(atoms, 3.2),
            "g(r)+partials": lambda: radial_distribution(atoms, r_max=10.0, bins=200),
            "ADF": lambda: bond_angle_distribution(atoms, cutoff=3.2, bins=180),
            "ALTBC": lambda: altbc(atoms, cutoff=4.0, angle_min=155.0),
            "CN 3.2 Å": lambda: coordination_numbers(atoms, 3.2),
            "S(q) from g(r)": lambda: xray_structure_factor(rdf),
        }
        anchor_tasks = anchors(atoms, size)
        print(f"\n{size} atoms (median of {args.repeats}, seconds)")
        for task, function in phasefire.items():
            measured = median_times({"phasefire": function, **anchor_tasks.get(task, {})}, args.repeats)
            ours.setdefault(task, {})[size] = ours_time = measured.pop("phasefire")
            line = f"  {task:<16} phasefire {ours_time:8.4f}"
            if measured:
                fastest = min(measured, key=measured.get)
                ratios.setdefault(task, {})[size] = ours_time / measured[fastest]
                line += "  | " + ", ".join(f"{name} {t:.4f}" for name, t in measured.items())
                line += f"  | ratio to fastest ({fastest}) {ours_time / measured[fastest]:.2f}x"
            print(line)

    print("\nscaling exponent t ∝ N^k from 3k to 20k atoms (1 = linear):")
    for task, times in ours.items():
        exponent = np.log(times[SIZES[1]] / times[SIZES[0]]) / np.log(SIZES[1] / SIZES[0])
        print(f"  {task:<16} k = {exponent:.2f}")


if __name__ == "__main__":
    main()
