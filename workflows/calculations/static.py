"""Static (single-point) calculation: energy, forces and stress of one structure, and on
request the volumetric outputs an electronic-structure engine can write.

write_elf / write_charge_density / write_core_charge map to VASP's LELF, LCHARG and LAECHG
(ELFCAR, CHGCAR, AECCAR0/2 kept in the run folder and referenced from the document). An ASE
calculator engine writes the volumetric outputs it declares (``volumetric_outputs``); asking
an engine for one it cannot produce (an ML potential has no electrons) fails at submit time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from ase import Atoms
from ase.units import GPa

from phasefire.workflows.calculations.base import CalcResult, Settings
from phasefire.workflows.calculations.structures import StructureCalculation, StructureInput, StructureOutput
from phasefire.workflows.documents import TaskDocument
from phasefire.workflows.errors import PhasefireError


class StaticSettings(Settings):
    """write_elf: the electron localization function (VASP LELF -> ELFCAR); write_charge_density:
    the valence density (LCHARG -> CHGCAR); write_core_charge: the all-electron core and valence
    densities for Bader analysis (LAECHG -> AECCAR0/AECCAR2)."""

    write_elf: bool = False
    write_charge_density: bool = False
    write_core_charge: bool = False

    def volumetric_outputs(self) -> set[str]:
        """The requested volumetric outputs: 'elf', 'charge_density', 'core_charge'."""
        names = {
            "elf": self.write_elf,
            "charge_density": self.write_charge_density,
            "core_charge": self.write_core_charge,
        }
        return {name for name, wanted in names.items() if wanted}


class StaticDocument(TaskDocument):
    task_type: Literal["static"] = "static"
    input: StructureInput
    output: StructureOutput

    def summary(self) -> str:
        pressure = self.output.pressure_GPa
        return f"E {self.output.energy_per_atom_eV:.4f} eV/atom, P {'-' if pressure is None else f'{pressure:.3g}'} GPa"


class Static(StructureCalculation):
    task_type = "static"
    settings_type = StaticSettings
    document_type = StaticDocument

    def check(self, engine, settings: StaticSettings) -> None:
        missing = settings.volumetric_outputs() - set(engine.volumetric_outputs)
        if missing:
            raise PhasefireError(
                f"engine {engine.name} cannot write {', '.join(sorted(missing))}; "
                "use an electronic-structure engine (--engine vasp) for volumetric outputs"
            )

    def run_with_calculator(self, engine, inputs: Atoms, workdir: Path, settings: StaticSettings) -> CalcResult:
        self.check(engine, settings)
        atoms = inputs.copy()
        atoms.calc = engine.calculator()
        energy = float(atoms.get_potential_energy())
        forces = np.asarray(atoms.get_forces())
        stress = atoms.get_stress(voigt=False) / GPa if atoms.cell.rank == 3 else None
        files = engine.write_volumetric(atoms, settings.volumetric_outputs(), Path(workdir))
        return CalcResult(atoms, energy, forces, stress, converged=True, n_steps=0, files=files)
