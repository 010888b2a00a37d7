"""Benchmark: the compression ladder's pressures through CHGNet as one batch vs one after another.

One energy+forces call per ladder pressure (12 pressures, 0-60 GPa) on Pnma Sb2Se3 supercells
squeezed to roughly each pressure's volume (an isotropic scale; the point is the model's
throughput, not the physics). The anchor is the one-after-another run measured in the same
process; the figure is structures per second and the batched/sequential ratio. On CPU it reports
the CPU figure (CHGNet batches on CPU measured 2-3x slower than one by one at 143 atoms, so the
engine batches only on cuda); ``--device cuda`` measures the GPU. SevenNet has no batched
predictor here (``MLIPEngine.supports_batching``). Run from the repository root:
``python benchmarks/bench_batched_ladder.py [--device cpu|cuda] [--supercell 1x2x1] [--repeats 2]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from phasefire.structures import build  # noqa: E402
from phasefire.structures.catalog import parse_supercell  # noqa: E402
from phasefire.workflows.amorphous import PRESSURES_GPA  # noqa: E402
from phasefire.workflows.engines.mlip import _model_calculator  # noqa: E402


def ladder_structures(supercell: tuple[int, int, int]):
    """One Pnma Sb2Se3 supercell per ladder pressure, volume scaled by 1 - 0.4 P/(P + 20 GPa)."""
    from pymatgen.io.ase import AseAtomsAdaptor

    base = build("sb2se3-pnma", supercell)
    structures = []
    for pressure in PRESSURES_GPA:
        atoms = base.copy()
        atoms.set_cell(atoms.cell * (1 - 0.4 * pressure / (pressure + 20.0)) ** (1 / 3), scale_atoms=True)
        structures.append(AseAtomsAdaptor.get_structure(atoms))
    return structures


def best_time_s(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        function()
        times.append(time.perf_counter() - begin)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--supercell", default="1x2x1")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    structures = ladder_structures(parse_supercell(args.supercell))
    model = _model_calculator("chgnet", "0.3.0", args.device).model
    model.predict_structure(structures[:1], task="ef")  # warm-up
    n = len(structures)
    sequential = best_time_s(lambda: model.predict_structure(structures, task="ef", batch_size=1), args.repeats)
    batched = best_time_s(lambda: model.predict_structure(structures, task="ef", batch_size=n), args.repeats)
    atoms = len(structures[0])
    print(f"CHGNet on {args.device}: {n} ladder pressures x {atoms} atoms (best of {args.repeats})")
    print(f"  one after another (anchor): {sequential:.2f} s, {n / sequential:.2f} structures/s")
    print(f"  one batch of {n}:           {batched:.2f} s, {n / batched:.2f} structures/s")
    print(f"  batched / sequential throughput: {sequential / batched:.2f}x")


if __name__ == "__main__":
    main()
