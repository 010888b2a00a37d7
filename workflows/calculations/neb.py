"""Nudged elastic band between two relaxed endpoints: the band, its barriers and a plot.

ASE driver: ASE's NEB (improved tangent, Henkelman & Jónsson 2000; climbing image, Henkelman
et al. 2000) from an IDPP-interpolated band (Smidstrup et al. 2014), optimised with FIRE. Each
optimiser step evaluates all moving images in one call of the engine's
``energies_and_forces`` (CHGNet predicts them in a batch) instead of ASE's image-by-image loop.
VASP: the image-folder layout under custodian's VaspNEBJob (``engines.vasp``).

Inputs come from two parents in the spec (``neb_initial``, ``neb_final``: structure, total
energy and task id of each relaxed endpoint). A band that did not reach the force criterion
is stored with its numbers under ``unconverged_*`` keys only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from ase.mep import NEB
from ase.optimize import FIRE
from pydantic import BaseModel, Field

from phasefire.analysis.neb import BarrierProfile, barrier_profile, path_coordinate_A
from phasefire.workflows.calculations.base import Calculation, NEBResult, Settings, TaskContext
from phasefire.workflows.calculations.structures import atoms_from_dict
from phasefire.workflows.documents import TaskDocument, composition_fields, structure_dict
from phasefire.workflows.errors import PhasefireError

Evaluate = Callable[[list[Atoms]], tuple[np.ndarray, np.ndarray]]

#: the spec entries holding the relaxed endpoints (published by the endpoint relaxations)
INITIAL_SLOT, FINAL_SLOT = "neb_initial", "neb_final"


class NEBSettings(Settings):
    """n_images: moving images; fmax_eV_per_A: NEB force criterion (eV/Å; VASP EDIFFG < 0);
    max_steps: optimiser steps (VASP NSW); climb: climbing image (VASP: only with the VTST build)."""

    n_images: int = Field(3, ge=1)
    fmax_eV_per_A: float = Field(0.05, gt=0)
    max_steps: int = Field(300, ge=1)
    climb: bool = True


@dataclass
class Endpoints:
    """Relaxed endpoints (same atoms, same order) with their total energies (eV) and task ids."""

    initial: Atoms
    final: Atoms
    energies_eV: tuple[float, float]
    task_ids: tuple[int | None, int | None]


class NEBInput(BaseModel):
    settings: dict[str, Any]
    endpoint_task_ids: list[int | None]
    metadata: dict[str, Any] = Field(default_factory=dict)


class NEBOutput(BaseModel):
    barrier_forward_eV: float | None = None
    barrier_backward_eV: float | None = None
    reaction_energy_eV: float | None = None
    unconverged_barrier_forward_eV: float | None = None
    unconverged_barrier_backward_eV: float | None = None
    unconverged_reaction_energy_eV: float | None = None
    energy_profile: dict[str, Any]
    image_energies_eV: list[float]
    saddle_structure: dict[str, Any]
    max_force_eV_per_A: float
    engine_details: dict[str, Any] = Field(default_factory=dict)
    #: hop rates, diffusivity and mobility when the workflow computes them (vacancy hops)
    transport: dict[str, Any] | None = None
    unconverged_transport: dict[str, Any] | None = None
    #: symmetry-equivalent endpoints: energy difference, structural equivalence, flagged (vacancy hops)
    endpoint_check: dict[str, Any] | None = None


class NEBDocument(TaskDocument):
    task_type: Literal["neb"] = "neb"
    input: NEBInput
    output: NEBOutput

    def summary(self) -> str:
        out = self.output
        if self.converged:
            return f"Ea fwd {out.barrier_forward_eV:.3f} eV, bwd {out.barrier_backward_eV:.3f} eV"
        return f"NOT CONVERGED (Ea fwd {out.unconverged_barrier_forward_eV:.3f} eV)"


def interpolate_images(initial: Atoms, final: Atoms, n_images: int, method: str = "idpp") -> list[Atoms]:
    """``n_images`` + 2 images from initial to final, the middle ones interpolated by ASE
    (image-dependent pair potential by default; minimum image)."""
    if len(initial) != len(final) or initial.get_chemical_symbols() != final.get_chemical_symbols():
        raise PhasefireError("NEB endpoints must hold the same atoms in the same order")
    images = [initial.copy() for _ in range(n_images + 1)] + [final.copy()]
    for image in images:
        image.calc = None
        image.set_constraint()
    NEB(images, method="improvedtangent").interpolate(method, mic=True)
    return images


class BandNEB(NEB):
    """ASE NEB whose moving images are evaluated together by ``evaluate(images) -> (E, F)``."""

    def __init__(self, images: list[Atoms], evaluate: Evaluate, **kwargs) -> None:
        super().__init__(images, allow_shared_calculator=True, **kwargs)
        self.evaluate = evaluate

    def get_forces(self) -> np.ndarray:
        moving = self.images[1:-1]
        energies, forces = self.evaluate(moving)
        for image, energy, force in zip(moving, energies, forces):
            image.calc = SinglePointCalculator(image, energy=float(energy), forces=force)
        return super().get_forces()


def run_band(evaluate: Evaluate, endpoints: Endpoints, workdir: Path, settings: NEBSettings) -> NEBResult:
    """IDPP band, then (climbing-image) NEB with FIRE until the NEB force < fmax_eV_per_A.
    Writes neb.log (optimiser log) and neb.traj (the final band, endpoints included)."""
    workdir = Path(workdir)
    images = interpolate_images(endpoints.initial, endpoints.final, settings.n_images)
    for image, energy in zip((images[0], images[-1]), endpoints.energies_eV):
        image.calc = SinglePointCalculator(image, energy=float(energy), forces=np.zeros((len(image), 3)))
    band = BandNEB(images, evaluate, climb=settings.climb, method="improvedtangent")
    optimizer = FIRE(band, logfile=str(workdir / "neb.log"))
    converged = bool(optimizer.run(fmax=settings.fmax_eV_per_A, steps=settings.max_steps))
    neb_forces = band.get_forces().reshape(-1, 3)  # NEB forces (climbing image included) at the final band
    write(str(workdir / "neb.traj"), images)
    return NEBResult(
        images=[image.copy() for image in images],
        energies_eV=np.array([image.get_potential_energy() for image in images]),
        converged=converged,
        n_steps=int(optimizer.nsteps),
        max_force_eV_per_A=float(np.linalg.norm(neb_forces, axis=1).max()),
        files={"band": "neb.traj", "log": "neb.log"},
        details={"method": "ase-neb-improvedtangent-fire", "climbing_image": settings.climb},
    )


def saddle_at_endpoint(saddle_index: int, n_points: int) -> bool:
    """True when the highest of ``n_points`` band energies is an endpoint: no barrier along the path."""
    return saddle_index in (0, n_points - 1)


def path_notes(profile: BarrierProfile, converged: bool) -> list[str]:
    """Warnings a reader of the barrier must see (one line each)."""
    notes = [] if converged else ["NEB not converged: the barrier is stored under unconverged_* keys only"]
    if saddle_at_endpoint(profile.saddle_index, len(profile.energies_eV)):
        notes.append("the highest image is an endpoint: no barrier along this path (are the endpoints minima?)")
    if (profile.energies_eV[1:-1] < min(profile.energies_eV[0], profile.energies_eV[-1]) - 0.01).any():
        notes.append("an image lies below both endpoints by > 10 meV: the endpoints are not the path's minima")
    return notes


def profile_of(result: NEBResult) -> BarrierProfile:
    return barrier_profile(result.energies_eV, path_coordinate_A(result.images))


class NudgedElasticBand(Calculation):
    task_type = "neb"
    settings_type = NEBSettings

    def inputs(self, task: dict[str, Any], fw_spec: dict[str, Any]) -> Endpoints:
        missing = [slot for slot in (INITIAL_SLOT, FINAL_SLOT) if slot not in fw_spec]
        if missing:
            raise PhasefireError(f"a NEB needs relaxed endpoints from its parents; missing {', '.join(missing)}")
        initial, final = fw_spec[INITIAL_SLOT], fw_spec[FINAL_SLOT]
        return Endpoints(
            atoms_from_dict(initial["structure"]),
            atoms_from_dict(final["structure"]),
            (float(initial["energy_eV"]), float(final["energy_eV"])),
            (initial.get("task_id"), final.get("task_id")),
        )

    def run_with_calculator(self, engine, inputs: Endpoints, workdir: Path, settings: NEBSettings) -> NEBResult:
        return run_band(engine.energies_and_forces, inputs, workdir, settings)

    def document(
        self, context: TaskContext, inputs: Endpoints, result: NEBResult, settings: NEBSettings
    ) -> NEBDocument:
        from phasefire.workflows.reports.neb import plot_profile

        profile = profile_of(result)
        plot = Path(context.run_dir) / "neb.png"
        plot_profile(
            profile, plot, title=f"{context.label} ({context.engine_spec['name']})", converged=result.converged
        )
        profile_dict = profile.as_dict()
        prefix = "" if result.converged else "unconverged_"
        barriers = {f"{prefix}{k}": profile_dict.pop(k) for k in ("barrier_forward_eV", "barrier_backward_eV", "reaction_energy_eV")}  # fmt: skip
        saddle = result.images[profile.saddle_index]
        return NEBDocument(
            label=context.label,
            workflow=context.workflow,
            fw_id=context.fw_id,
            launch_id=context.launch_id,
            engine=context.engine_spec,
            versions=context.versions,
            wall_time_s=context.wall_time_s,
            run_dir=context.run_dir,
            **composition_fields(saddle),
            converged=result.converged,
            n_steps=result.n_steps,
            files={**result.files, "plot": plot.name},
            notes=path_notes(profile, result.converged),
            input={
                "settings": settings.model_dump(),
                "endpoint_task_ids": list(inputs.task_ids),
                "metadata": context.metadata,
            },
            output={
                **barriers,
                "energy_profile": profile_dict,
                "image_energies_eV": [float(e) for e in result.energies_eV],
                "saddle_structure": structure_dict(saddle),
                "max_force_eV_per_A": result.max_force_eV_per_A,
                "engine_details": result.details,
            },
        )

    def publish(self, document: TaskDocument, slot: str | None) -> dict[str, Any]:
        return {slot or "neb_task_id": document.task_id}
