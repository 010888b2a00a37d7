"""Typed task documents: one shared header, one input/output model per calculation type.

Every document in the ``tasks`` collection carries the header below (``task_type`` selects
the model) and holds scalars, small structures and file references only; trajectories,
volumetric data and other arrays stay in the run folder. ``SCHEMA_VERSION`` 2 is this
layout; documents written by phasefire 0.1 (no ``task_type``, routed by ``task_label``
prefixes) are upgraded on read by ``upgrade_document``.
"""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import spglib
from ase import Atoms
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pymatgen.core import Composition
from pymatgen.io.ase import AseAtomsAdaptor

SCHEMA_VERSION = 2


def structure_dict(atoms: Atoms) -> dict[str, Any]:
    """pymatgen Structure dict of ``atoms`` (how structures travel in specs and documents):
    species, positions and cell only; momenta and calculator results stay in trajectory files."""
    bare = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    return AseAtomsAdaptor.get_structure(bare).as_dict()


def structure_summary(atoms: Atoms) -> dict[str, Any]:
    """Lattice (Å, degrees), volume (Å^3, Å^3/atom), density (g/cm^3) and spglib space group."""
    structure = AseAtomsAdaptor.get_structure(atoms)
    lattice = structure.lattice
    dataset = spglib.get_symmetry_dataset((atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers), symprec=1e-3)
    return {
        "a_A": lattice.a,
        "b_A": lattice.b,
        "c_A": lattice.c,
        "alpha_deg": lattice.alpha,
        "beta_deg": lattice.beta,
        "gamma_deg": lattice.gamma,
        "volume_A3": lattice.volume,
        "volume_per_atom_A3": lattice.volume / len(atoms),
        "density_g_cm3": float(structure.density),
        "space_group": None if dataset is None else dataset.international,
        "space_group_number": None if dataset is None else int(dataset.number),
    }


class Lattice(BaseModel):
    a_A: float
    b_A: float
    c_A: float
    alpha_deg: float
    beta_deg: float
    gamma_deg: float
    volume_A3: float
    volume_per_atom_A3: float
    density_g_cm3: float
    space_group: str | None
    space_group_number: int | None


class TaskDocument(BaseModel):
    """The header every task document shares; subclasses add ``input`` and ``output``."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION
    task_id: int | None = None
    task_type: str
    label: str
    fw_id: int | None = None
    launch_id: int | None = None
    workflow: str | None = None
    engine: dict[str, Any]
    versions: dict[str, str]
    wall_time_s: float
    run_dir: str
    created_at: str = Field(default_factory=lambda: datetime.datetime.now(datetime.UTC).isoformat())
    formula_pretty: str
    chemsys: str
    nsites: int
    converged: bool
    n_steps: int
    files: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _plain_values(cls, data: Any) -> Any:
        """numpy values (model outputs are float32) as plain Python, so documents are JSON."""
        return plain(data) if isinstance(data, dict) else data

    def summary(self) -> str:
        """One line of the key result for tables (``db query``)."""
        return ""


def composition_fields(atoms: Atoms) -> dict[str, Any]:
    composition = Composition(atoms.get_chemical_formula())
    return {"formula_pretty": composition.reduced_formula, "chemsys": composition.chemical_system, "nsites": len(atoms)}


def plain(value: Any) -> Any:
    """numpy scalars and arrays as plain Python (documents are JSON)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


#: phasefire 0.1 task-label prefixes -> task types
LEGACY_PREFIXES = {"relax ": "relax", "md ": "md", "neb ": "neb"}
#: MD statistics phasefire 0.1 kept under ``extra``
LEGACY_MD_KEYS = (
    "n_frames", "sample_start_frame", "n_samples", "mean_volume_per_atom_A3", "std_volume_per_atom_A3",
    "mean_density_g_cm3", "mean_pressure_GPa", "std_pressure_GPa", "mean_temperature_K", "std_temperature_K",
    "resumed_from_step", "timestep_fs", "md_steps_per_s",
)  # fmt: skip


def upgrade_document(document: dict[str, Any]) -> dict[str, Any]:
    """A stored document in the current schema: phasefire 0.1 documents (no ``task_type``)
    get their type and label from ``task_label``, ``created_at`` from ``completed_at``, MD
    statistics and NEB transport moved into ``output``; current ones are returned as they are."""
    if document.get("schema_version", 1) >= SCHEMA_VERSION:
        return document
    upgraded = {key: value for key, value in document.items() if key not in ("task_label", "extra", "completed_at")}
    task_label = document.get("task_label", "")
    prefix = next((p for p in LEGACY_PREFIXES if task_label.startswith(p)), None)
    upgraded["task_type"] = LEGACY_PREFIXES[prefix] if prefix else "unknown"
    upgraded["label"] = task_label.removeprefix(prefix or "")
    upgraded["created_at"] = document.get("completed_at", "")
    upgraded["schema_version"] = SCHEMA_VERSION
    output = dict(document.get("output", {}))
    extra = document.get("extra", {}) or {}
    if upgraded["task_type"] == "md":
        output.update({key: extra[key] for key in LEGACY_MD_KEYS if key in extra})
    for key in ("transport", "unconverged_transport"):
        if key in document:
            output[key] = upgraded.pop(key)
    if upgraded["task_type"] in ("relax", "md") and "vasp_version" in extra:
        output["engine_details"] = {"vasp_version": extra["vasp_version"]}
    upgraded["output"] = output
    inputs = dict(document.get("input", {}))
    if "hop" in inputs:  # a NEB's hop record is workflow metadata now
        inputs["metadata"] = {"hop": inputs.pop("hop")}
    upgraded["input"] = inputs
    return upgraded
