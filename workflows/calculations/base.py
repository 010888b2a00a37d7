"""What every calculation type shares: typed settings, results, and the type's interface.

A calculation type (relax, static, MD, NEB) is one module holding its settings (a pydantic
model: defaults defined once, units in names, ranges checked when a workflow is submitted),
its driver on an ASE calculator, its output model and the task document built from a result.
Engines supply primitives only (an ASE calculator, or VASP's input set, handler group and
parser per type); ``Engine.run`` hands a calculation to the right primitive.

Settings and documents are pydantic models rather than dataclasses: one declaration gives
the defaults, the type and range checks a user's ``--set`` needs (``relax_cell=maybe`` and
``max_steps=2.5`` are refused, NaN is refused), and JSON for FireWorks and the database.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from ase import Atoms
from pydantic import BaseModel, ConfigDict, ValidationError

from phasefire.workflows.errors import PhasefireError

if TYPE_CHECKING:
    from phasefire.workflows.documents import TaskDocument
    from phasefire.workflows.engines.base import CalculatorEngine


class Settings(BaseModel):
    """Settings of one calculation type: unknown keys, NaN/inf and wrong types are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def validation_message(error: ValidationError, what: str) -> str:
    """One line naming every offending key, what is wrong and the value given."""
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "value"
        if item["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}'")
        else:
            problems.append(f"'{key}': {item['msg'].rstrip('.')} (got {item.get('input')!r})")
    return f"{what}: {'; '.join(problems)}"


def validated(model: type[BaseModel], values: dict[str, Any], what: str) -> Any:
    """``model(**values)``, or a one-line PhasefireError naming the key and the problem."""
    try:
        return model(**values)
    except ValidationError as exc:
        valid = ", ".join(model.model_fields)
        raise PhasefireError(f"{validation_message(exc, what)}; valid keys: {valid}") from None


@dataclass
class CalcResult:
    """A finished single-structure calculation (relax, static, MD).

    atoms: final structure; energy_eV: total energy (eV); forces_eV_per_A: (N, 3);
    stress_GPa: 3x3 stress tensor (GPa, tension positive as in ASE); files: names of output
    files in the run folder (never arrays inline); details: engine-specific scalars (code
    version, k-point mesh) and, for MD, the frame statistics.
    """

    atoms: Atoms
    energy_eV: float
    forces_eV_per_A: np.ndarray
    stress_GPa: np.ndarray | None
    converged: bool
    n_steps: int
    files: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def max_force_eV_per_A(self) -> float:
        forces = self.forces_eV_per_A
        return float(np.linalg.norm(forces, axis=1).max()) if len(forces) else 0.0


@dataclass
class NEBResult:
    """A finished NEB: images (endpoints included, path order), their total energies (eV),
    whether the NEB force criterion was met, the final NEB force (eV/Å) and output files."""

    images: list[Atoms]
    energies_eV: np.ndarray
    converged: bool
    n_steps: int
    max_force_eV_per_A: float
    files: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskContext:
    """What a calculation's document records besides its result (filled by the Firetask)."""

    label: str
    workflow: str | None
    engine_spec: dict[str, Any]
    versions: dict[str, str]
    run_dir: str
    wall_time_s: float
    fw_id: int | None = None
    launch_id: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class Calculation(ABC):
    """A calculation type: settings, inputs from a Firetask, the ASE driver, the document."""

    task_type: ClassVar[str]
    settings_type: ClassVar[type[Settings]]
    #: whether ``run_with_calculator`` exists (False: only engines with a recipe, e.g. DFPT on VASP)
    has_ase_driver: ClassVar[bool] = True

    def settings(self, values: dict[str, Any] | None = None) -> Settings:
        return validated(self.settings_type, dict(values or {}), f"{self.task_type} settings")

    @abstractmethod
    def inputs(self, task: dict[str, Any], fw_spec: dict[str, Any]) -> Any:
        """The calculation's inputs from the Firetask's parameters and the firework spec."""

    def run_with_calculator(self, engine: CalculatorEngine, inputs: Any, workdir: Path, settings: Settings) -> Any:
        """Run on an ASE calculator engine (written once for every such engine); a type without an
        ASE driver (``has_ase_driver`` False) runs only through an engine's recipe."""
        raise PhasefireError(f"engine {engine.name} cannot run {self.task_type} calculations; use --engine vasp")

    @abstractmethod
    def document(self, context: TaskContext, inputs: Any, result: Any, settings: Settings) -> TaskDocument:
        """The typed task document of a finished calculation."""

    def publish(self, document: TaskDocument, slot: str | None) -> dict[str, Any]:
        """What children receive in their spec (default: the final structure)."""
        output = document.output
        if slot:
            record = {"structure": output.structure, "energy_eV": output.energy_eV, "task_id": document.task_id}
            return {slot: record}
        return {"structure": output.structure, "parent_task_id": document.task_id}

    def check(self, engine: Any, settings: Settings) -> None:  # noqa: B027 (optional hook)
        """Refuse, at submit time, a setting this engine cannot honour (default: none)."""
