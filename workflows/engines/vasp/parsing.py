"""Reading VASP's outputs into calculation results (pymatgen parsers underneath).

NEB: with several images VASP writes one root vasprun.xml from all image groups at once,
which is often interleaved and unparseable (the recorded reference run's is); the per-image
OUTCARs are authoritative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import units
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import Trajectory
from monty.io import zopen
from monty.os.path import zpath
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.vasp import Outcar, Poscar

from phasefire.workflows.calculations.base import CalcResult, NEBResult
from phasefire.workflows.calculations.md import MD_TRAJECTORY, md_summary
from phasefire.workflows.errors import PhasefireError

#: converged-run marker VASP prints in each image's OUTCAR
CONVERGED_MARKER = "reached required accuracy"
#: VTST's per-image force line: "FORCES: max atom, RMS  <max>  <rms>"
VTST_FORCE_MARKER = "FORCES: max atom, RMS"


def load_vasprun(workdir: Path):
    """pymatgen's Vasprun of ``workdir/vasprun.xml`` (no DOS, eigenvalues or POTCAR), or a
    one-line PhasefireError when the file is missing, truncated or corrupt."""
    from pymatgen.io.vasp import Vasprun

    path = Path(workdir) / "vasprun.xml"
    try:
        return Vasprun(str(path), parse_dos=False, parse_eigen=False, parse_potcar_file=False)
    except Exception as exc:
        raise PhasefireError(
            f"cannot parse {path} ({type(exc).__name__}); the run was cut short or the file is corrupt: rerun it"
        ) from None


def vasp_stress_GPa(stress_kbar) -> np.ndarray:
    """vasprun's stress (kBar, pressure positive) in ASE's convention (GPa, tension positive)."""
    return -np.asarray(stress_kbar, dtype=float) / 10.0


def parse_vasp_run(workdir: Path) -> CalcResult:
    """Final structure, energy, forces and stress from vasprun.xml (relaxation or static run);
    volumetric outputs VASP left (ELFCAR, CHGCAR, AECCAR0/2) are referenced by name."""
    vasprun = load_vasprun(workdir)
    last = vasprun.ionic_steps[-1]
    files = {"vasprun": "vasprun.xml"}
    for key, name in (("elf", "ELFCAR"), ("charge_density", "CHGCAR"), ("core_charge", "AECCAR0")):
        path = Path(zpath(str(Path(workdir) / name)))
        if path.is_file() and path.stat().st_size:
            files[key] = path.name
    return CalcResult(
        atoms=AseAtomsAdaptor.get_atoms(vasprun.final_structure),
        energy_eV=float(vasprun.final_energy),
        forces_eV_per_A=np.asarray(last["forces"], dtype=float),
        stress_GPa=None if last.get("stress") is None else vasp_stress_GPa(last["stress"]),
        converged=bool(vasprun.converged),
        n_steps=len(vasprun.ionic_steps),
        files=files,
        details={"vasp_version": vasprun.vasp_version, "kpoints": [list(k) for k in vasprun.kpoints.kpts]},
    )


def parse_vasp_md(workdir: Path, sample_interval: int, equilibration_steps: int = 0) -> CalcResult:
    """Every ``sample_interval``-th ionic step of vasprun.xml written to md.traj (energy, forces,
    stress as a single-point calculator), with the same statistics as the ASE driver
    (temperature from VASP's ionic kinetic energy, 3N - 3 degrees of freedom)."""
    vasprun = load_vasprun(workdir)
    steps = vasprun.ionic_steps
    frames, temperatures = [], []
    for step in steps[sample_interval - 1 :: sample_interval] or steps[-1:]:
        atoms = AseAtomsAdaptor.get_atoms(step["structure"])
        stress = vasp_stress_GPa(step["stress"]) * units.GPa
        atoms.calc = SinglePointCalculator(
            atoms, energy=float(step["e_fr_energy"]), forces=np.asarray(step["forces"]), stress=stress
        )
        frames.append(atoms)
        temperatures.append(2.0 * float(step["kinetic"]) / ((3 * len(atoms) - 3) * units.kB))
    with Trajectory(str(Path(workdir) / MD_TRAJECTORY), "w") as trajectory:
        for atoms in frames:
            trajectory.write(atoms)
    final = frames[-1]
    return CalcResult(
        atoms=AseAtomsAdaptor.get_atoms(vasprun.final_structure),
        energy_eV=float(final.get_potential_energy()),
        forces_eV_per_A=np.asarray(final.get_forces()),
        stress_GPa=final.get_stress(voigt=False) / units.GPa,
        converged=len(steps) >= int(vasprun.parameters.get("NSW", len(steps))),
        n_steps=len(steps),
        files={"trajectory": MD_TRAJECTORY, "vasprun": "vasprun.xml"},
        details={
            **md_summary(frames, equilibration_steps // sample_interval, np.array(temperatures)),
            "timestep_fs": float(vasprun.parameters.get("POTIM", np.nan)),
            "vasp_version": vasprun.vasp_version,
        },
    )


def image_folders(workdir: Path) -> list[Path]:
    """The numbered image folders 00 ... N+1 of a NEB run, in order; with an INCAR, exactly
    IMAGES + 2 of them."""
    from pymatgen.io.vasp import Incar

    workdir = Path(workdir)
    if not workdir.is_dir():
        raise PhasefireError(f"{workdir} is not a folder; give the NEB run folder (INCAR and image folders 00 ... N+1)")
    folders = sorted((p for p in workdir.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
    if len(folders) < 3 or [int(p.name) for p in folders] != list(range(len(folders))):
        raise PhasefireError(
            f"{workdir} is not a VASP NEB folder: it needs image folders 00, 01, ... N+1 (found "
            f"{', '.join(p.name for p in folders) or 'none'})"
        )
    incar_path = _first(workdir, "INCAR")
    if incar_path is not None:
        try:
            images = Incar.from_file(str(incar_path)).get("IMAGES")
        except Exception as exc:
            raise PhasefireError(f"cannot parse {incar_path} ({type(exc).__name__}); fix or remove it") from None
        if images is not None and len(folders) != int(images) + 2:
            raise PhasefireError(
                f"{incar_path} says IMAGES = {images}, so {int(images) + 2} image folders 00 ... "
                f"{int(images) + 1:02d}, but {workdir} has {len(folders)}; the run is incomplete or mixed up"
            )
    return folders


def read_image(path: Path):
    """Atoms of one image's POSCAR/CONTCAR; a truncated file or non-finite coordinates name the file."""
    try:
        structure = Poscar.from_file(str(path)).structure
    except Exception as exc:
        raise PhasefireError(f"cannot parse {path} ({type(exc).__name__}); the file is truncated or corrupt") from None
    if not np.isfinite(structure.cart_coords).all() or not np.isfinite(structure.lattice.matrix).all():
        raise PhasefireError(f"{path} holds non-finite coordinates (NaN/inf); the image's run blew up: rerun it")
    return AseAtomsAdaptor.get_atoms(structure)


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
    their folder or from ``endpoint_energies_eV``, else it is NaN. The root vasprun.xml is not
    read. converged: every moving image's OUTCAR reports the force criterion reached.
    """
    folders = image_folders(Path(workdir))
    images, energies, converged, forces = [], [], [], []
    for k, folder in enumerate(folders):
        endpoint = k in (0, len(folders) - 1)
        structure_file = _first(folder, "POSCAR" if endpoint else "CONTCAR") or _first(folder, "POSCAR")
        if structure_file is None:
            raise PhasefireError(f"{folder} has no POSCAR or CONTCAR; the NEB folder is incomplete")
        images.append(read_image(structure_file))
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
        details={"images_converged": converged},
    )


def root_vasprun_problem(workdir: Path) -> str | None:
    """Why the root vasprun.xml(.gz) of a NEB folder cannot be read (None when it parses or is absent)."""
    from pymatgen.io.vasp import Vasprun

    path = _first(Path(workdir), "vasprun.xml")
    if path is None:
        return None
    try:
        Vasprun(str(path), parse_dos=False, parse_eigen=False, parse_potcar_file=False)
    except Exception as exc:
        return f"{path.name} is malformed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    return None


def _outcar_path(workdir: Path) -> Path:
    path = _first(Path(workdir), "OUTCAR")
    if path is None:
        raise PhasefireError(f"{workdir} has no OUTCAR; the VASP run did not finish: rerun it")
    return path


def band_gap_eV(workdir: Path) -> float | None:
    """The band gap (eV) from vasprun.xml's eigenvalues and occupations (pymatgen's
    ``eigenvalue_band_properties``), None when vasprun.xml holds no eigenvalues."""
    from pymatgen.io.vasp import Vasprun

    path = _first(Path(workdir), "vasprun.xml")
    if path is None:
        return None
    try:
        vasprun = Vasprun(str(path), parse_dos=False, parse_eigen=True, parse_potcar_file=False)
        return float(vasprun.eigenvalue_band_properties[0])
    except Exception:
        return None


def parse_vasp_born(workdir: Path):
    """Born charges (e), ε∞ and the ionic dielectric part from OUTCAR (pymatgen's
    ``read_lepsilon`` / ``read_lepsilon_ionic``), the structure and energy from vasprun.xml, the
    band gap from its eigenvalues."""
    from phasefire.workflows.calculations.born import BornResult

    base = parse_vasp_run(workdir)
    path = _outcar_path(workdir)
    outcar = Outcar(str(path))
    notes = []
    try:
        outcar.read_lepsilon()
    except Exception:
        outcar.born = []
    born = np.asarray(getattr(outcar, "born", []), dtype=float)
    born = born if born.size else None
    if born is None:
        notes.append(f"{path.name} holds no Born effective charges (LEPSILON/LCALCEPS output)")
    ionic = None
    if int(outcar.run_stats.get("IBRION", 0) or 0) in (5, 6, 7, 8) or "IONIC CONTRIBUTION" in _text(path):
        try:
            outcar.read_lepsilon_ionic()
            ionic = np.asarray(outcar.dielectric_ionic_tensor, dtype=float)
        except Exception:
            ionic = None
    electronic = getattr(outcar, "dielectric_tensor", None)
    return BornResult(
        **{k: getattr(base, k) for k in base.__dataclass_fields__},
        born_charges_e=born,
        dielectric_electronic=None if electronic is None or not len(electronic) else np.asarray(electronic, float),
        dielectric_ionic=ionic,
        band_gap_eV=band_gap_eV(workdir),
        notes=notes,
    )


def _text(path: Path) -> str:
    with zopen(str(path), "rt") as handle:
        return handle.read()


def read_dipoles_eA(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(p_elec, p_ion) in e·Å from an LCALCPOL OUTCAR, or a one-line error when it has none."""
    from phasefire.analysis.polarization import read_berry_outcar

    outcar = read_berry_outcar(path)
    return np.asarray(outcar.p_elec, dtype=float), np.asarray(outcar.p_ion, dtype=float)


def parse_vasp_berry(workdir: Path):
    """A Berry-phase point: vasprun.xml's structure and energy, OUTCAR's dipoles (e·Å)."""
    from phasefire.workflows.calculations.berry import BerryResult

    base = parse_vasp_run(workdir)
    p_elec, p_ion = read_dipoles_eA(_outcar_path(workdir))
    return BerryResult(**{k: getattr(base, k) for k in base.__dataclass_fields__}, p_elec_eA=p_elec, p_ion_eA=p_ion)
