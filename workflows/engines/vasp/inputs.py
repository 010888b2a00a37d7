"""VASP inputs per calculation type: pymatgen input sets with the papers' settings on top.

Relaxations and static runs follow the Ag2Se paper (Luo et al., Nat. Commun. (2025),
doi:10.1038/s41467-025-57057-5, Methods): PBE, ENCUT = 600 eV, EDIFF = 1e-6 eV per atom,
forces below 0.01 eV/Å (EDIFFG = -0.01) and a k-point density equal to its 10x10x10 mesh on
alpha-Ag2Se. AIMD uses MDALGO = 3 (Langevin) with ISIF = 3 + PSTRESS for NPT and Γ only.
NEB uses the image-folder layout (VASP manual, IMAGES). Every input set keeps the caller's
atom order (pymatgen ``sort_structure=False``), so NEB images and results need no reordering.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.vasp import Poscar

from phasefire.workflows.calculations.md import THERMOSTAT_TIME_FS, MDSettings
from phasefire.workflows.calculations.neb import NEBSettings
from phasefire.workflows.calculations.relax import RelaxSettings
from phasefire.workflows.calculations.static import StaticSettings
from phasefire.workflows.errors import PhasefireError

#: k-points per Å^-3 of reciprocal volume: 1000 k-points / (2π)^3 x V(alpha-Ag2Se, 238.30 Å^3).
#: pymatgen spreads them by reciprocal-vector length (14x8x7 on alpha-Ag2Se).
PAPER_RECIPROCAL_DENSITY = 961

#: electronic convergence of the paper's runs, per atom (eV); EDIFF = this x atoms
PAPER_EDIFF_PER_ATOM_EV = 1e-6

#: INCAR of the paper's relaxations and static runs on top of pymatgen's MPRelaxSet (whose
#: POTCAR choices we keep); None removes a tag of the base set
PAPER_INCAR: dict[str, Any] = {
    "ENCUT": 600,
    "EDIFF_PER_ATOM": None,
    "EDIFFG": -0.01,
    "IBRION": 2,
    "ISIF": 3,
    "NSW": 200,
    "PREC": "Accurate",
    "ALGO": "Normal",
    "ISMEAR": 0,
    "SIGMA": 0.05,
    "ISPIN": 1,
    "LREAL": False,
    "LASPH": True,
    "LDAU": False,
    "LWAVE": False,
    "LORBIT": 11,
    "NELM": 200,
}

#: INCAR of every AIMD stage on top of pymatgen's MPMDSet. PREC = Normal and ENCUT = 300 eV:
#: about 1.4 x the larger ENMAX of the Sb and Se PBE_54 POTCARs (Se: 212 eV), enough to keep the
#: Pulay stress of a constant-pressure run small at MD cost (the paper's own MD settings are in
#: its unavailable supplement); override with ``--set incar.ENCUT=...``.
PAPER_MD_INCAR: dict[str, Any] = {
    "PREC": "Normal",
    "ENCUT": 300,
    "EDIFF": 1e-5,
    "EDIFF_PER_ATOM": None,
    "SMASS": None,  # Nosé mass; unused by the Langevin thermostat
    "ALGO": "Normal",
    "IBRION": 0,
    "MDALGO": 3,
    "ISYM": 0,
    "ISMEAR": 0,
    "SIGMA": 0.05,
    "ISPIN": 1,
    "LREAL": "Auto",
    "LWAVE": False,
    "LCHARG": False,
    "NELM": 100,
}

#: parallelisation VASP needs for the ELF: no band (NPAR/NCORE) or k-point (KPAR) splitting
ELF_PARALLELISATION: dict[str, Any] = {"NPAR": 1, "KPAR": 1, "NCORE": None}


def paper_ediff(atoms: Atoms) -> float:
    return PAPER_EDIFF_PER_ATOM_EV * len(atoms)


def relax_incar(atoms: Atoms, settings: RelaxSettings) -> dict[str, Any]:
    """Relaxation tags: ISIF 3/2, EDIFFG = -fmax, NSW, PSTRESS (kBar) = 10 x pressure_GPa."""
    return {
        **PAPER_INCAR,
        "EDIFF": paper_ediff(atoms),
        "EDIFFG": -settings.fmax_eV_per_A,
        "ISIF": 3 if settings.relax_cell else 2,
        "NSW": settings.max_steps,
        "PSTRESS": 10.0 * settings.pressure_GPa,
        **({} if settings.keep_symmetry else {"ISYM": 0}),
    }


def static_incar(atoms: Atoms, settings: StaticSettings, user_incar: dict[str, Any]) -> dict[str, Any]:
    """Single point (NSW = 0, IBRION = -1) with LELF / LCHARG / LAECHG as asked; with LELF, the
    parallelisation VASP requires (NPAR = KPAR = 1), refusing a user INCAR that splits bands or k-points."""
    incar = {**PAPER_INCAR, "EDIFF": paper_ediff(atoms), "NSW": 0, "IBRION": -1, "EDIFFG": None, "ISIF": None}
    incar |= {"LELF": settings.write_elf, "LCHARG": settings.write_charge_density or settings.write_core_charge,
              "LAECHG": settings.write_core_charge}  # fmt: skip
    if settings.write_elf:
        clashes = {k: user_incar[k] for k in ("NPAR", "KPAR", "NCORE") if user_incar.get(k) not in (None, 1)}
        if clashes:
            raise PhasefireError(
                f"VASP computes the ELF only without band or k-point splitting; drop incar "
                f"{', '.join(f'{k}={v}' for k, v in clashes.items())} (phasefire sets NPAR = KPAR = 1)"
            )
        incar |= ELF_PARALLELISATION
    return incar


def md_incar(atoms: Atoms, settings: MDSettings) -> dict[str, Any]:
    """The stage's tags: temperatures (K), POTIM (fs), PSTRESS (kBar), Langevin gammas (ps^-1)
    matching the ASE driver's friction times."""
    n_species = len(set(atoms.get_chemical_symbols()))
    incar = {
        **PAPER_MD_INCAR,
        "TEBEG": settings.temperature_K,
        "TEEND": settings.temperature_end_K or settings.temperature_K,
        "POTIM": settings.timestep_fs,
        "NSW": settings.steps,
        "NBLOCK": settings.sample_interval,
        "ISIF": 2 if settings.pressure_GPa is None else 3,
        "LANGEVIN_GAMMA": [1000.0 / THERMOSTAT_TIME_FS] * n_species,
        "RANDOM_SEED": [settings.seed, 0, 0],
    }
    if settings.pressure_GPa is not None:
        incar |= {"PSTRESS": 10.0 * settings.pressure_GPa, "LANGEVIN_GAMMA_L": 1000.0 / settings.barostat_time_fs}
    return incar


