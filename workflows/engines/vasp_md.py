"""VASP ab initio MD (AIMD): inputs, MD-safe custodian handlers and the vasprun.xml parser.

Thermostat/barostat: MDALGO = 3 (Langevin) with ISIF = 3 and PSTRESS for NPT, ISIF = 2 for
NVT; friction LANGEVIN_GAMMA (atoms) and LANGEVIN_GAMMA_L (lattice) in ps^-1 match the
MLIP engine's friction times (``phasefire.workflows.engines.md``). Gamma point only (custodian then
runs ``vasp_gamma_cmd``). PREC = Normal and ENCUT = 300 eV: about 1.4 x the larger ENMAX of
the Sb and Se PBE_54 POTCARs (Se: 212 eV), enough to keep the Pulay stress of a
constant-pressure run small at MD cost (the paper's own MD settings are in its unavailable
supplement); override with ``--set incar.ENCUT=...``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms, units
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import Trajectory
from pymatgen.io.ase import AseAtomsAdaptor

from phasefire.workflows.engines.base import CalcResult
from phasefire.workflows.engines.md import BAROSTAT_TIME_FS, MD_TRAJECTORY, THERMOSTAT_TIME_FS, md_summary

#: INCAR of every AIMD stage, on top of pymatgen's MPMDSet
PAPER_MD_INCAR: dict[str, Any] = {
    "PREC": "Normal",
    "ENCUT": 300,
    "EDIFF": 1e-5,
    "EDIFF_PER_ATOM": None,  # None removes MPMDSet's own tags
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

#: VaspErrorHandler errors whose fixes leave the physics and ALGO alone (bands, projection, I/O)
MD_SAFE_VASP_ERRORS = ["too_few_bands", "nbands_not_sufficient", "auto_nbands", "rspher", "real_optlay"]


def md_custodian_handlers() -> list:
    """Handlers for AIMD: band-count/projection errors, a frozen job restarted from CONTCAR
    (ALGO is Normal, so nothing else changes) and out-of-memory; no electronic or ionic
    convergence handlers that would switch ALGO or POTIM mid-run."""
    from custodian.vasp.handlers import FrozenJobErrorHandler, StdErrHandler, VaspErrorHandler

    return [VaspErrorHandler(errors_subset_to_catch=MD_SAFE_VASP_ERRORS), FrozenJobErrorHandler(), StdErrHandler()]


def md_incar(
    atoms: Atoms,
    *,
    temperature_K: float,
    temperature_end_K: float | None = None,
    pressure_GPa: float | None = None,
    timestep_fs: float,
    steps: int,
    sample_interval: int,
    seed: int = 0,
) -> dict[str, Any]:
    """The stage-specific INCAR tags (temperatures K, POTIM fs, PSTRESS kBar, gammas ps^-1)."""
    n_species = len(set(atoms.get_chemical_symbols()))
    incar = {
        **PAPER_MD_INCAR,
        "TEBEG": temperature_K,
        "TEEND": temperature_K if temperature_end_K is None else temperature_end_K,
        "POTIM": timestep_fs,
        "NSW": int(steps),
        "NBLOCK": int(sample_interval),
        "ISIF": 2 if pressure_GPa is None else 3,
        "LANGEVIN_GAMMA": [1000.0 / THERMOSTAT_TIME_FS] * n_species,
        "RANDOM_SEED": [int(seed), 0, 0],
    }
    if pressure_GPa is not None:
        incar |= {"PSTRESS": 10.0 * pressure_GPa, "LANGEVIN_GAMMA_L": 1000.0 / BAROSTAT_TIME_FS}
    return incar


def md_input_set(atoms: Atoms, incar: dict[str, Any], potcar_functional: str):
    """pymatgen MPMDSet with ``incar`` on top and a Gamma-only k-mesh."""
    from pymatgen.io.vasp.sets import BadInputSetWarning, MPMDSet

    with warnings.catch_warnings():  # choosing PBE_54 over MP's legacy PBE set is deliberate
        warnings.simplefilter("ignore", BadInputSetWarning)
        return MPMDSet(
            AseAtomsAdaptor.get_structure(atoms),
            start_temp=incar["TEBEG"],
            end_temp=incar["TEEND"],
            nsteps=incar["NSW"],
            time_step=incar["POTIM"],
            user_incar_settings=incar,
            user_potcar_functional=potcar_functional,
        )


def parse_vasp_md(workdir: Path, sample_interval: int, equilibration_steps: int = 0) -> CalcResult:
    """Every ``sample_interval``-th ionic step of vasprun.xml written to md.traj (energy,
    forces, stress as a single-point calculator), with the same summary as the MLIP MD
    (temperature from VASP's ionic kinetic energy, 3N - 3 degrees of freedom)."""
    from phasefire.workflows.engines.vasp import load_vasprun

    vasprun = load_vasprun(workdir)
    steps = vasprun.ionic_steps
    frames, temperatures = [], []
    for step in steps[sample_interval - 1 :: sample_interval] or steps[-1:]:
        atoms = AseAtomsAdaptor.get_atoms(step["structure"])
        # vasprun stress: kBar, pressure positive; ASE: eV/Å^3, tension positive
        stress = -np.asarray(step["stress"], dtype=float) / 10.0 * units.GPa
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
        extra={
            **md_summary(frames, equilibration_steps // sample_interval, np.array(temperatures)),
            "timestep_fs": float(vasprun.parameters.get("POTIM", np.nan)),
            "vasp_version": vasprun.vasp_version,
        },
    )
