"""Overhead of the MLIP field wrapper (``FieldCalculator``) against the bare engine, same run.

    python benchmarks/bench_field.py [--repeat 1,1,1] [--relax-steps 10] [--md-steps 10] [--repeats 5] [--threads 1]

Structure: rocksalt NaCl, cubic cell repeated (--repeat; 8 atoms by default), rattled 0.05 Å
(seed 0). Timed (medians of --repeats, alternating bare and wrapped runs so machine load hits
both alike): ``--relax-steps`` BFGS steps (positions, fmax 1e-6 so none stops early) and
``--md-steps`` velocity-Verlet steps (1 fs, 300 K start) on CHGNet (the embedded default),
once with the bare calculator and once wrapped with E = 0.01 V/Å along z and nominal charges.
The anchor is the bare engine in the same run. Target: wrapped / bare ≤ 1.05.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ase import units  # noqa: E402
from ase.build import bulk  # noqa: E402
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution  # noqa: E402
from ase.md.verlet import VelocityVerlet  # noqa: E402
from ase.optimize import BFGS  # noqa: E402

from phasefire.analysis.polarization import nominal_born_charges  # noqa: E402
from phasefire.workflows.engines.field import FieldCalculator  # noqa: E402
from phasefire.workflows.engines.mlip import MLIPEngine  # noqa: E402

TARGET_RATIO = 1.05


def relax(atoms, calculator, steps):
    atoms = atoms.copy()
    atoms.calc = calculator
    BFGS(atoms, logfile=None).run(fmax=1e-6, steps=steps)


def md(atoms, calculator, steps):
    atoms = atoms.copy()
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(0))
    atoms.calc = calculator
    VelocityVerlet(atoms, timestep=1.0 * units.fs).run(steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", default="1,1,1")
    parser.add_argument("--relax-steps", type=int, default=10)
    parser.add_argument("--md-steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on a shared machine)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    atoms = bulk("NaCl", "rocksalt", a=5.64, cubic=True).repeat(tuple(int(x) for x in args.repeat.split(",")))
    atoms.rattle(0.05, seed=0)
    bare = MLIPEngine().calculator()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        born, _ = nominal_born_charges(atoms)
        bare.calculate(atoms, ["energy", "forces", "stress"])  # warm-up (torch first call)
    wrapped = FieldCalculator(bare, born, [0.0, 0.0, 0.01], atoms)
    print(f"{len(atoms)} atoms, CHGNet {MLIPEngine().resolved_checkpoint}, {args.repeats} repeats (medians)")
    ratios = {}
    for name, run, steps in (("relax", relax, args.relax_steps), ("md", md, args.md_steps)):
        times = {"bare": [], "wrapped": []}
        for _ in range(args.repeats):
            for label, calculator in (("bare", bare), ("wrapped", wrapped)):
                calculator.reset()
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    run(atoms, calculator, steps)
                times[label].append(time.perf_counter() - start)
        bare_s, wrapped_s = statistics.median(times["bare"]), statistics.median(times["wrapped"])
        ratios[name] = wrapped_s / bare_s
        print(f"{name:>5}: {steps} steps, bare {bare_s:.3f} s, field-wrapped {wrapped_s:.3f} s, "
              f"ratio {ratios[name]:.3f} (target <= {TARGET_RATIO})")  # fmt: skip
    print("ratio is wrapped / bare engine, both measured in this run")


if __name__ == "__main__":
    main()
