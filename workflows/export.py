"""Results you can take away: task documents as a CSV (or JSON) table of properties beside
their structures as CIF/POSCAR/extxyz files.

    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.export import export_tasks
    from phasefire.workflows.launchpad import open_launchpad

    documents = ResultsDB(open_launchpad()).query(formula="CsPbBr3", task_type="relax")
    export_tasks(documents, "exported", table_format="csv", structure_format="cif")
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from phasefire.workflows.calculations.structures import atoms_from_dict
from phasefire.workflows.errors import PhasefireError
from phasefire.workflows.naming import safe_slug
from phasefire.workflows.structure_io import write_structure

TABLE_FORMATS = ("csv", "json")
#: structure format -> file suffix
STRUCTURE_FORMATS = {"cif": ".cif", "poscar": ".vasp", "extxyz": ".extxyz"}
#: header columns of every row; then the scalar outputs of each type
HEADER_COLUMNS = ("task_id", "task_type", "label", "formula_pretty", "nsites", "converged", "engine", "workflow",
                  "created_at", "wall_time_s", "run_dir")  # fmt: skip


def task_row(document: dict[str, Any]) -> dict[str, Any]:
    """One flat row: the header, then every scalar of ``output`` (lattice and transport flattened)."""
    row = {key: document.get(key) for key in HEADER_COLUMNS}
    row["engine"] = document["engine"]["name"]
    output = document.get("output", {})
    for key, value in output.items():
        if isinstance(value, bool | int | float | str) or value is None:
            row[key] = value
        elif key in ("lattice", "transport") and isinstance(value, dict):
            row.update({f"{key}.{k}": v for k, v in value.items() if not isinstance(v, dict | list)})
    return row


def final_structure(document: dict[str, Any]) -> dict[str, Any] | None:
    output = document.get("output", {})
    return output.get("structure") or output.get("saddle_structure")


def export_tasks(
    documents: list[dict[str, Any]], folder: str | Path, table_format: str = "csv", structure_format: str = "cif"
) -> dict[str, Any]:
    """Write ``tasks.csv``/``tasks.json`` and one structure file per document (final structure,
    or the saddle of a NEB) named ``<task_id>-<label>``; return what was written."""
    if table_format not in TABLE_FORMATS:
        raise PhasefireError(f"unknown table format '{table_format}'; choose one of {', '.join(TABLE_FORMATS)}")
    if structure_format not in STRUCTURE_FORMATS:
        raise PhasefireError(
            f"unknown structure format '{structure_format}'; choose one of {', '.join(STRUCTURE_FORMATS)}"
        )
    if not documents:
        raise PhasefireError("no task documents match; nothing to export (see `phasefire db query`)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows, structures = [], []
    for document in documents:
        row = task_row(document)
        structure = final_structure(document)
        if structure is not None:
            name = f"{document['task_id']}-{safe_slug(document['label'])}{STRUCTURE_FORMATS[structure_format]}"
            write_structure(atoms_from_dict(structure), folder / name)
            row["structure_file"] = name
            structures.append(name)
        rows.append(row)
    table = folder / f"tasks.{table_format}"
    partial = table.with_name(table.name + ".part")
    if table_format == "json":
        partial.write_text(json.dumps(rows, indent=1, default=str))
    else:
        columns = list(dict.fromkeys(key for row in rows for key in row))
        with partial.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    partial.replace(table)
    return {"table": str(table), "rows": len(rows), "structures": structures}
