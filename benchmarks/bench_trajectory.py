"""A whole trajectory through every analysis: phasefire's one streaming pass vs OVITO's pipeline.

Trajectory: --frames frames (default 1,000) of an --atoms-atom (default 300) Sb2Se3 stand-in
(random sequential addition, 0.034 atoms/Å³, each frame rattled by 0.1 Å), written once to
an extended-XYZ file that both codes read (frame by frame; neither holds the trajectory).

  phasefire  analyze_trajectory: g(r) + partials (10 Å, 200 bins), S(q) (g(r) 500 bins),
             CN, ADF (180 bins) and ALTBC at 3.2 Å, rings ≤ 10: one pass, frame means
             (the same pass as ``phasefire analyze all TRAJ``)
  OVITO      FileSource + CoordinationAnalysis (10 Å, 200 bins, partial) + CreateBonds (3.2 Å)
             + BondAngleDistribution (180 bins) + FindRings (≤ 10), computed for every frame
             (OVITO has no ALTBC). Its StructureFactor modifier (Debye, partial) costs ~0.3 s
             per 300-atom frame, so it is timed on the first --sq-frames frames only and
             its total for all frames is extrapolated (and printed as such).

Each is run --repeats times, interleaved; best time printed with the ratio phasefire / OVITO.
Also printed: phasefire's reading alone (ase.io.iread), to show what the analyses add.

Run: python benchmarks/bench_trajectory.py [--frames 1000] [--atoms 300] [--repeats 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ase.io import iread, write  # noqa: E402

from benchmarks._standins import rsa_frame  # noqa: E402
from phasefire.analysis.trajectory import ANALYSES, PassSettings, analyze_trajectory  # noqa: E402


def write_trajectory(path: Path, n_frames: int, n_atoms: int) -> None:
    base = rsa_frame(n_atoms, seed=0)
    frames = []
    for k in range(n_frames):
        frame = base.copy()
        frame.rattle(0.1, seed=k)
        frames.append(frame)
    write(path, frames, format="extxyz")


def phasefire_pass(path: Path):
    return analyze_trajectory(lambda: iread(str(path), index=":"), ANALYSES, PassSettings())


def reading_only(path: Path) -> int:
    return sum(1 for _ in iread(str(path), index=":"))


def ovito_pass(path: Path, structure_factor: bool = False, n_frames: int | None = None):
    """OVITO's pipeline over the file's frames: g(r) + partials, bonds, angles, rings; with
    structure_factor only its S(q) (Debye), over the first n_frames frames."""
    from ovito.io import import_file
    from ovito.modifiers import (
        BondAngleDistributionModifier,
        CoordinationAnalysisModifier,
        CreateBondsModifier,
        FindRingsModifier,
        StructureFactorModifier,
    )

    pipeline = import_file(str(path))
    if structure_factor:
        modifiers = (StructureFactorModifier(k_max=12, k_bins=1170, partial=True),)
    else:
        modifiers = (
            CoordinationAnalysisModifier(cutoff=10.0, number_of_bins=200, partial=True),
            CreateBondsModifier(cutoff=3.2),
            BondAngleDistributionModifier(bins=180),
            FindRingsModifier(maximum_ring_size=10),
        )
    for modifier in modifiers:
        pipeline.modifiers.append(modifier)
    tables = 0
    for frame in range(min(pipeline.source.num_frames, n_frames or pipeline.source.num_frames)):
        tables += len(pipeline.compute(frame).tables)
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--atoms", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sq-frames", type=int, default=10, help="frames for OVITO's S(q) (extrapolated)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        import ovito  # noqa: F401

        has_ovito = True
    except ImportError:
        has_ovito = False
        print("ovito not importable (pip install -e .[bench]): OVITO column reads n/a")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "trajectory.extxyz")
        write_trajectory(path, args.frames, args.atoms)
        phasefire_pass(path)  # warm-up: numba cache load
        contenders = {"phasefire": phasefire_pass, "ASE reading alone": reading_only}
        if has_ovito:
            contenders["OVITO"] = ovito_pass
        times = {name: [] for name in contenders}
        for _ in range(args.repeats):
            for name, function in contenders.items():
                start = time.perf_counter()
                function(path)
                times[name].append(time.perf_counter() - start)
        if has_ovito:
            n_sq = min(args.sq_frames, args.frames)
            start = time.perf_counter()
            ovito_pass(path, structure_factor=True, n_frames=n_sq)
            sq_total = (time.perf_counter() - start) * args.frames / n_sq
    best = {name: min(values) for name, values in times.items()}
    ours = best["phasefire"]
    print(f"{args.frames} frames x {args.atoms} atoms, best of {args.repeats} interleaved runs (s):")
    print(f"  phasefire one pass: g(r) S(q) CN ADF rings ALTBC   {ours:8.2f}")
    print(f"    of which ASE reading alone                       {best['ASE reading alone']:8.2f}")
    if has_ovito:
        print(
            f"  OVITO pipeline: g(r) bonds ADF rings (no S(q))     {best['OVITO']:8.2f}   ratio {ours / best['OVITO']:.2f}"
        )
        full = best["OVITO"] + sq_total
        print(
            f"  OVITO with its S(q), extrapolated from {n_sq} frames  {full:8.2f}   ratio {ours / full:.2f}"
            "  [S(q) part not measured over all frames]"
        )


if __name__ == "__main__":
    main()
