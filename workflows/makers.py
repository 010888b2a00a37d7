"""Makers: one calculation of a type as a Firework (atomate2-style), and the simplest workflow,
one independent calculation per labelled structure (relax, static).

Settings follow quacc's recipe style: the type's documented defaults (``calculations``)
merged with the user's overrides, validated here, at submit time, not on the cluster.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ase import Atoms
from fireworks import Firework, Workflow

from phasefire.workflows.calculations import get_calculation
from phasefire.workflows.calculations.base import Settings
from phasefire.workflows.documents import structure_dict
from phasefire.workflows.engines import load_engine
from phasefire.workflows.naming import safe_slug
from phasefire.workflows.tasks import FW_ID_FLAG, CalculationTask
from phasefire.workflows.worker import RUNS_DIR_VARIABLE


@dataclass
class CalculationMaker:
    """Make Fireworks of one calculation type with one set of settings.

    task_type: relax, static, md or neb; overrides: settings on top of the type's defaults
    (checked now); name: the Firework name's prefix (default: the task type).
    """

    task_type: str
    overrides: dict[str, Any] = field(default_factory=dict)
    name: str | None = None

    def __post_init__(self) -> None:
        self.calculation = get_calculation(self.task_type)
        self.settings: Settings = self.calculation.settings(self.overrides)

    def check_engine(self, engine_spec: dict[str, Any]) -> None:
        """Refuse now what the engine cannot run with these settings (a VASP recipe missing, ELF on an MLIP)."""
        load_engine(engine_spec).check(self.calculation, self.settings)

    def task(self, label: str, engine_spec: dict[str, Any], workflow: str, **params: Any) -> CalculationTask:
        settings = self.settings.model_dump(mode="json")
        return CalculationTask(
            task_type=self.task_type, engine=engine_spec, label=label, settings=settings, workflow=workflow, **params
        )

    def make(
        self,
        label: str,
        engine_spec: dict[str, Any],
        workflow: str,
        folder: str,
        *,
        atoms: Atoms | None = None,
        parents: list[Firework] | None = None,
        spec: dict[str, Any] | None = None,
        **params: Any,
    ) -> Firework:
        """A Firework running this calculation on ``atoms`` (or on what its parents publish) in
        ``$PHASEFIRE_RUNS_DIR/<folder>`` (``folder`` must already be made of safe slugs)."""
        if atoms is not None:
            params["structure"] = structure_dict(atoms)
        return Firework(
            [self.task(label, engine_spec, workflow, **params)],
            name=f"{self.name or self.task_type} {label}",
            parents=parents or None,
            spec={"_launch_dir": f"${RUNS_DIR_VARIABLE}/{folder}", FW_ID_FLAG: True, **(spec or {})},
        )


def run_folder(workflow_name: str) -> str:
    """A fresh, safe top-level run folder for a workflow: its slug plus a short unique id."""
    return f"{safe_slug(workflow_name.replace('/', '_'))}-{uuid.uuid4().hex[:8]}"


def calculation_workflow(
    structures: dict[str, Atoms], engine_spec: dict[str, Any], maker: CalculationMaker, name: str | None = None
) -> Workflow:
    """One independent calculation per labelled structure; run folders ``<workflow>-<id>/<label slug>``."""
    maker.check_engine(engine_spec)
    engine = load_engine(engine_spec)
    for atoms in structures.values():
        engine.check_inputs(atoms)
    name = name or f"{maker.task_type}/{'+'.join(structures)}/{engine_spec['name']}"
    top = run_folder(name)
    fireworks = [
        maker.make(label, engine_spec, name, f"{top}/{safe_slug(label)}", atoms=atoms)
        for label, atoms in structures.items()
    ]
    return Workflow(fireworks, name=name, metadata={"phasefire": maker.task_type, "engine": engine_spec["name"]})
