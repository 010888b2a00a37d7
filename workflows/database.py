"""The results database: one task document per finished calculation, in the ``tasks``
collection beside the LaunchPad's collections (same store, embedded or MongoDB).

Documents hold scalars, small structures and file references only; arrays such as
trajectories and volumetric data stay in the run folder (MongoDB's 16 MB document limit).
"""

from __future__ import annotations

import datetime
import importlib.metadata
import re
from typing import Any

import numpy as np
import spglib
from ase import Atoms
from monty.json import jsanitize
from pymatgen.core import Composition
from pymatgen.io.ase import AseAtomsAdaptor
from pymongo import ReturnDocument

from phasefire.workflows.engines.base import CalcResult, Engine

TASKS = "tasks"
COUNTERS = "counters"


def structure_summary(atoms: Atoms) -> dict[str, Any]:
    """Lattice (Å, degrees), volume (Å^3/atom), density (g/cm^3) and spglib space group."""
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


def task_document(
    *,
    task_label: str,
    initial: Atoms,
    result: CalcResult,
    engine: Engine,
    settings: dict[str, Any],
    workflow: str | None,
    run_dir: str,
    wall_time_s: float,
) -> dict[str, Any]:
    """A JSON-able task document for one finished calculation (numpy values made plain)."""
    final = result.atoms
    composition = Composition(final.get_chemical_formula())
    versions = {"phasefire": importlib.metadata.version("phasefire"), **engine.versions()}
    if "vasp_version" in result.extra:
        versions["vasp"] = result.extra["vasp_version"]
    return jsanitize(
        {
            "task_label": task_label,
            "workflow": workflow,
            "formula_pretty": composition.reduced_formula,
            "chemsys": composition.chemical_system,
            "nsites": len(final),
            "input": {
                "structure": AseAtomsAdaptor.get_structure(initial).as_dict(),
                "lattice": structure_summary(initial),
                "settings": settings,
            },
            "output": {
                "structure": AseAtomsAdaptor.get_structure(final).as_dict(),
                "lattice": structure_summary(final),
                "energy_eV": result.energy_eV,
                "energy_per_atom_eV": result.energy_eV / len(final),
                "max_force_eV_per_A": result.max_force_eV_per_A,
                "stress_GPa": None if result.stress_GPa is None else np.asarray(result.stress_GPa).tolist(),
                "pressure_GPa": None if result.stress_GPa is None else float(-np.trace(result.stress_GPa) / 3),
            },
            "converged": result.converged,
            "n_steps": result.n_steps,
            "engine": engine.spec(),
            "versions": versions,
            "wall_time_s": wall_time_s,
            "run_dir": run_dir,
            "files": dict(result.files),
            "extra": result.extra,
            "completed_at": datetime.datetime.now(datetime.UTC).isoformat(),
        }
    )


class ResultsDB:
    """The ``tasks`` collection of a LaunchPad's database."""

    def __init__(self, launchpad) -> None:
        self.launchpad = launchpad
        self.tasks = launchpad.db[TASKS]
        self.counters = launchpad.db[COUNTERS]

    def insert(self, document: dict[str, Any]) -> int:
        """Store a task document and return its new integer ``task_id``."""
        counter = self.counters.find_one_and_update(
            {"_id": "task_id"}, {"$inc": {"next": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        task_id = int(counter["next"])
        self.tasks.insert_one({**document, "task_id": task_id})
        return task_id

    def query(
        self, formula: str | None = None, workflow: str | None = None, task_label: str | None = None
    ) -> list[dict]:
        """Task documents, newest first; ``formula`` matches the reduced formula (CsPbBr3)."""
        criteria: dict[str, Any] = {}
        if formula:
            criteria["formula_pretty"] = Composition(formula).reduced_formula
        if workflow:
            criteria["workflow"] = {"$regex": f"^{re.escape(workflow)}"}
        if task_label:
            criteria["task_label"] = task_label
        documents = list(self.tasks.find(criteria, {"_id": 0}).sort("task_id", -1))
        return documents
