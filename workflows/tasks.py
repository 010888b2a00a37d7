"""FireWorks tasks: each runs one calculation with the engine named in its spec and stores
a task document in the results database."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ase import Atoms
from fireworks import FiretaskBase, FWAction, explicit_serialize
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from phasefire.workflows.config import load_settings
from phasefire.workflows.database import ResultsDB, task_document
from phasefire.workflows.engines import load_engine


def atoms_from_dict(structure: dict[str, Any] | Structure) -> Atoms:
    """Atoms from a Structure dict (FireWorks may already have deserialised it)."""
    if not isinstance(structure, Structure):
        structure = Structure.from_dict(structure)
    return AseAtomsAdaptor.get_atoms(structure)


def atoms_to_dict(atoms: Atoms) -> dict[str, Any]:
    return AseAtomsAdaptor.get_structure(atoms).as_dict()


def results_db(fw_spec: dict[str, Any]) -> ResultsDB:
    """The results database of the LaunchPad this worker runs from."""
    from phasefire.workflows.launchpad import open_launchpad

    path = fw_spec.get("_fw_env", {}).get("launchpad_file")
    return ResultsDB(open_launchpad(load_settings(path)))


def store_calculation(
    fw_spec: dict[str, Any],
    *,
    task_label: str,
    initial: Atoms,
    result,
    engine,
    settings: dict[str, Any],
    workflow: str | None,
    wall_time_s: float,
) -> tuple[int, dict[str, Any]]:
    """Build the task document of a finished calculation run in this folder and store it;
    return (task_id, document)."""
    document = task_document(
        task_label=task_label,
        initial=initial,
        result=result,
        engine=engine,
        settings=settings,
        workflow=workflow,
        run_dir=os.getcwd(),
        wall_time_s=wall_time_s,
    )
    return results_db(fw_spec).insert(document), document


@explicit_serialize
class RelaxTask(FiretaskBase):
    """Relax a structure; children receive the relaxed structure as ``spec['structure']``.

    structure: pymatgen Structure dict; engine: engine spec; label: a short name for the
    structure (e.g. 'cspbbr3-cubic'); settings: fmax_eV_per_A, relax_cell, max_steps;
    workflow: the workflow's name (for queries).
    """

    required_params = ["structure", "engine", "label"]
    optional_params = ["settings", "workflow"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        settings = dict(self.get("settings") or {})
        engine = load_engine(self["engine"], fw_spec.get("_fw_env", {}))
        initial = atoms_from_dict(self["structure"])
        start = time.perf_counter()
        result = engine.relax(initial, Path(os.getcwd()), **settings)
        task_id, document = store_calculation(
            fw_spec,
            task_label=f"relax {self['label']}",
            initial=initial,
            result=result,
            engine=engine,
            settings=settings,
            workflow=self.get("workflow"),
            wall_time_s=time.perf_counter() - start,
        )
        return FWAction(
            stored_data={"task_id": task_id, "energy_per_atom_eV": document["output"]["energy_per_atom_eV"]},
            update_spec={"structure": atoms_to_dict(result.atoms), "parent_task_id": task_id},
        )
