#!/usr/bin/env python3
"""A stand-in for the VASP executable in tests (the way atomate2's tests run "fake VASP").

It checks the inputs it is given and then copies real recorded VASP outputs into the
working folder, so parsers and custodian handlers see genuine files.

Configuration: the environment variable PHASEFIRE_STANDIN_PLAN is a JSON list (or the path
of a JSON file holding one); call number k in a folder (counted in ``.standin_calls``) uses
entry k:
  {"reference": folder with the recorded outputs (files may be gzipped; subfolders copied too),
   "expect_incar": {KEY: value, ...}      INCAR values that must be present (numbers within 1e-6),
   "expect_kpoints": [n1, n2, n3]         optional mesh,
   "expect_poscar": path                  optional POSCAR whose lattice and species must match}
Any mismatch: a message on stderr and exit code 2 (custodian then fails the job).
Standard library only, so it runs under any Python.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sys
from pathlib import Path

INPUT_FILES = {"INCAR", "KPOINTS", "POSCAR", "POTCAR"}


def fail(message: str) -> None:
    print(f"vasp stand-in: {message}", file=sys.stderr)
    sys.exit(2)


def load_plan() -> list[dict]:
    text = os.environ.get("PHASEFIRE_STANDIN_PLAN")
    if not text:
        fail("PHASEFIRE_STANDIN_PLAN is not set")
    if not text.lstrip().startswith("["):
        text = Path(text).read_text()
    return json.loads(text)


def parse_incar(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].split("!")[0]
        for statement in line.split(";"):
            if "=" in statement:
                key, value = statement.split("=", 1)
                values[key.strip().upper()] = value.strip()
    return values


def same_value(found: str, expected) -> bool:
    if isinstance(expected, bool):
        return found.strip(".").upper() in (("TRUE", "T") if expected else ("FALSE", "F"))
    if isinstance(expected, int | float):
        try:
            return abs(float(found) - expected) <= 1e-6 * max(1.0, abs(expected))
        except ValueError:
            return False
    return found.lower() == str(expected).lower()


def read_poscar(path: Path) -> tuple[list[list[float]], list[str], list[int]]:
    lines = path.read_text().splitlines()
    scale = float(lines[1].split()[0])
    lattice = [[scale * float(x) for x in lines[i].split()[:3]] for i in (2, 3, 4)]
    species, counts = lines[5].split(), [int(n) for n in lines[6].split()]
    return lattice, species, counts


def check_inputs(step: dict, folder: Path) -> None:
    for name in INPUT_FILES:
        if not (folder / name).is_file():
            fail(f"missing input file {name}")
    incar = parse_incar(folder / "INCAR")
    for key, expected in step.get("expect_incar", {}).items():
        if key.upper() not in incar:
            fail(f"INCAR lacks {key} (expected {expected})")
        if not same_value(incar[key.upper()], expected):
            fail(f"INCAR {key} = {incar[key.upper()]}, expected {expected}")
    if "expect_kpoints" in step:
        mesh = [int(n) for n in (folder / "KPOINTS").read_text().splitlines()[3].split()[:3]]
        if mesh != list(step["expect_kpoints"]):
            fail(f"KPOINTS mesh {mesh}, expected {step['expect_kpoints']}")
    lattice, species, _ = read_poscar(folder / "POSCAR")
    titles = [
        line.split("=", 1)[1].split()[1] for line in (folder / "POTCAR").read_text().splitlines() if "TITEL" in line
    ]
    if [t.split("_")[0] for t in titles] != species:
        fail(f"POTCAR order {titles} does not match POSCAR species {species}")
    if "expect_poscar" in step:
        ref_lattice, ref_species, _ = read_poscar(Path(step["expect_poscar"]))
        if ref_species != species or any(
            abs(a - b) > 1e-4 for row, ref_row in zip(lattice, ref_lattice) for a, b in zip(row, ref_row)
        ):
            fail(f"POSCAR does not match {step['expect_poscar']}")


def copy_outputs(reference: Path, folder: Path) -> None:
    for source in sorted(reference.rglob("*")):
        if source.is_dir():
            continue
        relative = source.relative_to(reference)
        name = relative.name[:-3] if relative.name.endswith(".gz") else relative.name
        if name in INPUT_FILES:
            continue
        target = folder / relative.parent / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.name.endswith(".gz"):
            with gzip.open(source, "rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            shutil.copyfile(source, target)


def main() -> None:
    folder = Path.cwd()
    counter = folder / ".standin_calls"
    call = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(call + 1))
    plan = load_plan()
    if call >= len(plan):
        fail(f"called {call + 1} times but the plan has {len(plan)} step(s)")
    step = plan[call]
    check_inputs(step, folder)
    copy_outputs(Path(step["reference"]), folder)
    print(f"vasp stand-in: call {call + 1}, copied outputs of {step['reference']}")


if __name__ == "__main__":
    main()