def neb_incar(atoms: Atoms, settings: NEBSettings, vtst: bool) -> dict[str, Any]:
    """NEB tags on top of the relaxation defaults (positions only, no symmetry). Plain VASP:
    IBRION = 1, no climbing image; VTST build: its optimiser (IBRION = 3, POTIM = 0, IOPT = 1)
    and LCLIMB."""
    incar: dict[str, Any] = {
        **PAPER_INCAR,
        "EDIFF": 1e-6,  # absolute, eV: forces to ~0.01 eV/Å on ~140 atoms (1e-6 x atoms would be 1.4e-4)
        "IMAGES": settings.n_images,
        "SPRING": -5,
        "ISIF": 2,
        "ISYM": 0,
        "EDIFFG": -settings.fmax_eV_per_A,
        "NSW": settings.max_steps,
        "LCHARG": False,
    }
    if vtst:
        return {**incar, "IBRION": 3, "POTIM": 0, "IOPT": 1, "ICHAIN": 0, "LCLIMB": settings.climb}
    return {**incar, "IBRION": 1, "POTIM": 0.5}


def relax_set(atoms: Atoms, incar: dict[str, Any], reciprocal_density: float, potcar_functional: str):
    """pymatgen's MPRelaxSet with ``incar`` on top, the atom order kept."""
    from pymatgen.io.vasp.sets import BadInputSetWarning, MPRelaxSet

    with warnings.catch_warnings():  # choosing PBE_54 over MP's legacy PBE set is deliberate
        warnings.simplefilter("ignore", BadInputSetWarning)
        return MPRelaxSet(
            AseAtomsAdaptor.get_structure(atoms),
            user_incar_settings=incar,
            user_kpoints_settings={"reciprocal_density": reciprocal_density},
            user_potcar_functional=potcar_functional,
            sort_structure=False,
        )


