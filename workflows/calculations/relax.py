"""Relaxation: positions (and the cell) until every force is below a criterion.

ASE driver: BFGS on a Fréchet cell filter (``relax_cell``) under a hydrostatic pressure,
holding the starting space group with ASE's ``FixSymmetry`` (``keep_symmetry``, symprec
1e-3) the way VASP symmetrises forces and stress by default (ISYM). VASP: ISIF 3/2, EDIFFG,
NSW, PSTRESS (``phasefire.workflows.engines.vasp.inputs``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
from ase import Atoms
from ase.constraints import FixSymmetry
from ase.filters import FrechetCellFilter
from ase.io import Trajectory
from ase.optimize import BFGS
from ase.units import GPa
from pydantic import Field

from phasefire.workflows.calculations.base import CalcResult, Settings
from phasefire.workflows.calculations.structures import StructureCalculation, StructureInput, StructureOutput
from phasefire.workflows.documents import TaskDocument


class RelaxSettings(Settings):
    """fmax_eV_per_A: force criterion (the Ag2Se paper: 0.01 eV/Å; VASP EDIFFG < 0);
    relax_cell: the cell too (VASP ISIF 3, else 2); max_steps: optimiser steps (VASP NSW);
    pressure_GPa: hydrostatic pressure on the cell (VASP PSTRESS = 10 x pressure_GPa kBar);
    keep_symmetry: hold the starting space group (ASE FixSymmetry; VASP ISYM stays on, else ISYM = 0)."""

    fmax_eV_per_A: float = Field(0.01, gt=0)
    relax_cell: bool = True
    max_steps: int = Field(300, ge=1)
    pressure_GPa: float = 0.0
    keep_symmetry: bool = True


class RelaxDocument(TaskDocument):
    task_type: Literal["relax"] = "relax"
    input: StructureInput
    output: StructureOutput

    def summary(self) -> str:
        lattice = self.output.lattice
        return (
            f"E {self.output.energy_per_atom_eV:.4f} eV/atom, a/b/c {lattice.a_A:.3f}/{lattice.b_A:.3f}/"
            f"{lattice.c_A:.3f} A, {lattice.space_group}, max F {self.output.max_force_eV_per_A:.3g} eV/A"
        )


def relax_with_calculator(atoms: Atoms, calculator, workdir: Path, settings: RelaxSettings) -> CalcResult:
    """BFGS (with a Fréchet cell filter when ``relax_cell``) until max force < fmax; writes
    relax.traj (every step) and relax.log."""
    atoms = atoms.copy()
    if settings.keep_symmetry:
        atoms.set_constraint(FixSymmetry(atoms, symprec=1e-3))
    atoms.calc = calculator
    target = FrechetCellFilter(atoms, scalar_pressure=settings.pressure_GPa * GPa) if settings.relax_cell else atoms
    trajectory_name = "relax.traj"
    partial = Path(workdir) / (trajectory_name + ".part")
    with Trajectory(str(partial), "w", atoms) as trajectory:
        optimizer = BFGS(target, logfile=str(Path(workdir) / "relax.log"))
        optimizer.attach(trajectory.write, interval=1)
        converged = bool(optimizer.run(fmax=settings.fmax_eV_per_A, steps=settings.max_steps))
    os.replace(partial, Path(workdir) / trajectory_name)
    stress = atoms.get_stress(voigt=False) / GPa if atoms.cell.rank == 3 else None
    atoms.set_constraint()
    return CalcResult(
        atoms=atoms,
        energy_eV=float(atoms.get_potential_energy()),
        forces_eV_per_A=np.asarray(atoms.get_forces()),
        stress_GPa=stress,
        converged=converged,
        n_steps=int(optimizer.nsteps),
        files={"trajectory": trajectory_name, "log": "relax.log"},
    )


class Relax(StructureCalculation):
    task_type = "relax"
    settings_type = RelaxSettings
    document_type = RelaxDocument

    def run_with_calculator(self, engine, inputs: Atoms, workdir: Path, settings: RelaxSettings) -> CalcResult:
        return relax_with_calculator(inputs, engine.calculator(), workdir, settings)
