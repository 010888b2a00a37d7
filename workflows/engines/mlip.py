"""Universal machine-learned potentials as ASE calculators: CHGNet (default) or SevenNet.

Both ship their weights inside their wheels; nothing is downloaded at run time.
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

from phasefire.workflows.engines.base import CalculatorEngine
from phasefire.workflows.errors import PhasefireError

#: model name -> (python distribution, default checkpoint)
MODELS = {"chgnet": ("chgnet", "0.3.0"), "sevennet": ("sevenn", "7net-0")}


@functools.lru_cache(maxsize=4)
def _calculator(model: str, checkpoint: str, device: str) -> Calculator:
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
    return SevenNetCalculator(model=checkpoint, device=device)


class MLIPEngine(CalculatorEngine):
    """A universal potential as an ASE calculator.

    model: 'chgnet' (default) or 'sevennet'; checkpoint: the model's shipped weights (CHGNet
    '0.3.0', SevenNet '7net-0'). mlip_device / mlip_threads come from the worker settings.
    """

    name: ClassVar[str] = "mlip"
    worker_fields: ClassVar[tuple[str, ...]] = ("mlip_device", "mlip_threads")

    model: str = "chgnet"
    checkpoint: str | None = None
    mlip_device: Literal["cpu", "cuda"] = "cpu"
    mlip_threads: int | None = None

    def model_post_init(self, context) -> None:
        if self.model not in MODELS:
            raise PhasefireError(f"unknown MLIP model '{self.model}'; choose one of {', '.join(MODELS)}")

    @property
    def resolved_checkpoint(self) -> str:
        return self.checkpoint or MODELS[self.model][1]

    def calculator(self) -> Calculator:
        if self.mlip_threads:
            import torch

            torch.set_num_threads(int(self.mlip_threads))
        return _calculator(self.model, self.resolved_checkpoint, self.mlip_device)

    def versions(self) -> dict[str, str]:
        versions = {}
        for dist in (MODELS[self.model][0], "torch", "ase"):
            try:
                versions[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                pass
        versions["checkpoint"] = self.resolved_checkpoint
        return versions

    def energies_and_forces(self, images: list[Atoms]) -> tuple[np.ndarray, np.ndarray]:
        """CHGNet predicts same-size images in batches (all at once on cuda; one by one on cpu,
        where batching 5 images of 143 atoms measured 2-3x slower); SevenNet image by image."""
        if self.model != "chgnet":
            return super().energies_and_forces(images)
        from pymatgen.io.ase import AseAtomsAdaptor

        structures = [AseAtomsAdaptor.get_structure(image) for image in images]
        batch_size = len(images) if self.mlip_device == "cuda" else 1
        predictions = self.calculator().model.predict_structure(structures, task="ef", batch_size=batch_size)
        if isinstance(predictions, dict):
            predictions = [predictions]
        energies = np.array([p["e"] * len(image) for p, image in zip(predictions, images)], dtype=float)
        return energies, np.array([p["f"] for p in predictions], dtype=float)
