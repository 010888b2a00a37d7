"""Typed task documents: every calculation type stored and rendered by `db query`, phasefire 0.1
stores upgraded on read, one document per firework however often it runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

from phasefire.workflows.calculations import NEBResult, TaskContext, get_calculation, parse_document
from phasefire.workflows.calculations.neb import Endpoints, NEBSettings
from phasefire.workflows.cli import main
from phasefire.workflows.database import ResultsDB
from phasefire.workflows.documents import structure_dict
from phasefire.workflows.launchpad import open_launchpad
from phasefire.workflows.makers import CalculationMaker, calculation_workflow
from tests.conftest import run_all

LEGACY = Path(__file__).resolve().parents[1] / "data" / "tasks_v1.json"


def store_neb_document(tmp_path) -> int:
    images = [bulk("Cu", "fcc", a=3.6, cubic=True) for _ in range(3)]
    images[1].positions[0] += 0.3
    result = NEBResult(images, np.array([-10.0, -9.7, -10.0]), converged=True, n_steps=4, max_force_eV_per_A=0.02)
    context = TaskContext(label="cu hop", workflow="neb/test", engine_spec={"name": "mlip"}, versions={},
                          run_dir=str(tmp_path), wall_time_s=1.0, fw_id=None)  # fmt: skip
    endpoints = Endpoints(images[0], images[-1], (-10.0, -10.0), (None, None))
    document = get_calculation("neb").document(context, endpoints, result, NEBSettings())
    return ResultsDB(open_launchpad()).insert(document)


def test_db_query_renders_every_calculation_type(store, capsys, tmp_path):
    assert main(["submit", "relax", "--structure", "cspbbr3-cubic", "--set", "fmax_eV_per_A=0.05"]) == 0
    assert main(["submit", "static", "--structure", "cspbbr3-cubic"]) == 0
    md = CalculationMaker("md", {"temperature_K": 300, "timestep_fs": 2, "steps": 4, "sample_interval": 2})
    open_launchpad().add_wf(
        calculation_workflow({"cspbbr3-2x": bulk("Cu", "fcc", a=3.6, cubic=True)}, {"name": "mlip"}, md)
    )
    assert run_all(store) == 3
    store_neb_document(tmp_path)
    capsys.readouterr()

    assert main(["db", "query", "--json"]) == 0
    documents = json.loads(capsys.readouterr().out)
    assert sorted(d["task_type"] for d in documents) == ["md", "neb", "relax", "static"]
    for document in documents:
        typed = parse_document(document)
        assert typed.schema_version == 2 and typed.created_at and typed.run_dir
        if typed.task_type != "neb":
            assert typed.fw_id is not None and typed.launch_id is not None
    static = next(d for d in documents if d["task_type"] == "static")
    relax = next(d for d in documents if d["task_type"] == "relax")
    # the static run is at the built cell, the relaxation ends near zero pressure
    assert abs(static["output"]["pressure_GPa"]) > abs(relax["output"]["pressure_GPa"])
    assert static["output"]["energy_per_atom_eV"] > relax["output"]["energy_per_atom_eV"]

    assert main(["db", "query"]) == 0
    table = capsys.readouterr().out
    assert "Ea fwd 0.300 eV" in table and "Pm-3m" in table and "frames" in table
    assert main(["db", "query", "--type", "neb", "--json"]) == 0
    assert [d["task_type"] for d in json.loads(capsys.readouterr().out)] == ["neb"]


def test_a_phasefire_01_store_keeps_loading(store, capsys):
    database = ResultsDB(open_launchpad())
    database.tasks.insert_many(json.loads(LEGACY.read_text()))
    assert main(["db", "query"]) == 0
    assert "cspbbr3-cubic" in capsys.readouterr().out
    documents = {d["task_type"]: d for d in database.query()}
    assert set(documents) == {"relax", "md", "neb"}
    assert documents["relax"]["label"] == "cspbbr3-cubic"
    assert documents["md"]["label"] == "compress 0 GPa" and documents["md"]["output"]["n_frames"] == 2
    assert documents["neb"]["output"]["transport"] == {"diffusion_cm2_per_s": 1e-8}
    assert documents["neb"]["output"]["barrier_forward_eV"] == pytest.approx(0.3)
    for document in documents.values():
        assert parse_document(document).schema_version == 2
        assert "task_label" not in document and "extra" not in document
    assert documents["neb"]["input"]["metadata"]["hop"]["species"] == "Cu"
    assert database.migrate() == 0  # rewritten once, in place


def test_a_rerun_firework_reuses_its_stored_document(store):
    workflow = calculation_workflow({"cu": bulk("Cu", "fcc", a=3.6)}, {"name": "mlip"}, CalculationMaker("static", {}))
    launchpad = open_launchpad()
    (fw_id,) = launchpad.add_wf(workflow).values()
    assert run_all(store) == 1
    (first,) = ResultsDB(launchpad).query()
    launchpad.rerun_fw(fw_id)  # as after a worker killed between storing and completing
    assert run_all(store) == 1
    (again,) = ResultsDB(launchpad).query()
    assert again["task_id"] == first["task_id"] and again["fw_id"] == fw_id
    launch = launchpad.launches.find_one({"fw_id": fw_id, "state": "COMPLETED"}, sort=[("launch_id", -1)])
    assert launch["action"]["stored_data"]["task_id"] == first["task_id"]
    assert launch["action"]["update_spec"]["structure"] == first["output"]["structure"]


def test_specs_and_documents_hold_no_long_arrays(store):
    """Velocities and trajectories go to files: no list in a spec, launch or document is longer than
    a few hundred numbers (an MD chain of 32 atoms, whose velocities would be 96 numbers a stage)."""
    start = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    melt = CalculationMaker("md", {"temperature_K": 600, "timestep_fs": 2, "steps": 4, "sample_interval": 2})
    cool = CalculationMaker("md", {"temperature_K": 300, "timestep_fs": 2, "steps": 4, "sample_interval": 2})
    first = melt.make("melt", {"name": "mlip"}, "chain", "chain/melt", atoms=start)
    second = cool.make("cool", {"name": "mlip"}, "chain", "chain/cool", parents=[first])
    from fireworks import Workflow

    launchpad = open_launchpad()
    launchpad.add_wf(Workflow([first, second], name="chain"))
    assert run_all(store) == 2

    def numbers(value) -> int | None:
        """How many numbers a (nested) numeric list holds; None for anything else."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return 1
        if isinstance(value, list):
            counts = [numbers(v) for v in value]
            return None if None in counts else sum(counts)
        return None

    def longest_numeric_list(value) -> int:
        if isinstance(value, dict):
            return max((longest_numeric_list(v) for v in value.values()), default=0)
        if isinstance(value, list):
            return max(numbers(value) or 0, *(longest_numeric_list(v) for v in value), 0)
        return 0

    for collection in (launchpad.fireworks, launchpad.launches, ResultsDB(launchpad).tasks):
        for document in collection.find({}, {"_id": 0}):
            assert longest_numeric_list(document) < 200
    cool_start = parse_document(ResultsDB(launchpad).query(label="cool")[0]).input.structure
    melt_end = parse_document(ResultsDB(launchpad).query(label="melt")[0]).output.structure
    from pymatgen.core import Structure

    assert Structure.from_dict(cool_start).matches(Structure.from_dict(melt_end), ltol=1e-6, stol=1e-6, angle_tol=1e-4)
    assert np.allclose(
        Structure.from_dict(cool_start).cart_coords, Structure.from_dict(melt_end).cart_coords, atol=1e-9
    )
    spec = launchpad.fireworks.find_one({"name": "md cool"})["spec"]
    assert Path(spec["velocities_from"]).name == "md.traj" and structure_dict(start)["lattice"]


