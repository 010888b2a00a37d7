"""Relaxation under a homogeneous electric field: ions (and optionally the cell) relaxed at fixed E.

Three routes, one calculation type:
- MLIP / any ASE-calculator engine: ``engines.field.FieldCalculator`` adds F_i = e·Z*_iᵀ·E (and
  the matching energy and stress) to the engine's calculator; the relaxation driver is the relax
  type's (BFGS, Fréchet cell filter with ``relax_cell``, no symmetry: the field breaks it).
- VASP bulk (``route='bulk'``): EFIELD_PEAD with LCALCPOL (insulators only; the workflow reads the
  gap of a static run first, ``workflows.field``).
- VASP slab (``route='slab'``): a slab with vacuum (built by the workflow), sawtooth EFIELD with
  LDIPOL/IDIPOL = 3 along the slab normal (metals and narrow-gap semiconductors).

Born charges: ``born_charges_e`` in the settings (a ``born`` document found at submit time, or the
user's), else a parent ``born`` calculation's, else nominal oxidation-state charges with a note.
``FieldSettings`` is the library entry point: ``CalculationMaker("field", {"field_V_per_A": 0.01,
"field_direction": [0, 0, 1]})``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from ase import Atoms
from pydantic import BaseModel, Field, field_validator

from phasefire.analysis.polarization import (
    born_charges_array,
    born_polarization_uC_cm2,
    nominal_born_charges,
    species_displacements_pm,
    strain_tensor,
)
from phasefire.workflows.calculations.base import CalcResult, Calculation, Settings, TaskContext
from phasefire.workflows.calculations.born import BORN_SLOT
from phasefire.workflows.calculations.relax import RelaxSettings, relax_with_calculator
from phasefire.workflows.calculations.structures import (
    StructureInput,
    StructureOutput,
    structure_document_fields,
    structure_input,
    structure_output,
)
from phasefire.workflows.documents import TaskDocument
from phasefire.workflows.engines.field import FieldCalculator, field_vector_V_per_A
from phasefire.workflows.errors import PhasefireError


class FieldSettings(Settings):
    """field_V_per_A: signed field strength (V/Å; VASP EFIELD_PEAD / EFIELD in eV/Å are the same
    numbers); field_direction: Cartesian direction (normalised; a slab's field is along its
    normal); route: 'bulk' (VASP PEAD) or 'slab' (VASP sawtooth + dipole correction);
    relax_cell: the cell too (bulk only); fmax_eV_per_A, max_steps: as relax; born_charges_e:
    Z* per atom (e, (N, 3, 3)); born_source: where they came from; min_band_gap_eV: PEAD refuses
    a gap below this (eV)."""

    field_V_per_A: float = 0.01
    field_direction: tuple[float, float, float] = (0.0, 0.0, 1.0)
    route: Literal["bulk", "slab"] = "bulk"
    relax_cell: bool = False
    fmax_eV_per_A: float = Field(0.01, gt=0)
    max_steps: int = Field(300, ge=1)
    born_charges_e: list[list[list[float]]] | None = None
    born_source: str | None = None
    min_band_gap_eV: float = Field(0.1, ge=0)

    @field_validator("field_V_per_A")
    @classmethod
    def _non_zero(cls, value: float) -> float:
        if value == 0:
            raise ValueError("the field must be non-zero (V/Å)")
        return value

    def field_vector(self) -> np.ndarray:
        return field_vector_V_per_A(self.field_V_per_A, self.field_direction)

    def relax_settings(self) -> RelaxSettings:
        return RelaxSettings(fmax_eV_per_A=self.fmax_eV_per_A, relax_cell=self.relax_cell,
                             max_steps=self.max_steps, keep_symmetry=False)  # fmt: skip


@dataclass
class FieldInputs:
    """The starting structure and a parent ``born`` calculation's record, if any."""

    atoms: Atoms
    born_record: dict[str, Any] | None = None


@dataclass
class FieldResult(CalcResult):
    """A relaxation under field plus the field's own energy term (eV, MLIP route)."""

    field_energy_eV: float | None = None


def resolve_born(
    atoms: Atoms, settings: FieldSettings, record: dict[str, Any] | None
) -> tuple[np.ndarray, str, str | None]:
    """(Z*, source, note): the settings' charges, a parent born run's, else nominal ones (warned)."""
    if settings.born_charges_e is not None:
        return born_charges_array(settings.born_charges_e, len(atoms)), settings.born_source or "user", None
    if record and record.get("born_charges_e") is not None:
        return born_charges_array(record["born_charges_e"], len(atoms)), f"born task {record.get('task_id')}", None
    born, charges = nominal_born_charges(atoms)
    text = ", ".join(f"{k} {v:+g}" for k, v in charges.items())
    note = f"no Born charges given or computed: nominal oxidation-state charges used ({text} e)"
    warnings.warn(note, stacklevel=2)
    return born, f"nominal oxidation states ({text})", note


