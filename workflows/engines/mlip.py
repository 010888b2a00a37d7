"""Universal machine-learned potentials as ASE calculators, with an optional D3(BJ) correction.

Models (``model=``), every one shipped inside its wheel (nothing is downloaded at run time):
``chgnet`` (CHGNet 0.3.0, default), ``7net-0``, ``7net-l3i5`` and ``7net-mf-0`` (SevenNet 0.13.0;
mf-0 in its PBE mode). ``sevennet`` (earlier specs) means ``7net-0``.

``dispersion=d3bj`` adds Grimme's D3 with Becke–Johnson damping, PBE parameters (the models are
fitted to PBE(+U) data), from simple-dftd3 (``dftd3.ase.DFTD3``, compiled, CPU) as an ASE
``SumCalculator``: energy, forces and stress are the sums of the model's and D3's.
``phasefire validate models`` measures which choice suits which crystal.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import sys
from typing import ClassVar, Literal

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from pydantic import field_validator

from phasefire.workflows.engines.base import CalculatorEngine
from phasefire.workflows.errors import PhasefireError

#: model name -> (python distribution, default checkpoint, modal of a multi-fidelity model)
MODELS: dict[str, tuple[str, str, str | None]] = {
    "chgnet": ("chgnet", "0.3.0", None),
    "7net-0": ("sevenn", "7net-0", None),
    "7net-l3i5": ("sevenn", "7net-l3i5", None),
    "7net-mf-0": ("sevenn", "7net-mf-0", "PBE"),
}
#: model names of earlier specs -> today's
MODEL_ALIASES = {"sevennet": "7net-0"}
#: dispersion corrections: none, or D3(BJ) with PBE parameters
DISPERSIONS = ("none", "d3bj")
#: the functional whose D3(BJ) parameters are used (the models are fitted to PBE data)
D3_METHOD = "PBE"


def d3bj_calculator() -> Calculator:
    """simple-dftd3's ASE calculator, D3(BJ) with PBE parameters (energy, forces, stress)."""
    try:
        from dftd3.ase import DFTD3
    except ImportError:
        raise PhasefireError(
            "the dftd3 package is not installed; run `pip install dftd3` or use dispersion=none"
        ) from None
    return DFTD3(method=D3_METHOD, damping="d3bj")


@functools.lru_cache(maxsize=8)
def _model_calculator(model: str, checkpoint: str, device: str) -> Calculator:
    """Load a model once per process (CHGNet: ~0.3 s; importing torch dominates).

    CHGNet announces itself on stdout; that goes to stderr so ``--json`` output stays clean.
    """
    if model == "chgnet":
        from chgnet.model import CHGNet
        from chgnet.model.dynamics import CHGNetCalculator

        with contextlib.redirect_stdout(sys.stderr):
            return CHGNetCalculator(CHGNet.load(model_name=checkpoint, verbose=False), use_device=device)
    try:
        from sevenn.calculator import SevenNetCalculator
    except ImportError:
        raise PhasefireError(
            "SevenNet is not installed; run `pip install 'phasefire[sevennet]'` or use --set model=chgnet"
        ) from None
    modal = MODELS[model][2]
    with contextlib.redirect_stdout(sys.stderr):
        return SevenNetCalculator(model=checkpoint, device=device, **({"modal": modal} if modal else {}))


@functools.lru_cache(maxsize=8)
def _calculator(model: str, checkpoint: str, device: str, dispersion: str) -> Calculator:
    """The model's calculator, summed with D3(BJ) when ``dispersion == 'd3bj'``."""
    calculator = _model_calculator(model, checkpoint, device)
    if dispersion == "none":
        return calculator
    from ase.calculators.mixing import SumCalculator

    return SumCalculator([calculator, d3bj_calculator()])


class MLIPEngine(CalculatorEngine):
    """A universal potential as an ASE calculator.

    model: chgnet (default), 7net-0, 7net-l3i5 or 7net-mf-0 ('sevennet' = 7net-0); checkpoint:
    other weights shipped in the model's wheel (CHGNet '0.2.0'); dispersion: 'none' or 'd3bj';
    device: 'cpu' or 'cuda' for this workflow (default: the worker's mlip_device).
    mlip_device / mlip_threads come from the worker settings.
    """

    name: ClassVar[str] = "mlip"
    worker_fields: ClassVar[tuple[str, ...]] = ("mlip_device", "mlip_threads")

    model: str = "chgnet"
    checkpoint: str | None = None
    dispersion: str = "none"
    device: Literal["cpu", "cuda"] | None = None
    mlip_device: Literal["cpu", "cuda"] = "cpu"
    mlip_threads: int | None = None

    @field_validator("model", mode="before")
    @classmethod
    def _current_name(cls, value):
        return MODEL_ALIASES.get(value, value)

    def model_post_init(self, context) -> None:
        if self.model not in MODELS:
            raise PhasefireError(f"unknown MLIP model '{self.model}'; choose one of {', '.join(MODELS)}")
        if self.dispersion not in DISPERSIONS:
            raise PhasefireError(f"unknown dispersion '{self.dispersion}'; choose one of {', '.join(DISPERSIONS)}")

    @property
    def resolved_checkpoint(self) -> str:
        return self.checkpoint or MODELS[self.model][1]

    @property
    def resolved_device(self) -> str:
        return self.device or self.mlip_device

    def calculator(self) -> Calculator:
        if self.mlip_threads:
            import torch

            torch.set_num_threads(int(self.mlip_threads))
        return _calculator(self.model, self.resolved_checkpoint, self.resolved_device, self.dispersion)

    def versions(self) -> dict[str, str]:
        versions = {}
        for dist in (MODELS[self.model][0], "torch", "ase", *(("dftd3",) if self.dispersion != "none" else ())):
            try:
                versions[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                pass
        versions["checkpoint"] = self.resolved_checkpoint
        if MODELS[self.model][2]:
            versions["modal"] = MODELS[self.model][2]
        return versions

    def supports_batching(self) -> bool:
        """Whether ``energies_and_forces`` predicts several images in one model call (CHGNet)."""
        return self.model == "chgnet"

    def energies_and_forces(self, images: list[Atoms]) -> tuple[np.ndarray, np.ndarray]:
        """CHGNet predicts same-size images in batches (all at once on cuda; one by one on cpu,
        where batching 5 images of 143 atoms measured 2-3x slower); SevenNet image by image.
        D3(BJ), when on, is added image by image (0.07 s per 100 atoms on CPU)."""
        if not self.supports_batching():
            return super().energies_and_forces(images)
        from pymatgen.io.ase import AseAtomsAdaptor

        structures = [AseAtomsAdaptor.get_structure(image) for image in images]
        batch_size = len(images) if self.resolved_device == "cuda" else 1
        model = _model_calculator(self.model, self.resolved_checkpoint, self.resolved_device).model
        predictions = model.predict_structure(structures, task="ef", batch_size=batch_size)
        if isinstance(predictions, dict):
            predictions = [predictions]
        energies = np.array([p["e"] * len(image) for p, image in zip(predictions, images)], dtype=float)
        forces = np.array([p["f"] for p in predictions], dtype=float)
        if self.dispersion == "d3bj":
            d3 = d3bj_calculator()
            for k, image in enumerate(images):
                d3.calculate(image, ["energy", "forces"])
                energies[k] += d3.results["energy"]
                forces[k] += d3.results["forces"]
        return energies, forces
