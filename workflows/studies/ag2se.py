"""alpha-Ag2Se vacancy hops (Luo et al., Nat. Commun. (2025), doi:10.1038/s41467-025-57057-5):
Ag and Se barriers from the NEB documents and their ratio beside the paper's ~37 (Fig. S21)."""

from __future__ import annotations

from typing import Any

#: the paper's DFT migration barrier of Se / that of Ag+
PAPER_BARRIER_RATIO = 37.0


def migration_barrier(document: dict[str, Any]) -> float | None:
    """max(forward, backward) barrier (eV) of a converged hop: what a long-range walk must cross."""
    if not document["converged"]:
        return None
    output = document["output"]
    return max(output["barrier_forward_eV"], output["barrier_backward_eV"])


def hop(document: dict[str, Any]) -> dict[str, Any]:
    return document["input"]["metadata"]["hop"]


def species_rows(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per NEB document: species, hop, barriers (flagged when not converged), cell."""
    rows = []
    for document in sorted((d for d in documents if d["task_type"] == "neb"), key=lambda d: d["label"]):
        output, record = document["output"], hop(document)
        prefix = "" if document["converged"] else "unconverged_"
        rows.append({
            "species": record["species"], "hop": record["label"], "task_id": document["task_id"],
            "barrier_forward_eV": output[f"{prefix}barrier_forward_eV"],
            "barrier_backward_eV": output[f"{prefix}barrier_backward_eV"],
            "migration_barrier_eV": migration_barrier(document), "converged": document["converged"],
            "supercell": "x".join(str(n) for n in record["supercell"]), "atoms": document["nsites"],
            "wall_time_s": document["wall_time_s"],
        })  # fmt: skip
    return rows


def barrier_comparison(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The lowest converged migration barrier per species (eV) and the Se/Ag ratio."""
    lowest = {}
    for species in ("Ag", "Se"):
        barriers = [
            r["migration_barrier_eV"] for r in rows if r["species"] == species and r["migration_barrier_eV"] is not None
        ]
        lowest[species] = min(barriers) if barriers else None
    ratio = lowest["Se"] / lowest["Ag"] if lowest["Ag"] and lowest["Se"] is not None else None
    return {"lowest_migration_barrier_eV": lowest, "ratio_Se_over_Ag": ratio, "paper_ratio": PAPER_BARRIER_RATIO}
