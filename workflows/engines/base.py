"""Engines supply primitives; calculation types own the physics.

``Engine`` is what a workflow stores (its *spec*: name and parameters, no machine settings)
and what a worker rebuilds with this machine's settings. Two kinds:

- ``CalculatorEngine`` (CHGNet, SevenNet, GPAW, any ASE calculator) hands out an ASE
  calculator; every calculation type's ASE driver then runs on it.
- VASP (``engines.vasp``) hands out, per calculation type, an input set, a custodian handler
  group and a parser.

``Engine.run(calculation, inputs, workdir, settings)`` is the one entry point the generic
Firetask calls; nothing branches on an engine's name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from pydantic import BaseModel, ConfigDict, ValidationError

from phasefire.workflows.calculations.base import Calculation, Settings, validation_message
from phasefire.workflows.errors import PhasefireError


class Engine(BaseModel, ABC):
    """A way to run calculations. Fields are parameters (stored in specs) or worker settings."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: ClassVar[str]
    #: fields that come from the worker's settings (launchpad.yaml ``worker:``), never from specs
    worker_fields: ClassVar[tuple[str, ...]] = ()
    #: volumetric outputs a static calculation can ask of this engine ('elf', 'charge_density', ...)
    volumetric_outputs: ClassVar[frozenset[str]] = frozenset()
    #: whether calculations run through their ASE drivers on this engine's calculator
    runs_ase_drivers: ClassVar[bool] = False

    def __init__(self, **parameters: Any) -> None:
        try:
            super().__init__(**parameters)
        except ValidationError as exc:
            raise PhasefireError(validation_message(exc, f"engine '{type(self).name}'")) from None

    @classmethod
    def parameter_names(cls) -> list[str]:
        return [name for name in cls.model_fields if name not in cls.worker_fields]

    @classmethod
    def from_spec(cls, params: dict[str, Any], worker_env: dict[str, Any]) -> Engine:
        unknown = set(params) - set(cls.parameter_names())
        if unknown:
            raise PhasefireError(
                f"engine '{cls.name}' has no parameter {', '.join(sorted(unknown))}; "
                f"valid ones: {', '.join(cls.parameter_names())}"
            )
        worker = {key: worker_env[key] for key in cls.worker_fields if worker_env.get(key) is not None}
        return cls(**params, **worker)

    def spec(self) -> dict[str, Any]:
        """JSON-able description stored in workflows and task documents (no machine settings)."""
        return {"name": self.name, **self.model_dump(mode="json", exclude=set(self.worker_fields))}

    @abstractmethod
    def versions(self) -> dict[str, str]:
        """Versions of the codes this engine runs (for provenance)."""

    @abstractmethod
    def run(self, calculation: Calculation, inputs: Any, workdir: Path, settings: Settings) -> Any:
        """Run ``calculation`` on ``inputs`` in ``workdir`` and return its result."""

    def check(self, calculation: Calculation, settings: Settings) -> None:
        """Refuse at submit time what this engine cannot run (default: the calculation's own check)."""
        calculation.check(self, settings)

    def local_problems(self, worker_env: dict[str, Any], elements: set[str]) -> list[str]:
        """What would stop this engine on this machine (codes, pseudopotentials), one line each;
        at submit time these are warnings, as the work may run elsewhere (default: none)."""
        return []

    def check_inputs(self, atoms: Atoms) -> None:  # noqa: B027 (optional hook)
        """Refuse at submit time parameters that do not fit this structure (default: none)."""

    def evaluates_forces(self) -> bool:
        """Whether ``energies_and_forces`` works (phonons, Vineyard prefactors)."""
        return False

    def energies_and_forces(self, images: list[Atoms]) -> tuple[np.ndarray, np.ndarray]:
        """Total energies (eV) and forces (eV/Å) of same-size images."""
        raise PhasefireError(f"engine {self.name} cannot evaluate forces directly; use an ASE-calculator engine (mlip)")


class CalculatorEngine(Engine):
    """An engine that is an ASE calculator: every calculation type's ASE driver runs on it."""

    runs_ase_drivers: ClassVar[bool] = True

    def check(self, calculation: Calculation, settings: Settings) -> None:
        if not calculation.has_ase_driver:
            raise PhasefireError(
                f"{calculation.task_type} calculations need an electronic-structure recipe: engine {self.name} "
                "cannot run them; use --engine vasp"
            )
        super().check(calculation, settings)

    @abstractmethod
    def calculator(self) -> Calculator:
        """The ASE calculator (loaded once per process where loading is costly)."""

    def run(self, calculation: Calculation, inputs: Any, workdir: Path, settings: Settings) -> Any:
        return calculation.run_with_calculator(self, inputs, Path(workdir), settings)

    def evaluates_forces(self) -> bool:
        return True

    def energies_and_forces(self, images: list[Atoms]) -> tuple[np.ndarray, np.ndarray]:
        calculator = self.calculator()
        energies, forces = [], []
        for image in images:
            calculator.calculate(image, ["energy", "forces"])
            energies.append(calculator.results["energy"])
            forces.append(calculator.results["forces"])
        return np.array(energies, dtype=float), np.array(forces, dtype=float)

    def write_volumetric(self, atoms: Atoms, outputs: set[str], workdir: Path) -> dict[str, str]:
        """Write the requested volumetric outputs of the calculator's last run; return file names."""
        if outputs:
            raise PhasefireError(f"engine {self.name} cannot write {', '.join(sorted(outputs))}")
        return {}
