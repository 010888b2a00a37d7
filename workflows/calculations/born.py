"""Born effective charges and dielectric tensors (VASP DFPT ``LEPSILON`` or finite-field ``LCALCEPS``).

Z* needs a band gap: when the ground state is metallic at the chosen level of theory (band gap
below ``metal_gap_eV`` from vasprun's eigenvalues) the document says so (``metallic``) and holds
no charges. The acoustic sum rule Σ_i Z*_i = 0 is checked and, beyond ``asr_tolerance_e``,
enforced (mean tensor subtracted) with a note. ε∞ (electronic, with local fields) always; ε0 =
ε∞ + ionic part when the ions were displaced (``ionic``: VASP IBRION = 8 with LEPSILON, 6 with
LCALCEPS). ML potentials have no electrons: an ASE-calculator engine is refused at submit time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from ase import Atoms
from pydantic import Field

from phasefire.analysis.polarization import ASR_TOLERANCE_E, acoustic_sum_rule, born_charges_array
from phasefire.workflows.calculations.base import CalcResult, Settings, TaskContext
from phasefire.workflows.calculations.structures import (
    StructureCalculation,
    StructureInput,
    StructureOutput,
    structure_document_fields,
    structure_output,
)
from phasefire.workflows.documents import TaskDocument

#: spec entry children receive the Born charges under (``field`` calculations read it)
BORN_SLOT = "born"


class BornSettings(Settings):
    """method: 'dfpt' (VASP LEPSILON) or 'finite_field' (LCALCEPS, where DFPT is unavailable, e.g.
    hybrid functionals); ionic: displace ions for ε0 (IBRION 8 / 6, else -1: ε∞ and Z* only);
    asr_tolerance_e: largest |Σ_i Z*_i| (e) kept as computed; metal_gap_eV: a band gap below this
    (eV) counts as metallic."""

    method: Literal["dfpt", "finite_field"] = "dfpt"
    ionic: bool = True
    asr_tolerance_e: float = Field(ASR_TOLERANCE_E, gt=0)
    metal_gap_eV: float = Field(0.01, ge=0)


@dataclass
class BornResult(CalcResult):
    """A static result with the raw response: born_charges_e (N, 3, 3) or None when VASP printed
    none; dielectric_electronic / dielectric_ionic (3x3); band_gap_eV (None when unknown)."""

    born_charges_e: np.ndarray | None = None
    dielectric_electronic: np.ndarray | None = None
    dielectric_ionic: np.ndarray | None = None
    band_gap_eV: float | None = None
    notes: list[str] = field(default_factory=list)


class BornOutput(StructureOutput):
    """metallic: no gap at this level of theory (then no charges); born_charges_e: Z* per atom
    (e, [atom][field α][displacement β], sum rule enforced when flagged); mean_born_charge_e:
    Tr(Z*)/3 averaged per species; dielectric_electronic: ε∞; dielectric_static: ε0 (None
    without ionic relaxation)."""

    metallic: bool
    band_gap_eV: float | None
    born_charges_e: list[list[list[float]]] | None
    mean_born_charge_e: dict[str, float] | None
    asr_max_violation_e: float | None
    asr_enforced: bool
    dielectric_electronic: list[list[float]] | None
    dielectric_ionic: list[list[float]] | None
    dielectric_static: list[list[float]] | None


class BornDocument(TaskDocument):
    task_type: Literal["born"] = "born"
    input: StructureInput
    output: BornOutput

    def summary(self) -> str:
        out = self.output
        if out.metallic:
            return f"metallic (gap {out.band_gap_eV or 0:.3g} eV): no Born charges"
        charges = ", ".join(f"{k} {v:+.2f}" for k, v in (out.mean_born_charge_e or {}).items())
        eps = np.trace(np.asarray(out.dielectric_electronic)) / 3 if out.dielectric_electronic else float("nan")
        return f"Z* {charges} e; eps_inf {eps:.2f}"


def born_output(result: BornResult, settings: BornSettings, atoms: Atoms) -> tuple[dict[str, Any], list[str]]:
    """The output fields and the notes of a finished Born-charge run."""
    notes = list(result.notes)
    metallic = result.band_gap_eV is not None and result.band_gap_eV < settings.metal_gap_eV
    fields: dict[str, Any] = {**structure_output(result), "metallic": metallic, "band_gap_eV": result.band_gap_eV}
    eps_inf, eps_ion = result.dielectric_electronic, result.dielectric_ionic
    if metallic or result.born_charges_e is None:
        if metallic:
            notes.append(
                f"metallic at this level of theory (band gap {result.band_gap_eV:.3g} eV): Born charges undefined"
            )
        fields |= {"born_charges_e": None, "mean_born_charge_e": None, "asr_max_violation_e": None,
                   "asr_enforced": False, "dielectric_electronic": None, "dielectric_ionic": None,
                   "dielectric_static": None}  # fmt: skip
        return fields, notes
    rule = acoustic_sum_rule(born_charges_array(result.born_charges_e, len(atoms)), settings.asr_tolerance_e)
    if rule.enforced:
        notes.append(
            f"acoustic sum rule violated by {rule.max_violation_e:.3f} e (> {settings.asr_tolerance_e} e): "
            "enforced by subtracting the mean charge tensor; converge k-points/ENCUT to reduce it"
        )
    symbols = np.array(atoms.get_chemical_symbols())
    traces = np.trace(rule.born_charges, axis1=1, axis2=2) / 3
    fields |= {
        "born_charges_e": rule.born_charges.tolist(),
        "mean_born_charge_e": {str(s): float(traces[symbols == s].mean()) for s in dict.fromkeys(symbols)},
        "asr_max_violation_e": rule.max_violation_e,
        "asr_enforced": rule.enforced,
        "dielectric_electronic": None if eps_inf is None else np.asarray(eps_inf).tolist(),
        "dielectric_ionic": None if eps_ion is None else np.asarray(eps_ion).tolist(),
        "dielectric_static": None if eps_inf is None or eps_ion is None else (np.asarray(eps_inf) + eps_ion).tolist(),
    }
    return fields, notes


class BornCharges(StructureCalculation):
    task_type = "born"
    settings_type = BornSettings
    has_ase_driver = False

    def document(self, context: TaskContext, inputs: Atoms, result: BornResult, settings: BornSettings) -> BornDocument:
        fields = structure_document_fields(context, inputs, result, settings)
        output, notes = born_output(result, settings, result.atoms)
        return BornDocument(**fields, output=output, notes=notes)

    def publish(self, document: BornDocument, slot: str | None) -> dict[str, Any]:
        """Children get the structure and, under ``born``, the charges and where they came from."""
        record = {"born_charges_e": document.output.born_charges_e, "task_id": document.task_id}
        return {**super().publish(document, slot), BORN_SLOT: record}
