"""The results database: one typed task document per finished calculation, in the ``tasks``
collection beside the LaunchPad's collections (same store, embedded or MongoDB).

Storing is idempotent per firework: a firework whose worker died after its document was
stored but before FireWorks completed the launch finds that document when it is rerun
(``find_by_fw_id``) and reuses it, so one run never leaves two documents.
"""

from __future__ import annotations

import re
from typing import Any

from pymatgen.core import Composition
from pymongo import ReturnDocument

from phasefire.workflows.documents import SCHEMA_VERSION, TaskDocument, upgrade_document

TASKS = "tasks"
COUNTERS = "counters"
#: documents of fireworks rerun on purpose (``phasefire rerun`` of a COMPLETED firework): kept, not queried
SUPERSEDED = "superseded_tasks"


class ResultsDB:
    """The ``tasks`` collection of a LaunchPad's database."""

    def __init__(self, launchpad) -> None:
        self.launchpad = launchpad
        self.tasks = launchpad.db[TASKS]
        self.counters = launchpad.db[COUNTERS]

    def insert(self, document: TaskDocument) -> int:
        """Store a task document (giving it a new integer ``task_id``) and return the id; a
        document already stored for the same firework is kept and its id returned."""
        if document.fw_id is not None:
            existing = self.tasks.find_one({"fw_id": document.fw_id}, {"task_id": 1})
            if existing:
                return int(existing["task_id"])
        payload = document.model_dump(mode="json")  # fails before an id is spent
        counter = self.counters.find_one_and_update(
            {"_id": "task_id"}, {"$inc": {"next": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        document.task_id = payload["task_id"] = int(counter["next"])
        self.tasks.insert_one(payload)
        return document.task_id

    def find_by_fw_id(self, fw_id: int) -> dict[str, Any] | None:
        """The document a firework already stored (a rerun after a kill reuses it), or None."""
        document = self.tasks.find_one({"fw_id": fw_id}, {"_id": 0})
        return None if document is None else upgrade_document(document)

    def supersede(self, fw_ids: list[int], reason: str = "rerun") -> list[int]:
        """Move the documents of ``fw_ids`` from ``tasks`` to ``superseded_tasks`` (kept whole, with
        ``superseded_at`` and ``superseded_reason``), so a deliberate rerun computes afresh instead of
        reusing them (``find_by_fw_id``) and queries show only the new result; return their task ids.
        Safe to repeat after an interruption: the copy is keyed by task_id, then the original goes."""
        import datetime

        moved = []
        for document in list(self.tasks.find({"fw_id": {"$in": [int(i) for i in fw_ids]}})):
            copy = {key: value for key, value in document.items() if key != "_id"}
            copy.update(superseded_at=datetime.datetime.now(datetime.UTC).isoformat(), superseded_reason=reason)
            self.launchpad.db[SUPERSEDED].replace_one({"task_id": copy["task_id"]}, copy, upsert=True)
            self.tasks.delete_one({"_id": document["_id"]})
            moved.append(int(copy["task_id"]))
        return moved

    def superseded(self, fw_id: int) -> list[dict[str, Any]]:
        """Documents a firework stored before it was rerun on purpose, oldest first."""
        return list(self.launchpad.db[SUPERSEDED].find({"fw_id": int(fw_id)}, {"_id": 0}).sort("task_id", 1))

    def get(self, task_id: int) -> dict[str, Any] | None:
        document = self.tasks.find_one({"task_id": int(task_id)}, {"_id": 0})
        return None if document is None else upgrade_document(document)

    def update_output(self, task_id: int, fields: dict[str, Any]) -> None:
        """Add fields to a stored document's output (a workflow's post-processing, e.g. transport)."""
        self.tasks.update_one({"task_id": int(task_id)}, {"$set": {f"output.{k}": v for k, v in fields.items()}})

    def query(
        self,
        formula: str | None = None,
        workflow: str | None = None,
        task_type: str | None = None,
        label: str | None = None,
    ) -> list[dict[str, Any]]:
        """Task documents (current schema), newest first. formula: reduced formula (CsPbBr3);
        workflow: name prefix; task_type: relax, static, md, neb; label: exact label."""
        self.migrate()
        criteria: dict[str, Any] = {}
        if formula:
            criteria["formula_pretty"] = Composition(formula).reduced_formula
        if workflow:
            criteria["workflow"] = {"$regex": f"^{re.escape(workflow)}"}
        if task_type:
            criteria["task_type"] = task_type
        if label:
            criteria["label"] = label
        return list(self.tasks.find(criteria, {"_id": 0}).sort("task_id", -1))

    def migrate(self) -> int:
        """Rewrite documents of an older schema in the current one (phasefire 0.1 stores keep
        loading); return how many were rewritten."""
        old = list(self.tasks.find({"schema_version": {"$not": {"$gte": SCHEMA_VERSION}}}))
        for document in old:
            self.tasks.replace_one({"_id": document["_id"]}, upgrade_document(document))
        return len(old)
