"""The engine interface: Atoms in, a ``CalcResult`` out."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from ase import Atoms

from workflows.errors import PhasefireError


@dataclass
class CalcResult:
    """What a finished calculation hands back.

    atoms: final structure; energy_eV: total energy (eV); forces_eV_per_A: (N, 3);
    stress_GPa: 3x3 stress tensor (GPa, positive = tensile, as ASE/VASP-negated);
    files: names of output files in the run folder (trajectories etc.), never arrays inline.
    """

    atoms: Atoms
    energy_eV: float
    forces_eV_per_A: np.ndarray
    stress_GPa: np.ndarray | None
    converged: bool
    n_steps: int
    files: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def max_force_eV_per_A(self) -> float:
        return float(np.linalg.norm(self.forces_eV_per_A, axis=1).max()) if len(self.forces_eV_per_A) else 0.0


@dataclass
class Engine(ABC):
    """A way to compute energies and forces and to run the workflows' calculations.

    Subclasses are dataclasses whose fields are their parameters; ``spec()`` stores them in
    workflows, ``from_spec`` rebuilds them on a worker (adding machine settings).
    """

    name: ClassVar[str]
    #: dataclass fields that come from the worker's settings, not from the workflow spec
    worker_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_spec(cls, params: dict[str, Any], worker_env: dict[str, Any]) -> "Engine":
        allowed = {f.name for f in dataclasses.fields(cls)} - set(cls.worker_fields)
        unknown = set(params) - allowed
        if unknown:
            raise PhasefireError(
                f"engine '{cls.name}' has no parameter {', '.join(sorted(unknown))}; "
                f"valid ones: {', '.join(sorted(allowed))}"
            )
        worker = {key: worker_env[key] for key in cls.worker_fields if worker_env.get(key) is not None}
        return cls(**params, **worker)

    def spec(self) -> dict[str, Any]:
        """JSON-able description stored in workflows and task documents (no machine settings)."""
        params = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in self.worker_fields}
        return {"name": self.name, **params}

    @abstractmethod
    def versions(self) -> dict[str, str]:
        """Versions of the codes this engine runs (for provenance)."""

    @abstractmethod
    def relax(
        self,
        atoms: Atoms,
        workdir: Path,
        *,
        fmax_eV_per_A: float,
        relax_cell: bool,
        max_steps: int,
    ) -> CalcResult:
        """Relax positions (and the cell when relax_cell) until max force < fmax_eV_per_A."""


def require_positive(name: str, value: float) -> float:
    if not np.isfinite(value) or value <= 0:
        raise PhasefireError(f"{name} must be a positive number, got {value}")
    return value
