"""One point of a Berry-phase polarization series (VASP LCALCPOL single point).

The series (non-polar reference, ``n_images`` interpolated images, polar structure) is a
workflow (``workflows.field.berry_workflow``); its last step runs pymatgen's ``Polarization``
over the points' OUTCARs and structures (``analysis.polarization.read_berry_folders``) and adds
the ΔP to the polar point's document (``output.series``). An ML potential has no electrons: an
ASE-calculator engine is refused at submit time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from ase import Atoms
from pydantic import Field

from phasefire.analysis.polarization import E_PER_A2_IN_UC_CM2
from phasefire.workflows.calculations.base import CalcResult, Settings, TaskContext
from phasefire.workflows.calculations.structures import (
    StructureCalculation,
    StructureInput,
    StructureOutput,
    structure_document_fields,
    structure_output,
)
from phasefire.workflows.documents import TaskDocument


class BerrySettings(Settings):
    """n_images: interpolated images between the non-polar and the polar structure (the series
    has n_images + 2 points); point_index: this point's place in the series (0 = non-polar)."""

    n_images: int = Field(8, ge=0)
    point_index: int = Field(0, ge=0)


@dataclass
class BerryResult(CalcResult):
    """A single point with VASP's electronic and ionic dipoles (e·Å, Cartesian)."""

    p_elec_eA: np.ndarray | None = None
    p_ion_eA: np.ndarray | None = None


class BerryOutput(StructureOutput):
    """p_elec_eA / p_ion_eA: VASP's dipoles (e·Å); polarization_uC_cm2: their sum over the cell
    volume, on VASP's branch (µC/cm²); series: the series' ΔP (polar point, added by the workflow)."""

    point_index: int
    p_elec_eA: list[float]
    p_ion_eA: list[float]
    polarization_uC_cm2: list[float]
    series: dict[str, Any] | None = None


class BerryDocument(TaskDocument):
    task_type: Literal["berry"] = "berry"
    input: StructureInput
    output: BerryOutput

    def summary(self) -> str:
        series = self.output.series
        if series:
            return f"dP {series['delta_polarization_norm_uC_cm2']:.2f} uC/cm2 (point {self.output.point_index})"
        return f"point {self.output.point_index}: P {np.round(self.output.polarization_uC_cm2, 2).tolist()} uC/cm2"


class BerryPoint(StructureCalculation):
    task_type = "berry"
    settings_type = BerrySettings
    has_ase_driver = False

    def document(self, context: TaskContext, inputs: Atoms, result: BerryResult, settings: BerrySettings):
        fields = structure_document_fields(context, inputs, result, settings)
        total = (np.asarray(result.p_elec_eA) + np.asarray(result.p_ion_eA)) / result.atoms.get_volume()
        output = {
            **structure_output(result),
            "point_index": settings.point_index,
            "p_elec_eA": list(result.p_elec_eA),
            "p_ion_eA": list(result.p_ion_eA),
            "polarization_uC_cm2": (total * E_PER_A2_IN_UC_CM2).tolist(),
        }
        return BerryDocument(**fields, output=output)
