"""Climbing-image NEB with a machine-learned potential, driven by ASE.

ASE's NEB (improved tangent, Henkelman & Jonsson 2000; climbing image, Henkelman et al. 2000)
optimised with FIRE. Each optimiser step evaluates all moving images in one call of the
engine's ``energies_and_forces`` (one shared model; CHGNet's batched prediction), instead of
ASE's image-by-image loop.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from ase.mep import NEB
from ase.optimize import FIRE

from phasefire.workflows.engines.base import NEBResult, interpolate_images

Evaluate = Callable[[list[Atoms]], tuple[np.ndarray, np.ndarray]]


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


def run_neb(
    evaluate: Evaluate,
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
    """IDPP band, then (climbing-image) NEB with FIRE until the NEB force < fmax_eV_per_A (eV/Å).

    Writes neb.log (optimiser log) and neb.traj (the final band, endpoints included).
    """
    workdir = Path(workdir)
    images = interpolate_images(initial, final, n_images)
    ends = [images[0], images[-1]]
    if endpoint_energies_eV is None:
        endpoint_energies_eV = tuple(float(e) for e in evaluate(ends)[0])
    for image, energy in zip(ends, endpoint_energies_eV):
        image.calc = SinglePointCalculator(image, energy=float(energy), forces=np.zeros((len(image), 3)))
    band = BandNEB(images, evaluate, climb=climb, method="improvedtangent")
    optimizer = FIRE(band, logfile=str(workdir / "neb.log"))
    converged = bool(optimizer.run(fmax=fmax_eV_per_A, steps=max_steps))
    neb_forces = band.get_forces().reshape(-1, 3)  # NEB forces (climbing image included) at the final band
    write(str(workdir / "neb.traj"), images)
    energies = np.array([image.get_potential_energy() for image in images])
    return NEBResult(
        images=[image.copy() for image in images],
        energies_eV=energies,
        converged=converged,
        n_steps=int(optimizer.nsteps),
        max_force_eV_per_A=float(np.linalg.norm(neb_forces, axis=1).max()),
        files={"band": "neb.traj", "log": "neb.log"},
        extra={"method": "ase-neb-improvedtangent-fire", "climbing_image": climb},
    )
