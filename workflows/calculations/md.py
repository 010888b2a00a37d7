"""Molecular dynamics: NVT, or full-cell NPT, Langevin; checkpointed so that a killed run resumes.

Integrator: ASE's ``LangevinBAOAB`` (Leimkuhler–Matthews BAOAB Langevin for the atoms,
Quigley–Probert Langevin–Hoover for a fully flexible cell), the closest ASE analogue of
VASP's MDALGO=3 (Langevin) with ISIF=3. Friction times are shared with the VASP engine
(LANGEVIN_GAMMA = 1000 / THERMOSTAT_TIME_FS ps^-1).

Checkpoint: every ``sample_interval`` steps a frame (positions, momenta, cell, energy,
forces, stress) is appended to ``md.traj`` and then ``md-state.json`` is replaced atomically
with everything needed to continue bit for bit: step counter, positions, momenta, cell,
the barostat's cell momentum and cell force, and the random generator's state. A rerun in
the same folder with the same plan continues from that state and first cuts the trajectory
back to the frames it covers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator
from ase.io import Trajectory
from ase.md.langevinbaoab import LangevinBAOAB
from ase.md.velocitydistribution import Stationary, thermalize_momenta
from pydantic import Field, model_validator

from phasefire.workflows.calculations.base import CalcResult, Settings, TaskContext
from phasefire.workflows.calculations.structures import (
    StructureCalculation,
    StructureInput,
    StructureOutput,
    structure_output,
)
from phasefire.workflows.documents import TaskDocument
from phasefire.workflows.errors import PhasefireError

MD_TRAJECTORY = "md.traj"
MD_STATE = "md-state.json"
#: a readable log, one line per sample (``phasefire status``/``show`` print its last line)
MD_LOG = "md.log"
MD_LOG_HEADER = f"# {'step':>10} {'time_fs':>12} {'T_K':>9} {'P_GPa':>9} {'E_eV':>14}\n"


def _md_log_line(atoms: Atoms, step: int, timestep_fs: float) -> str:
    """step, time (fs), temperature (K), pressure (GPa; from the stress, NaN without one),
    potential energy (eV) of the current frame."""
    try:
        pressure_GPa = -float(np.trace(atoms.get_stress(voigt=False))) / 3 / units.GPa
    except Exception:  # noqa: BLE001 (a calculator without stress: the log shows nan)
        pressure_GPa = float("nan")
    return (f"  {step:>10d} {step * timestep_fs:>12.1f} {atoms.get_temperature():>9.1f} {pressure_GPa:>9.3f} "
            f"{atoms.get_potential_energy():>14.5f}\n")  # fmt: skip


#: Langevin friction time of the atoms (fs): 100 fs = VASP LANGEVIN_GAMMA 10 ps^-1
THERMOSTAT_TIME_FS = 100.0
#: default cell fluctuation/friction time of the barostat (fs): short enough for ps-scale pressure steps
BAROSTAT_TIME_FS = 500.0

GRAMS_PER_AMU = 1.66053906660e-24


class MDSettings(Settings):
    """temperature_K: thermostat target (K), ramping linearly to temperature_end_K (K; default
    constant); pressure_GPa: full-cell NPT at this pressure (GPa; None: NVT); timestep_fs (fs);
    steps: MD steps; sample_interval: steps between trajectory frames and checkpoints;
    equilibration_steps: steps left out of the averages; barostat_time_fs: the cell's fluctuation and
    friction time under NPT (fs; VASP LANGEVIN_GAMMA_L = 1000 / barostat_time_fs ps^-1); seed: the
    thermostat's random seed."""

    temperature_K: float = Field(gt=0)
    temperature_end_K: float | None = Field(None, gt=0)
    pressure_GPa: float | None = None
    timestep_fs: float = Field(gt=0)
    steps: int = Field(ge=1)
    sample_interval: int = Field(ge=1)
    equilibration_steps: int = Field(0, ge=0)
    barostat_time_fs: float = Field(BAROSTAT_TIME_FS, gt=0)
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _whole_frames(self) -> MDSettings:
        if self.steps % self.sample_interval:
            raise ValueError(f"steps ({self.steps}) must be a multiple of sample_interval ({self.sample_interval})")
        if self.equilibration_steps >= self.steps:
            raise ValueError(f"equilibration_steps ({self.equilibration_steps}) must be below steps ({self.steps})")
        return self


