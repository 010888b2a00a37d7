"""Running VASP: writing an input set (POTCAR library checked) and custodian with the handler
group of each calculation type."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from phasefire.workflows.errors import PhasefireError


def relax_handlers() -> list:
    """custodian's standard handlers for relaxations and static runs (as atomate2 uses them)."""
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


def static_handlers() -> list:
    """Static runs: the relaxation group without the ionic handlers (no ionic steps to fix)."""
    from custodian.vasp.handlers import PotimErrorHandler, UnconvergedErrorHandler

    return [h for h in relax_handlers() if not isinstance(h, PotimErrorHandler | UnconvergedErrorHandler)]


#: VaspErrorHandler errors whose fixes leave the physics and ALGO alone (bands, projection, I/O)
MD_SAFE_VASP_ERRORS = ["too_few_bands", "nbands_not_sufficient", "auto_nbands", "rspher", "real_optlay"]


def md_handlers() -> list:
    """AIMD: band-count/projection errors, a frozen job restarted from CONTCAR (ALGO is Normal, so
    nothing else changes) and out-of-memory; no electronic or ionic convergence handlers that
    would switch ALGO or POTIM mid-run."""
    from custodian.vasp.handlers import FrozenJobErrorHandler, StdErrHandler, VaspErrorHandler

    return [VaspErrorHandler(errors_subset_to_catch=MD_SAFE_VASP_ERRORS), FrozenJobErrorHandler(), StdErrHandler()]


def neb_handlers() -> list:
    """Handlers that understand the NEB layout (they read neb_vasp.out, not vasprun.xml)."""
    from custodian.vasp.handlers import FrozenJobErrorHandler, StdErrHandler, VaspErrorHandler

    return [
        VaspErrorHandler(output_filename="neb_vasp.out"),
        FrozenJobErrorHandler(output_filename="neb_vasp.out"),
        StdErrHandler(output_filename="neb_std_err.txt"),
    ]


def check_potcar_library(potcar_dir: str | None) -> str:
    """The POTCAR library root in use (worker setting, else PMG_VASP_PSP_DIR), or a one-line error."""
    from pymatgen.core import SETTINGS

    if potcar_dir:
        SETTINGS["PMG_VASP_PSP_DIR"] = str(potcar_dir)
    root = SETTINGS.get("PMG_VASP_PSP_DIR")
    if not root or not Path(root).is_dir():
        raise PhasefireError(
            f"no POTCAR library found (potcar_dir={root}); set worker.potcar_dir in launchpad.yaml "
            "or PMG_VASP_PSP_DIR to the folder holding POT_PAW_PBE_54"
        )
    return root


def check_potcars(potcar_dir: str | None, potcar_functional: str, elements: set[str]) -> None:
    """A one-line error unless the POTCAR library holds a POTCAR for every element."""
    from pymatgen.io.vasp.inputs import PotcarSingle
    from pymatgen.io.vasp.sets import MPRelaxSet

    root = check_potcar_library(potcar_dir)
    symbols = MPRelaxSet.CONFIG["POTCAR"]  # the POTCAR variant the input sets choose per element
    missing = []
    for element in sorted(elements):
        try:
            PotcarSingle.from_symbol_and_functional(symbols.get(element, element), potcar_functional)
        except (OSError, ValueError, RuntimeError):
            missing.append(element)
    if missing:
        raise PhasefireError(
            f"no {potcar_functional} POTCAR for {', '.join(missing)} under {root}; add them or set worker.potcar_dir"
        )


def write_inputs(input_set, workdir: Path, potcar_dir: str | None, potcar_functional: str) -> None:
    """Write INCAR, KPOINTS, POSCAR and POTCAR, turning a missing POTCAR into a one-line error."""
    root = check_potcar_library(potcar_dir)
    try:
        input_set.write_input(str(workdir))
    except (OSError, ValueError) as exc:
        raise PhasefireError(
            f"cannot write VASP inputs: {str(exc).splitlines()[0]}; "
            f"check that {root} holds the {potcar_functional} POTCAR folder for every element"
        ) from None


def vasp_command(vasp_cmd: str) -> list[str]:
    """The VASP command as argv, or a one-line error when its executable is not on this machine."""
    command = shlex.split(vasp_cmd)
    if next((word for word in command if shutil.which(word)), None) is None:
        raise PhasefireError(
            f"VASP executable not found: '{vasp_cmd}'; set worker.vasp_cmd in launchpad.yaml "
            "(or PHASEFIRE_VASP_CMD) to the command that runs VASP on this machine"
        )
    return command


def run_custodian(workdir: Path, job, handlers: list, validators: list, max_errors: int, polling_time_step_s: float):
    """Run ``job`` in ``workdir`` under custodian; an unrecoverable run is a one-line error."""
    from custodian import Custodian

    custodian = Custodian(
        handlers,
        [job],
        validators=validators,
        max_errors=max_errors,
        polling_time_step=polling_time_step_s,
        directory=str(workdir),
    )
    try:
        custodian.run()
    except Exception as exc:  # custodian raises its own error types for unrecoverable runs
        raise PhasefireError(
            f"VASP run in {workdir} failed under custodian ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
            "see custodian.json and vasp.out there"
        ) from None


def born_handlers() -> list:
    """DFPT / finite-field runs: the static group (the ionic steps of IBRION 6/8 are displacements,
    not a relaxation custodian could correct)."""
    return static_handlers()


def berry_handlers() -> list:
    """LCALCPOL single points: the static group."""
    return static_handlers()


def field_handlers() -> list:
    """Relaxation under a field: the relaxation group plus LargeSigmaHandler, which reads the OUTCAR's
    electronic iterations; custodian >= 2025 parses the per-direction iterations a field run prints
    (custodian issue #360, fixed by PR #361; tests/workflows/test_field_vasp.py checks it on an OUTCAR
    carrying field lines)."""
    from custodian.vasp.handlers import LargeSigmaHandler

    return [*relax_handlers(), LargeSigmaHandler()]
