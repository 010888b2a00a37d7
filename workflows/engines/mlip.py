"""Universal machine-learned potentials as ASE calculators: CHGNet (default) or SevenNet.

Both ship their weights inside their wheels; nothing is downloaded at run time.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.constraints import FixSymmetry
from ase.filters import FrechetCellFilter
from ase.io import Trajectory
from ase.optimize import BFGS
from ase.units import GPa

from phasefire.workflows.engines.base import CalcResult, Engine, NEBResult, require_positive
from phasefire.workflows.errors import PhasefireError

#: model name -> (python distribution, default checkpoint)
MODELS = {"chgnet": ("chgnet", "0.3.0"), "sevennet": ("sevenn", "7net-0")}


@functools.lru_cache(maxsize=4)
def _calculator(model: str, checkpoint: str, device: str) -> Calculator:
    """Load a model once per process (CHGNet: ~0.3 s; importing torch dominates).

    CHGNet announces itself on stdout; that goes to stderr so ``--json`` output stays clean.
    """
    if model == "chgnet":
        from chgnet.model import CHGNet
        from chgnet.model.dynamics import CHGNetCalculator

        with contextlib.redirect_stdout(sys.stderr):
            return CHGNetCalculator(CHGNet.load(model_name=checkpoint, verbose=False), use_device=device)
    try:
        from sevenn.calculator import SevenNetCalculator
    except ImportError:
        raise PhasefireError(
            "SevenNet is not installed; run `pip install 'phasefire[sevennet]'` or use --set model=chgnet"
        ) from None
    return SevenNetCalculator(model=checkpoint, device=device)


@dataclass
class MLIPEngine(Engine):
    """An ASE calculator from a universal potential; ASE drives relaxations and MD.

    model: 'chgnet' (default) or 'sevennet'; checkpoint: the model's shipped weights
    (CHGNet '0.3.0', SevenNet '7net-0'). Relaxations use ASE's BFGS with a Frechet cell
    filter and, with keep_symmetry, hold the starting space group (ASE FixSymmetry, symprec
    1e-3) the way VASP symmetrises forces and stress by default (ISYM).
    mlip_device / mlip_threads come from the worker settings.
    """

    name: ClassVar[str] = "mlip"
    worker_fields: ClassVar[tuple[str, ...]] = ("mlip_device", "mlip_threads")

    model: str = "chgnet"
    checkpoint: str | None = None
    keep_symmetry: bool = True
    mlip_device: str = "cpu"
    mlip_threads: int | None = None

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise PhasefireError(f"unknown MLIP model '{self.model}'; choose one of {', '.join(MODELS)}")
        if self.mlip_device not in ("cpu", "cuda"):
            raise PhasefireError(f"mlip_device must be cpu or cuda, got '{self.mlip_device}'")

    @property
    def resolved_checkpoint(self) -> str:
        return self.checkpoint or MODELS[self.model][1]

    def calculator(self) -> Calculator:
        if self.mlip_threads:
            import torch

            torch.set_num_threads(int(self.mlip_threads))
        return _calculator(self.model, self.resolved_checkpoint, self.mlip_device)

    def versions(self) -> dict[str, str]:
        versions = {}
        for dist in (MODELS[self.model][0], "torch", "ase"):
            try:
                versions[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                pass
        versions["checkpoint"] = self.resolved_checkpoint
        return versions

    def relax(
        self,
        atoms: Atoms,
        workdir: Path,
        *,
        fmax_eV_per_A: float = 0.01,
        relax_cell: bool = True,
        max_steps: int = 500,
        pressure_GPa: float = 0.0,
    ) -> CalcResult:
        require_positive("fmax_eV_per_A", fmax_eV_per_A)
        atoms = atoms.copy()
        if self.keep_symmetry:
            atoms.set_constraint(FixSymmetry(atoms, symprec=1e-3))
        atoms.calc = self.calculator()
        target = FrechetCellFilter(atoms, scalar_pressure=pressure_GPa * GPa) if relax_cell else atoms
        trajectory_name = "relax.traj"
        tmp = Path(workdir) / (trajectory_name + ".part")
        with Trajectory(str(tmp), "w", atoms) as trajectory:
            optimizer = BFGS(target, logfile=str(Path(workdir) / "relax.log"))
            optimizer.attach(trajectory.write, interval=1)
            converged = bool(optimizer.run(fmax=fmax_eV_per_A, steps=max_steps))
        os.replace(tmp, Path(workdir) / trajectory_name)
        stress = atoms.get_stress(voigt=False) / GPa if atoms.cell.rank == 3 else None
        atoms.set_constraint()
        return CalcResult(
            atoms=atoms,
            energy_eV=float(atoms.get_potential_energy()),
            forces_eV_per_A=np.asarray(atoms.get_forces()),
            stress_GPa=stress,
            converged=converged,
            n_steps=int(optimizer.nsteps),
            files={"trajectory": trajectory_name},
        )

    def md(self, atoms: Atoms, workdir: Path, **settings) -> CalcResult:
        """Langevin MD (NVT, or full-cell NPT with pressure_GPa) driven by ASE; arguments as
        ``Engine.md``; checkpointed to md.traj / md-state.json (``phasefire.workflows.engines.md``)."""
        from phasefire.workflows.engines.md import langevin_md

        return langevin_md(atoms, self.calculator(), workdir, **settings)

    def energies_and_forces(self, images: list[Atoms]) -> tuple[np.ndarray, np.ndarray]:
        """Total energies (eV) and forces (eV/Å) of same-size images, no stress. CHGNet predicts
        them in batches (all images at once on cuda; one by one on cpu, where batching 5 images of
        143 atoms measured 2-3x slower); other models use the ASE calculator image by image."""
        calculator = self.calculator()
        if self.model == "chgnet":
            from pymatgen.io.ase import AseAtomsAdaptor

            structures = [AseAtomsAdaptor.get_structure(image) for image in images]
            batch_size = len(images) if self.mlip_device == "cuda" else 1
            predictions = calculator.model.predict_structure(structures, task="ef", batch_size=batch_size)
            if isinstance(predictions, dict):
                predictions = [predictions]
            energies = np.array([p["e"] * len(image) for p, image in zip(predictions, images)], dtype=float)
            return energies, np.array([p["f"] for p in predictions], dtype=float)
        energies, forces = [], []
        for image in images:
            calculator.calculate(image, ["energy", "forces"])
            energies.append(calculator.results["energy"])
            forces.append(calculator.results["forces"])
        return np.array(energies, dtype=float), np.array(forces, dtype=float)

    def neb(self, initial: Atoms, final: Atoms, workdir: Path, **settings) -> NEBResult:
        """Climbing-image NEB with ASE and FIRE (``phasefire.workflows.engines.mlip_neb``); arguments as ``Engine.neb``."""
        from phasefire.workflows.engines.mlip_neb import run_neb

        require_positive("fmax_eV_per_A", settings["fmax_eV_per_A"])
        return run_neb(self.energies_and_forces, initial, final, workdir, **settings)
