"""The one generic Firetask: (calculation type, engine spec, settings) -> result -> typed document.

Workflows compose ``CalculationTask``s; the calculation type (``calculations``) owns the
settings, inputs, driver and document, the engine (``engines``) supplies the primitives.
"""

from __future__ import annotations

import importlib.metadata
import os
import time
from pathlib import Path
from typing import Any

from fireworks import FiretaskBase, FWAction, explicit_serialize

from phasefire.workflows.calculations import get_calculation, parse_document
from phasefire.workflows.calculations.base import TaskContext
from phasefire.workflows.config import load_settings
from phasefire.workflows.database import ResultsDB
from phasefire.workflows.engines import load_engine

#: spec flag that makes FireWorks hand each task its fw_id (FireWorks' own mechanism)
FW_ID_FLAG = "_add_launchpad_and_fw_id"


def results_db(fw_spec: dict[str, Any], launchpad=None) -> ResultsDB:
    """The results database of the LaunchPad this worker runs from."""
    from phasefire.workflows.launchpad import open_launchpad

    if launchpad is None:
        launchpad = open_launchpad(load_settings(fw_spec.get("_fw_env", {}).get("launchpad_file")))
    return ResultsDB(launchpad)


def running_launch_id(launchpad, fw_id: int | None) -> int | None:
    """The launch this process is running for ``fw_id`` (the newest RUNNING one in this folder)."""
    if launchpad is None or fw_id is None:
        return None
    launch = launchpad.launches.find_one(
        {"fw_id": fw_id, "state": "RUNNING", "launch_dir": os.getcwd()}, {"launch_id": 1}, sort=[("launch_id", -1)]
    )
    return None if launch is None else int(launch["launch_id"])


@explicit_serialize
class CalculationTask(FiretaskBase):
    """Run one calculation and store its task document; children receive what the type publishes.

    task_type: relax, static, md or neb; engine: engine spec; label: what is calculated (kept
    verbatim in the document); settings: the type's settings; workflow: the workflow's name.
    Inputs: structure (a pymatgen Structure dict), else the spec entry ``structure_from``
    (default 'structure', a parent's result) with ``move_atoms`` ({index: [x, y, z] Å}) applied;
    NEB: the endpoints its parents published. publish_as: the spec entry children receive the
    result under (default: 'structure'); metadata: stored with the inputs (e.g. a hop record).
    """

    required_params = ["task_type", "engine", "label"]
    optional_params = ["settings", "workflow", "structure", "structure_from", "move_atoms", "publish_as", "metadata"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        calculation = get_calculation(self["task_type"])
        settings = calculation.settings(self.get("settings"))
        launchpad = getattr(self, "launchpad", None)
        database = results_db(fw_spec, launchpad)
        fw_id = getattr(self, "fw_id", None)
        stored = database.find_by_fw_id(fw_id) if fw_id is not None else None
        if stored is not None:  # a rerun after the worker died between storing and completing
            document = parse_document(stored)
        else:
            engine = load_engine(self["engine"], fw_spec.get("_fw_env", {}))
            inputs = calculation.inputs(self, fw_spec)
            workdir = Path(os.getcwd())
            begin = time.perf_counter()
            result = engine.run(calculation, inputs, workdir, settings)
            code_versions = {
                k.removesuffix("_version"): str(v) for k, v in result.details.items() if k.endswith("_version")
            }
            context = TaskContext(
                label=self["label"],
                workflow=self.get("workflow"),
                engine_spec=engine.spec(),
                versions={"phasefire": importlib.metadata.version("phasefire"), **engine.versions(), **code_versions},
                run_dir=str(workdir),
                wall_time_s=time.perf_counter() - begin,
                fw_id=fw_id,
                launch_id=running_launch_id(launchpad, fw_id),
                metadata=dict(self.get("metadata") or {}),
            )
            document = calculation.document(context, inputs, result, settings)
            database.insert(document)
        return FWAction(
            stored_data={"task_id": document.task_id, "task_type": document.task_type, "summary": document.summary()},
            update_spec=calculation.publish(document, self.get("publish_as")),
        )