class MDOutput(StructureOutput):
    """The final structure plus means and standard deviations over the sampled frames."""

    n_frames: int
    sample_start_frame: int
    n_samples: int
    mean_volume_per_atom_A3: float
    std_volume_per_atom_A3: float
    mean_density_g_cm3: float
    mean_pressure_GPa: float
    std_pressure_GPa: float
    mean_temperature_K: float
    std_temperature_K: float
    resumed_from_step: int | None = None
    timestep_fs: float
    md_steps_per_s: float | None = None


class MDDocument(TaskDocument):
    task_type: Literal["md"] = "md"
    input: StructureInput
    output: MDOutput

    def summary(self) -> str:
        out = self.output
        return (
            f"T {out.mean_temperature_K:.0f} K, P {out.mean_pressure_GPa:.2f} GPa, "
            f"rho {out.mean_density_g_cm3:.3f} g/cm3, {out.n_frames} frames"
        )


def md_summary(frames: list[Atoms], first_sample: int, temperatures_K: np.ndarray | None = None) -> dict[str, Any]:
    """Means and standard deviations over frames[first_sample:]: volume (Å^3/atom), density
    (g/cm^3), temperature (K; from the frames' momenta unless ``temperatures_K`` gives one
    per frame) and pressure (GPa, virial from the stored stress + kinetic N k_B T / V)."""
    first_sample = min(first_sample, len(frames) - 1)
    sampled = frames[first_sample:]
    n_atoms = len(sampled[0])
    volume = np.array([a.get_volume() for a in sampled])
    if temperatures_K is None:
        temperature = np.array([a.get_temperature() for a in sampled])
    else:
        temperature = np.asarray(temperatures_K, dtype=float)[first_sample:]
    virial = np.array([-np.trace(a.get_stress(voigt=False)) / 3 / units.GPa for a in sampled])
    pressure = virial + n_atoms * units.kB * temperature / volume / units.GPa
    density = sampled[0].get_masses().sum() * GRAMS_PER_AMU / (volume * 1e-24)
    return {
        "n_frames": len(frames),
        "sample_start_frame": first_sample,
        "n_samples": len(sampled),
        "mean_volume_per_atom_A3": float(volume.mean() / n_atoms),
        "std_volume_per_atom_A3": float(volume.std() / n_atoms),
        "mean_density_g_cm3": float(density.mean()),
        "mean_pressure_GPa": float(pressure.mean()),
        "std_pressure_GPa": float(pressure.std()),
        "mean_temperature_K": float(temperature.mean()),
        "std_temperature_K": float(temperature.std()),
    }


def _write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _cut_trajectory(path: Path, n_frames: int) -> None:
    """Keep the first n_frames of a trajectory (frames written after the last state are dropped)."""
    with Trajectory(str(path)) as trajectory:
        if len(trajectory) == n_frames:
            return
        if len(trajectory) < n_frames:
            raise PhasefireError(
                f"{path} holds {len(trajectory)} frames but its checkpoint needs {n_frames}; rerun from zero"
            )
        frames = [trajectory[k] for k in range(n_frames)]
    tmp = path.with_name(path.name + ".part")
    with Trajectory(str(tmp), "w") as trajectory:
        for frame in frames:
            trajectory.write(frame)
    os.replace(tmp, path)