def test_phasefire_01_fireworks_are_upgraded_and_run(store):
    """A READY relaxation as phasefire 0.1 stored it (its own RelaxTask, keep_symmetry on the engine)."""
    from phasefire.workflows.migrations import LEGACY_RELAX, migrate_fireworks

    workflow = calculation_workflow({"cu": bulk("Cu", "fcc", a=3.7)}, {"name": "mlip"}, CalculationMaker("relax", {}))
    launchpad = open_launchpad()
    (fw_id,) = launchpad.add_wf(workflow).values()
    legacy_task = {
        "_fw_name": LEGACY_RELAX, "structure": structure_dict(bulk("Cu", "fcc", a=3.7)), "label": "cu",
        "engine": {"name": "mlip", "model": "chgnet", "checkpoint": None, "keep_symmetry": True},
        "settings": {"fmax_eV_per_A": 0.05, "relax_cell": True, "max_steps": 50, "pressure_GPa": 0.0},
        "workflow": workflow.name,
    }  # fmt: skip
    launchpad.fireworks.update_one({"fw_id": fw_id}, {"$set": {"spec._tasks": [legacy_task]}})
    assert migrate_fireworks(launchpad) == {"upgraded": [fw_id], "left_for_resubmission": []}
    assert migrate_fireworks(launchpad) == {"upgraded": [], "left_for_resubmission": []}
    assert run_all(store) == 1
    (document,) = ResultsDB(launchpad).query()
    assert document["task_type"] == "relax" and document["input"]["settings"]["keep_symmetry"] is True
    assert document["engine"]["model"] == "chgnet" and "keep_symmetry" not in document["engine"]
    assert document["output"]["lattice"]["a_A"] == pytest.approx(2.55, abs=0.05)  # fcc Cu primitive cell, CHGNet


