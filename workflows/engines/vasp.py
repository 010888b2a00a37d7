"""VASP through pymatgen input sets and custodian.

Defaults are the Ag2Se paper's settings (Luo et al., Nat. Commun. (2025), doi:10.1038/s41467-025-57057-5, Methods):
PBE, ENCUT = 600 eV, EDIFF = 1e-6 eV/atom, forces below 0.01 eV/Å (EDIFFG = -0.01), and a
k-point density equal to the paper's 10x10x10 Monkhorst-Pack mesh on alpha-Ag2Se.
"""

from __future__ import annotations

import importlib.metadata
import shlex
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from ase import Atoms
from pymatgen.io.ase import AseAtomsAdaptor

from phasefire.workflows.engines.base import CalcResult, Engine, NEBResult, interpolate_images, require_positive
from phasefire.workflows.errors import PhasefireError

#: k-points per Å^-3 of reciprocal volume: 1000 k-points / (2π)^3 x V(alpha-Ag2Se, 238.30 Å^3).
#: pymatgen spreads them by reciprocal-vector length (14x8x7 on alpha-Ag2Se).
PAPER_RECIPROCAL_DENSITY = 961

#: INCAR of the paper's relaxations, on top of pymatgen's MPRelaxSet (whose POTCAR choices we keep)
PAPER_RELAX_INCAR: dict[str, Any] = {
    "ENCUT": 600,
    "EDIFF_PER_ATOM": 1e-6,
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


def custodian_handlers(kind: str = "relax") -> list:
    """custodian's standard VASP handlers for relaxations (as atomate2 uses them)."""
    from custodian.vasp.handlers import (
        FrozenJobErrorHandler,
        MeshSymmetryErrorHandler,
        NonConvergingErrorHandler,
        PositiveEnergyErrorHandler,
        PotimErrorHandler,
        StdErrHandler,
        UnconvergedErrorHandler,
        VaspErrorHandler,
    )

    return [
        VaspErrorHandler(),
        MeshSymmetryErrorHandler(),
        UnconvergedErrorHandler(),
        NonConvergingErrorHandler(),
        PotimErrorHandler(),
        PositiveEnergyErrorHandler(),
        FrozenJobErrorHandler(),
        StdErrHandler(),
    ]


@dataclass
class VaspEngine(Engine):
    """VASP run under custodian.

    incar: INCAR overrides on top of PAPER_RELAX_INCAR; reciprocal_density: k-points per Å^-3;
    potcar_functional: pymatgen functional label of the POTCAR library (PBE_54);
    max_errors: custodian corrections before giving up; polling_time_step_s: how often
    custodian checks a running job; require_output_files: fail a run that left no
    CONTCAR/OSZICAR/OUTCAR (custodian's VaspFilesValidator). vasp_cmd / vasp_gamma_cmd / potcar_dir come from the worker.
    """

    name: ClassVar[str] = "vasp"
    worker_fields: ClassVar[tuple[str, ...]] = ("vasp_cmd", "vasp_gamma_cmd", "potcar_dir")

    incar: dict[str, Any] = field(default_factory=dict)
    reciprocal_density: float = PAPER_RECIPROCAL_DENSITY
    potcar_functional: str = "PBE_54"
    max_errors: int = 5
    polling_time_step_s: float = 10.0
    require_output_files: bool = True
    #: NEB with the VTST Tools build: its optimiser (IBRION=3, IOPT=1) and climbing image (LCLIMB)
    vtst: bool = False
    vasp_cmd: str = "vasp_std"
    vasp_gamma_cmd: str = "vasp_gam"
    potcar_dir: str | None = None

    def versions(self) -> dict[str, str]:
        return {dist: importlib.metadata.version(dist) for dist in ("pymatgen", "custodian")}

    def relax_input_set(
        self, atoms: Atoms, *, fmax_eV_per_A: float, relax_cell: bool, max_steps: int, pressure_GPa: float = 0.0
    ):
        """The pymatgen input set a relaxation writes (INCAR, KPOINTS, POSCAR, POTCAR);
        PSTRESS (kBar) = 10 x pressure_GPa."""
        from pymatgen.io.vasp.sets import BadInputSetWarning, MPRelaxSet

        incar = {
            **PAPER_RELAX_INCAR,
            "EDIFFG": -abs(fmax_eV_per_A),
            "ISIF": 3 if relax_cell else 2,
            "NSW": int(max_steps),
            "PSTRESS": 10.0 * pressure_GPa,
            **self.incar,
        }
        with warnings.catch_warnings():  # choosing PBE_54 over MP's legacy PBE set is deliberate
            warnings.simplefilter("ignore", BadInputSetWarning)
            return MPRelaxSet(
                AseAtomsAdaptor.get_structure(atoms),
                user_incar_settings=incar,
                user_kpoints_settings={"reciprocal_density": self.reciprocal_density},
                user_potcar_functional=self.potcar_functional,
            )

    def write_inputs(self, input_set, workdir: Path) -> None:
        """Write the inputs, turning a missing POTCAR library into a one-line error."""
        from pymatgen.core import SETTINGS

        if self.potcar_dir:
            SETTINGS["PMG_VASP_PSP_DIR"] = str(self.potcar_dir)
        if not SETTINGS.get("PMG_VASP_PSP_DIR") or not Path(SETTINGS["PMG_VASP_PSP_DIR"]).is_dir():
            raise PhasefireError(
                f"no POTCAR library found (potcar_dir={SETTINGS.get('PMG_VASP_PSP_DIR')}); "
                "set worker.potcar_dir in launchpad.yaml or PMG_VASP_PSP_DIR to the folder holding POT_PAW_PBE_54"
            )
        try:
            input_set.write_input(str(workdir))
        except (OSError, ValueError) as exc:
            raise PhasefireError(
                f"cannot write VASP inputs: {str(exc).splitlines()[0]}; "
                f"check that {SETTINGS['PMG_VASP_PSP_DIR']} holds the {self.potcar_functional} POTCAR folder for every element"
            ) from None

    def run_custodian(
        self, workdir: Path, handlers: list, job_type: type | None = None, validators: list | None = None
    ) -> None:
        """Run VASP in ``workdir`` under custodian with ``handlers``: a ``job_type`` job (default
        VaspJob; VaspNEBJob for image folders) checked by ``validators`` (default: vasprun.xml
        parses and the output files exist)."""
        from custodian import Custodian
        from custodian.vasp.jobs import VaspJob
        from custodian.vasp.validators import VaspFilesValidator, VasprunXMLValidator

        command = shlex.split(self.vasp_cmd)
        executable = next((word for word in command if shutil.which(word)), None)
        if executable is None:
            raise PhasefireError(
                f"VASP executable not found: '{self.vasp_cmd}'; set worker.vasp_cmd in launchpad.yaml "
                "(or PHASEFIRE_VASP_CMD) to the command that runs VASP on this machine"
            )
        job = (job_type or VaspJob)(vasp_cmd=command, gamma_vasp_cmd=shlex.split(self.vasp_gamma_cmd), auto_npar=False)
        if validators is None:
            validators = [VasprunXMLValidator(), *([VaspFilesValidator()] if self.require_output_files else [])]
        custodian = Custodian(
            handlers,
            [job],
            validators=validators,
            max_errors=self.max_errors,
            polling_time_step=self.polling_time_step_s,
            directory=str(workdir),
        )
        try:
            custodian.run()
        except Exception as exc:  # custodian raises its own error types for unrecoverable runs
            raise PhasefireError(
                f"VASP run in {workdir} failed under custodian ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                "see custodian.json and vasp.out there"
            ) from None

    def relax(
        self,
        atoms: Atoms,
        workdir: Path,
        *,
        fmax_eV_per_A: float = 0.01,
        relax_cell: bool = True,
        max_steps: int = 200,
        pressure_GPa: float = 0.0,
    ) -> CalcResult:
        require_positive("fmax_eV_per_A", fmax_eV_per_A)
        workdir = Path(workdir)
        input_set = self.relax_input_set(
            atoms, fmax_eV_per_A=fmax_eV_per_A, relax_cell=relax_cell, max_steps=max_steps, pressure_GPa=pressure_GPa
        )
        self.write_inputs(input_set, workdir)
        self.run_custodian(workdir, custodian_handlers("relax"))
        return parse_vasp_run(workdir)

    def md(self, atoms: Atoms, workdir: Path, *, equilibration_steps: int = 0, **settings) -> CalcResult:
        """One AIMD run (MDALGO=3 Langevin; NPT with ISIF=3 + PSTRESS when pressure_GPa is
        given) under MD-safe custodian handlers; arguments as ``Engine.md``; the sampled
        frames go to md.traj (``phasefire.workflows.engines.vasp_md``). A rerun starts the stage again
        from its input structure: VASP keeps no restartable MD state besides CONTCAR."""
        from phasefire.workflows.engines.vasp_md import md_custodian_handlers, md_incar, md_input_set, parse_vasp_md

        workdir = Path(workdir)
        incar = {**md_incar(atoms, **settings), **self.incar}
        self.write_inputs(md_input_set(atoms, incar, self.potcar_functional), workdir)
        self.run_custodian(workdir, md_custodian_handlers())
        return parse_vasp_md(workdir, settings["sample_interval"], equilibration_steps)

    def neb(
        self,
        initial: Atoms,
        final: Atoms,
        workdir: Path,
        *,
        n_images: int,
        fmax_eV_per_A: float,
        max_steps: int,
        climb: bool,
        endpoint_energies_eV: tuple[float, float] | None = None,
    ) -> NEBResult:
        """VASP NEB in the image-folder layout under custodian's VaspNEBJob; a climbing image
        only with the VTST build (``vtst``); arguments as ``Engine.neb`` (``phasefire.workflows.engines.vasp_neb``)."""
        from custodian.vasp.jobs import VaspNEBJob

        from phasefire.workflows.engines.vasp_neb import (
            neb_custodian_handlers,
            neb_incar,
            parse_vasp_neb,
            vasp_order,
            write_image_folders,
        )  # fmt: skip

        require_positive("fmax_eV_per_A", fmax_eV_per_A)
        workdir = Path(workdir)
        order = vasp_order(initial)
        images = [image[order] for image in interpolate_images(initial, final, n_images)]
        input_set = self.relax_input_set(images[0], fmax_eV_per_A=fmax_eV_per_A, relax_cell=False, max_steps=max_steps)
        input_set.user_incar_settings = {
            **input_set.user_incar_settings,
            **neb_incar(n_images, fmax_eV_per_A, max_steps, climb, self.vtst),
            **self.incar,
        }
        self.write_inputs(input_set, workdir)
        write_image_folders(images, workdir)
        self.run_custodian(workdir, neb_custodian_handlers(), job_type=VaspNEBJob, validators=[])
        result = parse_vasp_neb(workdir, endpoint_energies_eV)
        original = np.argsort(order)
        result.images = [image[original] for image in result.images]
        result.extra["climbing_image"] = bool(climb and self.vtst)
        return result


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


def parse_vasp_run(workdir: Path) -> CalcResult:
    """Final structure, energy, forces and stress from vasprun.xml (pymatgen)."""
    vasprun = load_vasprun(workdir)
    last = vasprun.ionic_steps[-1]
    stress_kbar = np.asarray(last["stress"], dtype=float) if last.get("stress") is not None else None
    return CalcResult(
        atoms=AseAtomsAdaptor.get_atoms(vasprun.final_structure),
        energy_eV=float(vasprun.final_energy),
        forces_eV_per_A=np.asarray(last["forces"], dtype=float),
        # vasprun stress is in kBar with pressure positive; ASE convention is the negative, in GPa
        stress_GPa=None if stress_kbar is None else -stress_kbar / 10.0,
        converged=bool(vasprun.converged),
        n_steps=len(vasprun.ionic_steps),
        files={"vasprun": "vasprun.xml"},
        extra={"vasp_version": vasprun.vasp_version, "kpoints": [list(k) for k in vasprun.kpoints.kpts]},
    )
