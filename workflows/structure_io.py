"""Reading and writing structure files with one-line errors (the I/O the builders never do)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ase import Atoms
from ase.io import read, write

from phasefire.workflows.errors import PhasefireError

#: file suffix -> ASE format
WRITE_FORMATS = {".vasp": "vasp", ".poscar": "vasp", ".cif": "cif", ".extxyz": "extxyz", ".xyz": "extxyz"}


def format_for(path: Path) -> str:
    if path.name.upper() in ("POSCAR", "CONTCAR") or path.name.upper().startswith(("POSCAR", "CONTCAR")):
        return "vasp"
    try:
        return WRITE_FORMATS[path.suffix.lower()]
    except KeyError:
        raise PhasefireError(
            f"cannot tell the format of '{path.name}'; name it POSCAR, *.vasp, *.cif or *.extxyz"
        ) from None


def read_structure(path: str | os.PathLike) -> Atoms:
    """One periodic structure from a POSCAR/CIF/extxyz/… file (the last frame of a trajectory)."""
    path = Path(path)
    if not path.is_file():
        raise PhasefireError(f"no such structure file: {path}; give an existing POSCAR, CIF or extxyz file")
    try:
        atoms = read(str(path), index=-1)
    except Exception as exc:
        raise PhasefireError(
            f"cannot read structure file {path} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'malformed'}); "
            "give a valid POSCAR, CIF or extxyz file"
        ) from None
    if len(atoms) == 0:
        raise PhasefireError(f"structure file {path} holds no atoms; give a file with a structure in it")
    if not all(atoms.pbc) or atoms.cell.rank < 3:
        raise PhasefireError(f"structure in {path} is not a periodic crystal (no 3D cell); give a bulk structure")
    return atoms


def write_structure(atoms: Atoms, path: str | os.PathLike) -> Path:
    """Write atomically (temporary file, then rename): no half-written file on failure."""
    path = Path(path)
    fmt = format_for(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(tmp, atoms, format=fmt, **({"direct": True, "sort": False} if fmt == "vasp" else {}))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
