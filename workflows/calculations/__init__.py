"""Calculation types: each module owns its settings, ASE driver, output model and document.

Adding a type: a module with a ``Calculation`` subclass (settings, inputs, driver, document),
its entry in ``CALCULATIONS`` and in ``TaskDocumentAny``, and a VASP recipe if VASP should run
it (``engines/vasp/recipes.py``). The generic ``CalculationTask`` and ``db query`` need nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from phasefire.workflows.calculations.base import CalcResult, Calculation, NEBResult, Settings, TaskContext
from phasefire.workflows.calculations.berry import BerryDocument, BerryPoint
from phasefire.workflows.calculations.born import BornCharges, BornDocument
from phasefire.workflows.calculations.field import FieldDocument, FieldRelax
from phasefire.workflows.calculations.md import MDDocument, MolecularDynamics
from phasefire.workflows.calculations.neb import NEBDocument, NudgedElasticBand
from phasefire.workflows.calculations.relax import Relax, RelaxDocument
from phasefire.workflows.calculations.static import Static, StaticDocument
from phasefire.workflows.documents import upgrade_document
from phasefire.workflows.errors import PhasefireError

CALCULATIONS: dict[str, Calculation] = {
    c.task_type: c
    for c in (Relax(), Static(), MolecularDynamics(), NudgedElasticBand(), BornCharges(), BerryPoint(), FieldRelax())
}

TaskDocumentAny = Annotated[
    RelaxDocument | StaticDocument | MDDocument | NEBDocument | BornDocument | BerryDocument | FieldDocument,
    Field(discriminator="task_type"),
]
_DOCUMENT = TypeAdapter(TaskDocumentAny)


def get_calculation(task_type: str) -> Calculation:
    if task_type not in CALCULATIONS:
        raise PhasefireError(f"unknown calculation type '{task_type}'; choose one of {', '.join(CALCULATIONS)}")
    return CALCULATIONS[task_type]


def parse_document(document: dict[str, Any]):
    """The typed model of a stored task document (phasefire 0.1 documents upgraded first)."""
    return _DOCUMENT.validate_python(upgrade_document(document))


__all__ = ["CALCULATIONS", "CalcResult", "Calculation", "NEBResult", "Settings", "TaskContext", "TaskDocumentAny",
           "get_calculation", "parse_document"]  # fmt: skip