def test_opening_a_phasefire_01_store_upgrades_its_fireworks_once(store, monkeypatch):
    import phasefire.workflows.launchpad as launchpad_module
    from phasefire.workflows.migrations import LEGACY_MD, TASK

    launchpad = open_launchpad()
    workflow = calculation_workflow({"cu": bulk("Cu", "fcc", a=3.6)}, {"name": "mlip"}, CalculationMaker("relax", {}))
    (fw_id,) = launchpad.add_wf(workflow).values()
    legacy = {"_fw_name": LEGACY_MD, "engine": {"name": "mlip", "keep_symmetry": True}, "stage": "melt",
              "settings": {"temperature_K": 900.0, "timestep_fs": 2.0, "steps": 4, "sample_interval": 2}}  # fmt: skip
    launchpad.fireworks.update_one({"fw_id": fw_id}, {"$set": {"spec._tasks": [legacy]}})
    launchpad.db[launchpad_module.META].delete_many({})  # as phasefire 0.1 left it: no layout record
    monkeypatch.setattr(launchpad_module, "_OPEN", {})
    reopened = open_launchpad()
    (task,) = reopened.fireworks.find_one({"fw_id": fw_id})["spec"]["_tasks"]
    assert task["_fw_name"] == TASK and task["task_type"] == "md" and task["label"] == "melt"
    assert task["engine"] == {"name": "mlip"}
    assert reopened.db[launchpad_module.META].find_one({"_id": "store"})["version"] == launchpad_module.STORE_VERSION


def test_a_worker_killed_between_storing_and_completing_leaves_one_document(store, capsys):
    """SIGKILL inside the window after the task document is inserted and before FireWorks completes
    the launch; `run --rerun-lost` reuses the stored document instead of storing a second one."""
    import os
    import subprocess
    import sys

    workflow = calculation_workflow({"cu": bulk("Cu", "fcc", a=3.6)}, {"name": "mlip"}, CalculationMaker("static", {}))
    open_launchpad().add_wf(workflow)
    die_after_store = (
        "import os, signal\n"
        "from phasefire.workflows import database\n"
        "insert = database.ResultsDB.insert\n"
        "def insert_then_die(self, document):\n"
        "    insert(self, document)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "database.ResultsDB.insert = insert_then_die\n"
        "from phasefire.workflows.worker import run_worker\n"
        "run_worker()\n"
    )
    worker = subprocess.run([sys.executable, "-c", die_after_store], env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert worker.returncode == -9
    (stored,) = ResultsDB(open_launchpad()).query()
    assert open_launchpad().fireworks.find_one({})["state"] == "RUNNING"  # the launch never completed

    assert main(["run", "--rerun-lost"]) == 0
    (document,) = ResultsDB(open_launchpad()).query()
    assert document["task_id"] == stored["task_id"]
    assert open_launchpad().fireworks.find_one({})["state"] == "COMPLETED"
