"""What the single-structure calculation types (relax, static, md) share: where the input
structure comes from (its own parameter, or a parent's result in the firework spec, optionally
with atoms moved), the input/output models of their documents, and ``StructureCalculation``."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from ase import Atoms
from ase.io import Trajectory
from pydantic import BaseModel, Field
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from phasefire.workflows.calculations.base import CalcResult, Calculation, Settings, TaskContext
from phasefire.workflows.documents import (
    Lattice,
    TaskDocument,
    composition_fields,
    plain,
    structure_dict,
    structure_summary,
)
from phasefire.workflows.errors import PhasefireError


def atoms_from_dict(structure: dict[str, Any] | Structure) -> Atoms:
    """Atoms from a pymatgen Structure dict (FireWorks may already have deserialised it)."""
    if not isinstance(structure, Structure):
        structure = Structure.from_dict(structure)
    return AseAtomsAdaptor.get_atoms(structure)


def structure_input(task: dict[str, Any], fw_spec: dict[str, Any]) -> Atoms:
    """The task's ``structure``, else the spec entry named by ``structure_from`` (default
    'structure': the parent's result; a record with a 'structure' key is accepted too), with
    ``move_atoms`` ({index: [x, y, z] Å}) applied and, when the parent left one
    (``velocities_from``: a trajectory whose last frame holds the momenta), its velocities."""
    if task.get("structure") is not None:
        return atoms_from_dict(task["structure"])
    slot = task.get("structure_from") or "structure"
    if slot not in fw_spec:
        raise PhasefireError(f"this firework expects '{slot}' from a parent calculation, which did not provide it")
    record = fw_spec[slot]
    atoms = atoms_from_dict(record["structure"] if "structure" in record and "lattice" not in record else record)
    for index, position in (task.get("move_atoms") or {}).items():
        atoms.positions[int(index)] = position
    velocities_from = fw_spec.get("velocities_from") if slot == "structure" else None
    if velocities_from:
        with Trajectory(velocities_from) as trajectory:
            momenta = trajectory[-1].get_momenta()
        if len(momenta) == len(atoms) and np.any(momenta):
            atoms.set_momenta(momenta)
    return atoms


class StructureOutput(BaseModel):
    """Final structure and its energy, forces and stress."""

    structure: dict[str, Any]
    lattice: Lattice
    energy_eV: float
    energy_per_atom_eV: float
    max_force_eV_per_A: float
    stress_GPa: list[list[float]] | None
    pressure_GPa: float | None
    engine_details: dict[str, Any] = Field(default_factory=dict)


class StructureInput(BaseModel):
    structure: dict[str, Any]
    lattice: Lattice
    settings: dict[str, Any]
    metadata: dict[str, Any] = Field(default_factory=dict)


def structure_output(result: CalcResult) -> dict[str, Any]:
    final = result.atoms
    stress = None if result.stress_GPa is None else np.asarray(result.stress_GPa, dtype=float)
    return {
        "structure": structure_dict(final),
        "lattice": structure_summary(final),
        "energy_eV": result.energy_eV,
        "energy_per_atom_eV": result.energy_eV / len(final),
        "max_force_eV_per_A": result.max_force_eV_per_A,
        "stress_GPa": None if stress is None else stress.tolist(),
        "pressure_GPa": None if stress is None else float(-np.trace(stress) / 3),
        "engine_details": plain(result.details),
    }


def structure_document_fields(context: TaskContext, initial: Atoms, result: CalcResult, settings: Settings) -> dict:
    """Header and input fields shared by the single-structure calculation types."""
    return {
        "label": context.label,
        "workflow": context.workflow,
        "fw_id": context.fw_id,
        "launch_id": context.launch_id,
        "engine": context.engine_spec,
        "versions": context.versions,
        "wall_time_s": context.wall_time_s,
        "run_dir": context.run_dir,
        **composition_fields(result.atoms),
        "converged": result.converged,
        "n_steps": result.n_steps,
        "files": dict(result.files),
        "input": {
            "structure": structure_dict(initial),
            "lattice": structure_summary(initial),
            "settings": settings.model_dump(),
            "metadata": context.metadata,
        },
    }


class StructureCalculation(Calculation):
    """A calculation on one structure: inputs from ``structure_input``, a document of type
    ``document_type`` with the shared input model and ``output`` (default: ``structure_output``)."""

    document_type: ClassVar[type[TaskDocument]]

    def inputs(self, task: dict[str, Any], fw_spec: dict[str, Any]) -> Atoms:
        return structure_input(task, fw_spec)

    def output(self, result: CalcResult, settings: Settings, context: TaskContext) -> dict[str, Any]:
        return structure_output(result)

    def document(self, context: TaskContext, inputs: Atoms, result: CalcResult, settings: Settings) -> TaskDocument:
        fields = structure_document_fields(context, inputs, result, settings)
        return self.document_type(**fields, output=self.output(result, settings, context))
