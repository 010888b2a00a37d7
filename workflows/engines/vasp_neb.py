"""VASP NEB: the image-folder layout, its INCAR, custodian's VaspNEBJob, per-image parsing.

Layout (VASP manual, IMAGES tag): INCAR/KPOINTS/POTCAR in the run folder, one POSCAR per image
in 00 ... N+1 (00 and N+1 the fixed endpoints), outputs per image. With several images VASP
writes one root vasprun.xml from all image groups at once, which is often interleaved and
unparseable (the recorded reference run's is); energies come from the per-image OUTCARs.

Plain VASP NEB (default): IBRION=1, SPRING=-5, no climbing image. With ``vtst`` (the VTST
Tools build): IBRION=3, POTIM=0 (the VTST optimiser takes over), IOPT=1 (LBFGS) and
LCLIMB for the climbing image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from monty.io import zopen
from pymatgen.core import Element
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.vasp import Outcar, Poscar

from phasefire.workflows.engines.base import NEBResult
from phasefire.workflows.errors import PhasefireError

#: converged-run marker VASP prints in each image's OUTCAR
CONVERGED_MARKER = "reached required accuracy"
#: VTST's per-image force line: "FORCES: max atom, RMS  <max>  <rms>"
VTST_FORCE_MARKER = "FORCES: max atom, RMS"


def neb_incar(n_images: int, fmax_eV_per_A: float, max_steps: int, climb: bool, vtst: bool) -> dict[str, Any]:
    """INCAR settings of a NEB on top of the relaxation defaults (positions only, no symmetry)."""
    incar: dict[str, Any] = {
        "IMAGES": int(n_images),
        "SPRING": -5,
        "ISIF": 2,
        "ISYM": 0,
        "EDIFFG": -abs(fmax_eV_per_A),
        "NSW": int(max_steps),
        "LWAVE": False,
        "LCHARG": False,
    }
    if vtst:
        return {**incar, "IBRION": 3, "POTIM": 0, "IOPT": 1, "ICHAIN": 0, "LCLIMB": bool(climb)}
    return {**incar, "IBRION": 1, "POTIM": 0.5}


def vasp_order(atoms: Atoms) -> list[int]:
    """Atom order pymatgen input sets write (stable sort by electronegativity): every image uses it."""
    return sorted(range(len(atoms)), key=lambda i: Element(atoms[i].symbol).X)


def write_image_folders(images: list[Atoms], workdir: Path) -> None:
    """POSCARs of images 00 ... N+1 in their folders."""
    width = max(2, len(str(len(images) - 1)))
    for k, image in enumerate(images):
        folder = Path(workdir) / f"{k:0{width}d}"
        folder.mkdir(parents=True, exist_ok=True)
        Poscar(AseAtomsAdaptor.get_structure(image)).write_file(str(folder / "POSCAR"))


def neb_custodian_handlers() -> list:
    """custodian handlers that understand the NEB layout (they read neb_vasp.out, not vasprun.xml)."""
    from custodian.vasp.handlers import FrozenJobErrorHandler, StdErrHandler, VaspErrorHandler

    return [
        VaspErrorHandler(output_filename="neb_vasp.out"),
        FrozenJobErrorHandler(output_filename="neb_vasp.out"),
        StdErrHandler(output_filename="neb_std_err.txt"),
    ]


def image_folders(workdir: Path) -> list[Path]:
    """The numbered image folders 00 ... N+1 of a NEB run, in order."""
    folders = sorted((p for p in Path(workdir).iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
    if len(folders) < 3 or [int(p.name) for p in folders] != list(range(len(folders))):
        raise PhasefireError(
            f"{workdir} is not a VASP NEB folder: it needs image folders 00, 01, ... N+1 (found "
            f"{', '.join(p.name for p in folders) or 'none'})"
        )
    return folders


def _first(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _image_outcar(folder: Path) -> tuple[float, bool, float] | None:
    """(energy sigma->0 in eV, converged, VTST max force in eV/Å or nan) of one image's OUTCAR."""
    path = _first(folder, "OUTCAR")
    if path is None:
        return None
    try:
        energy = Outcar(str(path)).final_energy
    except Exception as exc:
        raise PhasefireError(f"cannot parse {path} ({type(exc).__name__}); the image's run was cut short") from None
    converged, max_force = False, float("nan")
    with zopen(str(path), "rt") as handle:
        for line in handle:
            if CONVERGED_MARKER in line:
                converged = True
            elif VTST_FORCE_MARKER in line:
                max_force = float(line.split()[-2])
    return float(energy), converged, max_force


def parse_vasp_neb(workdir: Path, endpoint_energies_eV: tuple[float, float] | None = None) -> NEBResult:
    """Images (CONTCAR of moving images, POSCAR of endpoints) and per-image OUTCAR energies (eV).

    Endpoints (00, N+1) are not computed by VASP; their energy comes from an OUTCAR placed in
    their folder or from ``endpoint_energies_eV``, else it is NaN. The root vasprun.xml is not read.
    converged: every moving image's OUTCAR reports the force criterion reached.
    """
    folders = image_folders(Path(workdir))
    images, energies, converged, forces = [], [], [], []
    for k, folder in enumerate(folders):
        endpoint = k in (0, len(folders) - 1)
        structure_file = _first(folder, "POSCAR" if endpoint else "CONTCAR") or _first(folder, "POSCAR")
        if structure_file is None:
            raise PhasefireError(f"{folder} has no POSCAR or CONTCAR; the NEB folder is incomplete")
        images.append(AseAtomsAdaptor.get_atoms(Poscar.from_file(str(structure_file)).structure))
        parsed = _image_outcar(folder)
        if endpoint:
            known = endpoint_energies_eV[0 if k == 0 else 1] if endpoint_energies_eV else float("nan")
            energies.append(parsed[0] if parsed else known)
            continue
        if parsed is None:
            raise PhasefireError(f"{folder} has no OUTCAR: image {k} did not run; rerun the NEB")
        energies.append(parsed[0])
        converged.append(parsed[1])
        forces.append(parsed[2])
    return NEBResult(
        images=images,
        energies_eV=np.array(energies, dtype=float),
        converged=all(converged),
        n_steps=0,
        max_force_eV_per_A=float(np.nanmax(forces)) if not np.isnan(forces).all() else float("nan"),
        files={"images": ", ".join(f.name for f in folders)},
        extra={"images_converged": converged},
    )


def root_vasprun_problem(workdir: Path) -> str | None:
    """Why the root vasprun.xml(.gz) of a NEB folder cannot be read (None when it parses or is absent).

    With IMAGES > 1 the image groups write it concurrently; the per-image OUTCARs stay authoritative.
    """
    from pymatgen.io.vasp import Vasprun

    path = _first(Path(workdir), "vasprun.xml")
    if path is None:
        return None
    try:
        Vasprun(str(path), parse_dos=False, parse_eigen=False, parse_potcar_file=False)
    except Exception as exc:
        return f"{path.name} is malformed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    return None
