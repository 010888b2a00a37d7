"""Upgrading a store written by phasefire 0.1 (top-level ``workflows`` package, one Firetask
class per calculation) so that its fireworks load and rerun under the current code.

Task documents are upgraded by ``ResultsDB.migrate`` (``documents.upgrade_document``); this
module rewrites the Firetasks inside stored fireworks: ``RelaxTask`` and ``MDStageTask`` become
the generic ``CalculationTask`` (the engine's old ``keep_symmetry`` moves to the relaxation's
settings). phasefire 0.1's NEB tasks have no faithful equivalent (their endpoints travelled in a
different spec layout): their fireworks are left as they are and are reported, to be resubmitted.
"""

from __future__ import annotations

from typing import Any

TASK = "{{phasefire.workflows.tasks.CalculationTask}}"
LEGACY_RELAX = "{{workflows.tasks.RelaxTask}}"
LEGACY_MD = "{{workflows.amorphous.MDStageTask}}"
LEGACY_NEB = ("{{workflows.neb.FinalEndpointTask}}", "{{workflows.neb.NEBTask}}")


def upgrade_task(task: dict[str, Any]) -> dict[str, Any] | None:
    """The current form of one stored Firetask dict, or None when it needs no change."""
    name = task.get("_fw_name")
    if name == LEGACY_RELAX:
        engine = dict(task["engine"])
        settings = dict(task.get("settings") or {})
        if "keep_symmetry" in engine:
            settings["keep_symmetry"] = engine.pop("keep_symmetry")
        upgraded = {
            "_fw_name": TASK,
            "task_type": "relax",
            "engine": engine,
            "label": task["label"],
            "settings": settings,
        }
    elif name == LEGACY_MD:
        engine = {k: v for k, v in task["engine"].items() if k != "keep_symmetry"}
        upgraded = {
            "_fw_name": TASK,
            "task_type": "md",
            "engine": engine,
            "label": task["stage"],
            "settings": task["settings"],
        }
    else:
        return None
    upgraded.update({key: task[key] for key in ("structure", "workflow") if task.get(key) is not None})
    return upgraded


def migrate_fireworks(launchpad) -> dict[str, list[int]]:
    """Rewrite phasefire 0.1 Firetasks in place; return the fw_ids upgraded and those left alone
    (phasefire 0.1 NEB fireworks)."""
    upgraded, left = [], []
    legacy = [LEGACY_RELAX, LEGACY_MD, *LEGACY_NEB]
    for firework in launchpad.fireworks.find({"spec._tasks._fw_name": {"$in": legacy}}, {"fw_id": 1, "spec._tasks": 1}):
        tasks = firework["spec"]["_tasks"]
        new = [upgrade_task(task) or task for task in tasks]
        if any(task.get("_fw_name") in LEGACY_NEB for task in new):
            left.append(firework["fw_id"])
            continue
        launchpad.fireworks.update_one({"fw_id": firework["fw_id"]}, {"$set": {"spec._tasks": new}})
        upgraded.append(firework["fw_id"])
    return {"upgraded": upgraded, "left_for_resubmission": left}
