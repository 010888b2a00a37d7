"""The relaxation campaign (the README's main job): one structure from each paper relaxed with
the Ag2Se paper's force criterion, compared with the cited experimental cells."""

from __future__ import annotations

from typing import Any

from ase import Atoms
from fireworks import Workflow

from phasefire.workflows.documents import structure_summary
from phasefire.workflows.makers import CalculationMaker, calculation_workflow

#: one structure from each paper
CAMPAIGN = ("ag2se-alpha", "cspbbr3-cubic", "sb2se3-pnma")


def campaign_structures() -> dict[str, Atoms]:
    from phasefire.structures import build

    return {name: build(name) for name in CAMPAIGN}


def campaign_workflow(
    structures: dict[str, Atoms], engine_spec: dict[str, Any], fmax_eV_per_A: float, name: str
) -> Workflow:
    """Relax every structure (positions and cell, symmetry kept) to ``fmax_eV_per_A`` (eV/Å)."""
    maker = CalculationMaker("relax", {"fmax_eV_per_A": fmax_eV_per_A})
    return calculation_workflow(structures, engine_spec, maker, name=name)


def campaign_rows(documents: list[dict[str, Any]], structures: dict[str, Atoms]) -> list[dict[str, Any]]:
    """One row per relaxation: relaxed vs cited cell (Å), volume change (%), space group before
    -> after, energy per atom (eV), final max force (eV/Å); sorted by structure."""
    rows = []
    for document in sorted((d for d in documents if d["task_type"] == "relax"), key=lambda d: d["label"]):
        label = document["label"]
        reference = structure_summary(structures[label])
        relaxed = document["output"]["lattice"]
        rows.append({
            "structure": label,
            "formula": document["formula_pretty"],
            "task_id": document["task_id"],
            **{f"{axis}_A": relaxed[f"{axis}_A"] for axis in "abc"},
            **{f"{axis}_reference_A": reference[f"{axis}_A"] for axis in "abc"},
            "volume_change_percent": 100 * (relaxed["volume_A3"] / reference["volume_A3"] - 1),
            "space_group": f"{reference['space_group']} -> {relaxed['space_group']}",
            "energy_per_atom_eV": document["output"]["energy_per_atom_eV"],
            "max_force_eV_per_A": document["output"]["max_force_eV_per_A"],
            "converged": document["converged"],
        })  # fmt: skip
    return rows
