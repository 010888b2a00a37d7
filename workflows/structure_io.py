"""Reading and writing structure files with one-line errors (the I/O the builders never do).

Every structure that comes in is checked once here: a readable periodic crystal with atoms,
finite coordinates and no two atoms closer than ``MIN_DISTANCE_A``. CIFs are written with
their symmetry (pymatgen's ``CifWriter`` with ``symprec``), files honour the umask.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read, write

from phasefire.workflows.errors import PhasefireError

#: file suffix -> ASE format
WRITE_FORMATS = {".vasp": "vasp", ".poscar": "vasp", ".cif": "cif", ".extxyz": "extxyz", ".xyz": "extxyz"}
#: atoms closer than this (Å) are a broken structure, not a crystal
MIN_DISTANCE_A = 0.5
#: symmetry tolerance of written CIFs (Å)
CIF_SYMPREC_A = 1e-3


def format_for(path: Path) -> str:
    if path.name.upper() in ("POSCAR", "CONTCAR") or path.name.upper().startswith(("POSCAR", "CONTCAR")):
        return "vasp"
    try:
        return WRITE_FORMATS[path.suffix.lower()]
    except KeyError:
        raise PhasefireError(
            f"cannot tell the format of '{path.name}'; name it POSCAR, *.vasp, *.cif or *.extxyz"
        ) from None


def check_structure(atoms: Atoms, source: str) -> Atoms:
    """``atoms`` if it is a usable periodic crystal, else a one-line error naming ``source``."""
    from ase.neighborlist import neighbor_list

    if len(atoms) == 0:
        raise PhasefireError(f"{source} holds no atoms; give a file with a structure in it")
    if not all(atoms.pbc) or atoms.cell.rank < 3:
        raise PhasefireError(f"the structure in {source} is not periodic (no 3D cell); give a bulk crystal")
    if not np.isfinite(atoms.positions).all() or not np.isfinite(atoms.cell.array).all():
        raise PhasefireError(f"{source} holds non-finite coordinates (NaN/inf); fix the file")
    first, second, distance = neighbor_list("ijd", atoms, MIN_DISTANCE_A)
    if len(distance):
        k = int(np.argmin(distance))
        i, j = sorted((int(first[k]), int(second[k])))
        raise PhasefireError(
            f"atoms {i} ({atoms[i].symbol}) and {j} ({atoms[j].symbol}) in {source} are {distance[k]:.4f} Å apart "
            f"(< {MIN_DISTANCE_A} Å): duplicated or overlapping atoms; remove one"
        )
    return atoms


def _read_pymatgen_json(path: Path) -> Atoms | None:
    """Atoms from a pymatgen ``Structure`` JSON file, or None when the file is not one."""
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("@class") != "Structure":
        return None
    try:
        return AseAtomsAdaptor.get_atoms(Structure.from_dict(data))
    except Exception as exc:
        raise PhasefireError(
            f"{path} is a pymatgen Structure JSON that cannot be loaded ({type(exc).__name__})"
        ) from None


def read_structure(path: str | os.PathLike) -> Atoms:
    """One periodic structure from a POSCAR/CIF/extxyz/pymatgen-JSON/… file (the last frame of a
    trajectory), checked by ``check_structure``."""
    path = Path(path)
    if path.is_dir():
        raise PhasefireError(f"{path} is a folder, not a structure file; give a POSCAR, CIF or extxyz file")
    if not path.is_file():
        raise PhasefireError(f"no such structure file: {path}; give an existing POSCAR, CIF or extxyz file")
    atoms = _read_pymatgen_json(path) if path.suffix.lower() == ".json" else None
    if atoms is None:
        try:
            atoms = read(str(path), index=-1)
        except Exception:
            raise PhasefireError(
                f"cannot read structure file {path}: it is truncated or not a POSCAR, CIF, extxyz or pymatgen "
                "Structure JSON; check the file"
            ) from None
    return check_structure(atoms, str(path))


def write_structure(atoms: Atoms, path: str | os.PathLike) -> Path:
    """Write atomically (temporary file, then rename; the umask decides the permissions); CIFs
    keep the structure's symmetry (spglib at ``CIF_SYMPREC_A``)."""
    path = Path(path)
    fmt = format_for(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    try:
        if fmt == "cif":
            from pymatgen.io.ase import AseAtomsAdaptor
            from pymatgen.io.cif import CifWriter

            CifWriter(AseAtomsAdaptor.get_structure(atoms), symprec=CIF_SYMPREC_A, significant_figures=6).write_file(
                tmp
            )
        else:
            write(tmp, atoms, format=fmt, **({"direct": True, "sort": False} if fmt == "vasp" else {}))
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 whatever the umask
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