class FieldResponse(BaseModel):
    """field_vector_V_per_A: E (V/Å); displacements_pm: per species, mean |u| and mean u along E
    (pm); induced_polarization_uC_cm2: (e/Ω)ΣZ*·u from the start (µC/cm²); strain: Green-Lagrange
    strain of the relaxed cell (None at fixed cell); field_energy_eV: −ΣZ*E·u (MLIP route)."""

    field_V_per_A: float
    field_vector_V_per_A: list[float]
    route: str
    born_source: str
    displacements_pm: dict[str, dict[str, float]]
    induced_polarization_uC_cm2: list[float]
    induced_polarization_along_field_uC_cm2: float
    strain: list[list[float]] | None
    field_energy_eV: float | None


class FieldOutput(StructureOutput):
    field_response: FieldResponse


class FieldDocument(TaskDocument):
    task_type: Literal["field"] = "field"
    input: StructureInput
    output: FieldOutput

    def summary(self) -> str:
        response = self.output.field_response
        moves = ", ".join(
            f"{k} {v['mean_displacement_along_direction_pm']:+.2f}" for k, v in response.displacements_pm.items()
        )
        return (
            f"E {response.field_V_per_A:+g} V/A: u_parallel {moves} pm, "
            f"dP {response.induced_polarization_along_field_uC_cm2:+.3g} uC/cm2"
        )


def field_response(initial: Atoms, result: CalcResult, settings: FieldSettings, born: np.ndarray, source: str) -> dict:
    """The field-response summary of a finished run (``FieldResponse`` fields)."""
    vector = settings.field_vector()
    polarization = born_polarization_uC_cm2(initial, result.atoms, born)
    return {
        "field_V_per_A": settings.field_V_per_A,
        "field_vector_V_per_A": vector.tolist(),
        "route": settings.route,
        "born_source": source,
        "displacements_pm": species_displacements_pm(initial, result.atoms, settings.field_direction),
        "induced_polarization_uC_cm2": polarization.tolist(),
        "induced_polarization_along_field_uC_cm2": float(polarization @ vector / np.linalg.norm(vector)),
        "strain": strain_tensor(initial, result.atoms).tolist() if settings.relax_cell else None,
        "field_energy_eV": getattr(result, "field_energy_eV", None),
    }


class FieldRelax(Calculation):
    task_type = "field"
    settings_type = FieldSettings

    def check(self, engine, settings: FieldSettings) -> None:
        settings.field_vector()
        if settings.route == "slab" and settings.relax_cell:
            raise PhasefireError("a slab under a sawtooth field keeps its cell: drop relax_cell=true or use route=bulk")
        if settings.born_charges_e is not None:
            born = np.asarray(settings.born_charges_e, dtype=float)
            if born.ndim != 3 or born.shape[1:] != (3, 3):
                raise PhasefireError(f"Born charges must be one 3x3 tensor per atom, got shape {born.shape}")

    def inputs(self, task: dict[str, Any], fw_spec: dict[str, Any]) -> FieldInputs:
        return FieldInputs(structure_input(task, fw_spec), fw_spec.get(BORN_SLOT))

    def run_with_calculator(self, engine, inputs: FieldInputs, workdir: Path, settings: FieldSettings) -> FieldResult:
        self.check(engine, settings)
        born, _, _ = resolve_born(inputs.atoms, settings, inputs.born_record)
        calculator = FieldCalculator(engine.calculator(), born, settings.field_vector(), inputs.atoms)
        result = relax_with_calculator(inputs.atoms, calculator, workdir, settings.relax_settings())
        field_energy = float(calculator.results["field_energy"])
        return FieldResult(**{k: getattr(result, k) for k in result.__dataclass_fields__}, field_energy_eV=field_energy)

    def document(self, context: TaskContext, inputs: FieldInputs, result: CalcResult, settings: FieldSettings):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            born, source, note = resolve_born(inputs.atoms, settings, inputs.born_record)
        fields = structure_document_fields(context, inputs.atoms, result, settings)
        output = {
            **structure_output(result),
            "field_response": field_response(inputs.atoms, result, settings, born, source),
        }
        return FieldDocument(**fields, output=output, notes=[note] if note else [])