def md_set(atoms: Atoms, incar: dict[str, Any], potcar_functional: str):
    """pymatgen's MPMDSet with ``incar`` on top and a Γ-only k-mesh, the atom order kept."""
    from pymatgen.io.vasp.sets import BadInputSetWarning, MPMDSet

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BadInputSetWarning)
        return MPMDSet(
            AseAtomsAdaptor.get_structure(atoms),
            start_temp=incar["TEBEG"],
            end_temp=incar["TEEND"],
            nsteps=incar["NSW"],
            time_step=incar["POTIM"],
            user_incar_settings=incar,
            user_potcar_functional=potcar_functional,
            sort_structure=False,
        )


def write_image_folders(images: list[Atoms], workdir: Path) -> None:
    """POSCARs of images 00 ... N+1 in their folders."""
    width = max(2, len(str(len(images) - 1)))
    for k, image in enumerate(images):
        folder = Path(workdir) / f"{k:0{width}d}"
        folder.mkdir(parents=True, exist_ok=True)
        Poscar(AseAtomsAdaptor.get_structure(image)).write_file(str(folder / "POSCAR"))


def born_incar(atoms: Atoms, settings) -> dict[str, Any]:
    """Born charges and dielectric tensors: LEPSILON (DFPT) or LCALCEPS (finite field); IBRION 8 / 6
    displaces the ions for ε0 (else -1, electronic response only); tight EDIFF; no symmetry
    reduction of the perturbations is needed beyond VASP's own."""
    dfpt = settings.method == "dfpt"
    incar = {**PAPER_INCAR, "EDIFF": min(paper_ediff(atoms), 1e-6), "EDIFFG": None, "ISIF": None, "NSW": 1 if settings.ionic else 0,
             "LEPSILON": dfpt, "LCALCEPS": not dfpt, "LRPA": False}  # fmt: skip
    incar["IBRION"] = (8 if dfpt else 6) if settings.ionic else -1
    if settings.ionic and not dfpt:
        incar["POTIM"] = 0.015  # finite displacements (Å) of IBRION = 6
    return incar


def berry_incar(atoms: Atoms, settings) -> dict[str, Any]:
    """One Berry-phase point: a single point with LCALCPOL (ISYM = 0: the images break symmetry
    differently, the phases must be computed on the same k-mesh for every point)."""
    return {**PAPER_INCAR, "EDIFF": paper_ediff(atoms), "NSW": 0, "IBRION": -1, "EDIFFG": None, "ISIF": None,
            "LCALCPOL": True, "ISYM": 0, "LWAVE": False, "LCHARG": False}  # fmt: skip


def field_incar(atoms: Atoms, settings) -> dict[str, Any]:
    """Relaxation under a field. bulk: EFIELD_PEAD (eV/Å, Cartesian) with LCALCPOL; slab: the
    sawtooth EFIELD (eV/Å) along the third lattice vector (the slab normal) with the dipole
    correction (LDIPOL, IDIPOL = 3, DIPOL at the slab centre). No symmetry (the field breaks it)."""
    incar = {**PAPER_INCAR, "EDIFF": paper_ediff(atoms), "EDIFFG": -settings.fmax_eV_per_A, "NSW": settings.max_steps,
             "ISIF": 3 if settings.relax_cell else 2, "ISYM": 0}  # fmt: skip
    if settings.route == "bulk":
        return incar | {"EFIELD_PEAD": [round(float(x), 8) for x in settings.field_vector()], "LCALCPOL": True}
    centre = float(np.mean(atoms.get_scaled_positions()[:, 2]))
    return incar | {
        "EFIELD": settings.field_V_per_A,
        "LDIPOL": True,
        "IDIPOL": 3,
        "DIPOL": [0.5, 0.5, round(centre, 6)],
    }