def langevin_md(atoms: Atoms, calculator: Calculator, workdir: Path, settings: MDSettings) -> CalcResult:
    """NVT (pressure_GPa None) or full-cell NPT Langevin MD of ``atoms`` with ``calculator``;
    frames (and checkpoints) every sample_interval steps in md.traj / md-state.json; a rerun in
    the same ``workdir`` with the same settings continues from the last checkpoint."""
    workdir = Path(workdir)
    temperature_K, pressure_GPa, timestep_fs = settings.temperature_K, settings.pressure_GPa, settings.timestep_fs
    steps, sample_interval, seed = settings.steps, settings.sample_interval, settings.seed
    barostat_time_fs = settings.barostat_time_fs
    end_K = temperature_K if settings.temperature_end_K is None else settings.temperature_end_K
    plan = {"temperature_K": temperature_K, "temperature_end_K": end_K, "pressure_GPa": pressure_GPa,
            "timestep_fs": timestep_fs, "steps": steps, "sample_interval": sample_interval, "seed": seed,
            "barostat_time_fs": barostat_time_fs}  # fmt: skip
    trajectory_path, state_path = workdir / MD_TRAJECTORY, workdir / MD_STATE
    state = json.loads(state_path.read_text()) if state_path.is_file() else None
    if state is not None and state["plan"] != plan:
        state = None  # a different run in this folder: start over

    atoms = atoms.copy()
    atoms.calc = calculator
    rng = np.random.default_rng(seed)
    if state is None:
        trajectory_path.unlink(missing_ok=True)
        if not atoms.get_momenta().any():
            thermalize_momenta(atoms, temperature_K, rng=rng)
            Stationary(atoms)
        step = 0
    else:
        atoms.set_cell(state["cell"])
        atoms.set_positions(state["positions"])
        atoms.set_momenta(state["momenta"])
        rng.bit_generator.state = state["rng"]
        step = int(state["step"])
        _cut_trajectory(trajectory_path, step // sample_interval)

    dynamics = LangevinBAOAB(
        atoms,
        timestep_fs * units.fs,
        temperature_K=temperature_K,
        externalstress=None if pressure_GPa is None else -pressure_GPa * units.GPa,
        T_tau=THERMOSTAT_TIME_FS * units.fs,
        P_tau=barostat_time_fs * units.fs,
        rng=rng,
    )
    if state is not None and pressure_GPa is not None:  # the barostat's state as the killed run left it
        dynamics.p_eps = np.asarray(state["cell_momentum"])
        dynamics.force_eps = np.asarray(state["cell_force"])
    log_path = workdir / MD_LOG
    if state is None or not log_path.is_file():
        log_path.write_text(MD_LOG_HEADER)
    else:
        with open(log_path, "a") as log:
            log.write(f"# resumed from the checkpoint at step {step}\n")
    with Trajectory(str(trajectory_path), "a") as trajectory:
        while step < steps:
            dynamics.set_temperature(temperature_K + (end_K - temperature_K) * (step + 1) / steps)
            dynamics.step()
            step += 1
            if step % sample_interval == 0:
                trajectory.write(atoms)
                _write_json_atomically(state_path, {
                    "plan": plan,
                    "step": step,
                    "cell": atoms.cell.array.tolist(),
                    "positions": atoms.positions.tolist(),
                    "momenta": atoms.get_momenta().tolist(),
                    "cell_momentum": np.asarray(getattr(dynamics, "p_eps", 0.0)).tolist(),
                    "cell_force": np.asarray(getattr(dynamics, "force_eps", 0.0)).tolist(),
                    "rng": rng.bit_generator.state,
                })  # fmt: skip
                with open(log_path, "a") as log:
                    log.write(_md_log_line(atoms, step, timestep_fs))

    with Trajectory(str(trajectory_path)) as trajectory:
        frames = list(trajectory)
    details = md_summary(frames, settings.equilibration_steps // sample_interval)
    details.update(resumed_from_step=None if state is None else int(state["step"]), timestep_fs=timestep_fs)
    stress = atoms.get_stress(voigt=False) / units.GPa
    return CalcResult(
        atoms=atoms,
        energy_eV=float(atoms.get_potential_energy()),
        forces_eV_per_A=np.asarray(atoms.get_forces()),
        stress_GPa=stress,
        converged=True,
        n_steps=steps,
        files={"trajectory": MD_TRAJECTORY},
        details=details,
    )


#: MD statistics that go to the document's output beside the final structure
MD_STATISTICS = tuple(name for name in MDOutput.model_fields if name not in StructureOutput.model_fields)


class MolecularDynamics(StructureCalculation):
    task_type = "md"
    settings_type = MDSettings
    document_type = MDDocument

    def run_with_calculator(self, engine, inputs: Atoms, workdir: Path, settings: MDSettings) -> CalcResult:
        return langevin_md(inputs, engine.calculator(), workdir, settings)

    def output(self, result: CalcResult, settings: MDSettings, context: TaskContext) -> dict[str, Any]:
        """The final structure plus the frame statistics; the MD rate from the task's wall time."""
        statistics = {key: result.details[key] for key in MD_STATISTICS if key in result.details}
        engine_details = {key: value for key, value in result.details.items() if key not in MD_STATISTICS}
        output = {**structure_output(result), **statistics, "engine_details": engine_details}
        output["md_steps_per_s"] = settings.steps / context.wall_time_s if context.wall_time_s > 0 else None
        return output

    def publish(self, document: TaskDocument, slot: str | None) -> dict[str, Any]:
        """Children continue from the final structure and velocities (the trajectory's last frame)."""
        published = super().publish(document, slot)
        trajectory = document.files.get("trajectory")
        if trajectory:
            published["velocities_from"] = str(Path(document.run_dir) / trajectory)
        return published
