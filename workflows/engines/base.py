"""The engine interface: Atoms in, a ``CalcResult`` out."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from ase import Atoms

from phasefire.workflows.errors import PhasefireError


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
class NEBResult:
    """A finished NEB: images (endpoints included, path order) with their total energies (eV);
    converged: the NEB force criterion was met; max_force_eV_per_A: the final NEB force
    (climbing image included); files: names of output files in the run folder."""

    images: list[Atoms]
    energies_eV: np.ndarray
    converged: bool
    n_steps: int
    max_force_eV_per_A: float
    files: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def interpolate_images(initial: Atoms, final: Atoms, n_images: int, method: str = "idpp") -> list[Atoms]:
    """``n_images`` + 2 images from initial to final, the middle ones interpolated by ASE
    (image-dependent pair potential, Smidstrup et al. 2014, by default; minimum image)."""
    from ase.mep import NEB

    if n_images < 1:
        raise PhasefireError(f"n_images must be at least 1, got {n_images}")
    if len(initial) != len(final) or initial.get_chemical_symbols() != final.get_chemical_symbols():
        raise PhasefireError("NEB endpoints must hold the same atoms in the same order")
    images = [initial.copy() for _ in range(n_images + 1)] + [final.copy()]
    for image in images:
        image.calc = None
        image.set_constraint()
    NEB(images, method="improvedtangent").interpolate(method, mic=True)
    return images


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
    def from_spec(cls, params: dict[str, Any], worker_env: dict[str, Any]) -> Engine:
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
        pressure_GPa: float = 0.0,
    ) -> CalcResult:
        """Relax positions (and the cell when relax_cell) until max force < fmax_eV_per_A,
        the cell under the hydrostatic ``pressure_GPa``."""

    def md(
        self,
        atoms: Atoms,
        workdir: Path,
        *,
        temperature_K: float,
        temperature_end_K: float | None = None,
        pressure_GPa: float | None = None,
        timestep_fs: float,
        steps: int,
        sample_interval: int,
        equilibration_steps: int = 0,
        seed: int = 0,
    ) -> CalcResult:
        """Molecular dynamics: ``steps`` steps of ``timestep_fs`` (fs), the thermostat ramping
        linearly from temperature_K to temperature_end_K (K; default constant), at constant
        volume, or at constant ``pressure_GPa`` (GPa, full cell) when given. A frame every
        ``sample_interval`` steps goes to the trajectory named in ``files['trajectory']``;
        ``extra`` holds means over the frames after ``equilibration_steps``. Rerun in the same
        ``workdir``, a killed run continues from its last frame."""
        raise PhasefireError(f"engine {self.name} cannot run molecular dynamics")

    def neb(
        self,
        initial: Atoms,
        final: Atoms,
        workdir: Path,
        *,
        n_images: int,
        fmax_eV_per_A: float,
        max_steps: int,
        climb: bool,
        endpoint_energies_eV: tuple[float, float] | None = None,
    ) -> NEBResult:
        """Nudged elastic band between relaxed endpoints (same atoms, same order): ``n_images``
        moving images interpolated with IDPP, optimised until the NEB force is below
        fmax_eV_per_A (eV/Å), with a climbing image when ``climb``. endpoint_energies_eV: total
        energies of the relaxed endpoints (eV) when already known."""
        raise PhasefireError(f"engine {self.name} cannot run NEB")


def require_positive(name: str, value: float) -> float:
    if not np.isfinite(value) or value <= 0:
        raise PhasefireError(f"{name} must be a positive number, got {value}")
    return value
