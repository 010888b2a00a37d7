"""Amorphous Sb2Se3 under pressure (Zhang et al., PRL 127, 127002 (2021)): melt–quench of a
random dense start, anneal, then a compression ladder; crystal Pnma relaxed at the same
pressures for the V(P) comparison.

One Firework per MD stage (melt → quench → anneal → compress 0 GPa → … → 60 GPa), each
starting from its parent's end structure and velocities (``update_spec``), so a campaign is
visible and restartable stage by stage; the crystal relaxations are independent Fireworks.
Every parameter lives in ``PROFILES``; ``--set KEY=VALUE`` overrides any of them.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from ase import units
from fireworks import FiretaskBase, Firework, FWAction, Workflow, explicit_serialize

from phasefire.structures import build
from phasefire.structures.amorphous import AMORPHOUS_SB2SE3_DENSITY_G_CM3, amorphous_sb2se3_start
from phasefire.workflows.engines import load_engine
from phasefire.workflows.errors import PhasefireError
from phasefire.workflows.relax import RelaxMaker
from phasefire.workflows.tasks import atoms_from_dict, atoms_to_dict, store_calculation
from phasefire.workflows.worker import RUNS_DIR_VARIABLE

#: the issue's compression ladder (GPa)
PRESSURES_GPA = [0, 4, 8, 12, 16, 20, 24, 30, 35, 40, 50, 60]

#: every parameter of the campaign (MD, start, crystal branch, analysis), by profile
PROFILES: dict[str, dict[str, Any]] = {
    # ~100 atoms, sub-ps stages: the whole ladder in ≤ 20 min on 2 CPU cores with CHGNet
    "quick": {
        "n_formula_units": 20,  # Sb40Se60
        "density_g_cm3": round(AMORPHOUS_SB2SE3_DENSITY_G_CM3, 4),  # 16 % below Pnma (paper, Fig. 4a)
        "min_distance_A": 2.3,
        "timestep_fs": 3.0,
        "melt_temperature_K": 1200.0,  # Sb2Se3 melts at ~885 K
        "melt_steps": 400,
        "quench_steps": 400,  # linear ramp melt -> anneal temperature
        "anneal_temperature_K": 300.0,
        "anneal_steps": 200,
        "pressures_GPa": PRESSURES_GPA,
        "equilibration_steps": 150,  # per pressure, before sampling
        "sample_steps": 150,  # per pressure, averaged and analysed
        "sample_interval": 10,  # steps between trajectory frames (and checkpoints)
        "crystal_fmax_eV_per_A": 0.02,
        "crystal_max_steps": 300,
        "bond_cutoff_A": 3.2,  # bonds for CN, ADF and rings (Sb–Se first shell ends ~3.2 Å)
        "ring_max_size": 8,
    },
    # ≥ 300 atoms, ps-scale stages: for a GPU or an HPC allocation
    "paper": {
        "n_formula_units": 60,  # Sb120Se180
        "density_g_cm3": round(AMORPHOUS_SB2SE3_DENSITY_G_CM3, 4),
        "min_distance_A": 2.3,
        "timestep_fs": 3.0,
        "melt_temperature_K": 1200.0,
        "melt_steps": 3000,  # 9 ps
        "quench_steps": 10000,  # 30 ps, 30 K/ps
        "anneal_temperature_K": 300.0,
        "anneal_steps": 2000,  # 6 ps
        "pressures_GPa": PRESSURES_GPA,
        "equilibration_steps": 2000,  # 6 ps
        "sample_steps": 2000,  # 6 ps
        "sample_interval": 20,
        "crystal_fmax_eV_per_A": 0.01,
        "crystal_max_steps": 500,
        "bond_cutoff_A": 3.2,
        "ring_max_size": 10,
    },
}


def resolve_profile(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The named profile with ``overrides`` (keys must be profile keys), checked for consistency."""
    if name not in PROFILES:
        raise PhasefireError(f"unknown profile '{name}'; choose one of {', '.join(PROFILES)}")
    overrides = overrides or {}
    unknown = set(overrides) - set(PROFILES[name])
    if unknown:
        raise PhasefireError(
            f"profile has no parameter {', '.join(sorted(unknown))}; valid ones: {', '.join(PROFILES[name])}"
        )
    profile = {**PROFILES[name], **overrides}
    profile["pressures_GPa"] = [float(p) for p in np.atleast_1d(profile["pressures_GPa"])]
    interval = int(profile["sample_interval"])
    for key in ("melt_steps", "quench_steps", "anneal_steps", "equilibration_steps", "sample_steps"):
        if int(profile[key]) < interval or int(profile[key]) % interval:
            raise PhasefireError(f"{key} = {profile[key]} must be a positive multiple of sample_interval = {interval}")
    return profile


def split_overrides(overrides: dict[str, Any], profile_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(profile overrides, engine parameters): keys of the profile configure the workflow."""
    keys = set(PROFILES.get(profile_name, {}))
    return {k: v for k, v in overrides.items() if k in keys}, {k: v for k, v in overrides.items() if k not in keys}


def md_stages(profile: dict[str, Any], seed: int) -> list[tuple[str, dict[str, Any]]]:
    """(stage name, ``Engine.md`` settings) for melt, quench, anneal and every ladder pressure."""
    common = {"timestep_fs": profile["timestep_fs"], "sample_interval": int(profile["sample_interval"])}
    melt_K, anneal_K = profile["melt_temperature_K"], profile["anneal_temperature_K"]
    stages = [
        ("melt", {"temperature_K": melt_K, "steps": int(profile["melt_steps"])}),
        ("quench", {"temperature_K": melt_K, "temperature_end_K": anneal_K, "steps": int(profile["quench_steps"])}),
        ("anneal", {"temperature_K": anneal_K, "steps": int(profile["anneal_steps"])}),
    ]
    equilibration = int(profile["equilibration_steps"])
    for pressure in profile["pressures_GPa"]:
        stages.append((f"compress {pressure:g} GPa", {
            "temperature_K": anneal_K,
            "pressure_GPa": pressure,
            "steps": equilibration + int(profile["sample_steps"]),
            "equilibration_steps": equilibration,
        }))  # fmt: skip
    return [(name, {**common, **settings, "seed": seed + k}) for k, (name, settings) in enumerate(stages)]


@explicit_serialize
class MDStageTask(FiretaskBase):
    """One MD stage; children receive its end structure and velocities.

    engine: engine spec; stage: stage name ('melt', 'compress 8 GPa'); settings: ``Engine.md``
    keyword arguments; structure: pymatgen Structure dict (else ``spec['structure']`` from the
    parent, with ``spec['velocities_A_per_fs']``); workflow: the workflow's name.
    """

    required_params = ["engine", "stage", "settings"]
    optional_params = ["structure", "workflow"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        settings = dict(self["settings"])
        engine = load_engine(self["engine"], fw_spec.get("_fw_env", {}))
        initial = atoms_from_dict(self.get("structure") or fw_spec["structure"])
        if self.get("structure") is None and fw_spec.get("velocities_A_per_fs") is not None:
            initial.set_velocities(np.asarray(fw_spec["velocities_A_per_fs"]) / units.fs)
        start = time.perf_counter()
        result = engine.md(initial, Path(os.getcwd()), **settings)
        wall_time_s = time.perf_counter() - start
        result.extra["md_steps_per_s"] = settings["steps"] / wall_time_s
        task_id, _ = store_calculation(
            fw_spec,
            task_label=f"md {self['stage']}",
            initial=initial,
            result=result,
            engine=engine,
            settings=settings,
            workflow=self.get("workflow"),
            wall_time_s=wall_time_s,
        )
        return FWAction(
            stored_data={
                "task_id": task_id,
                **{k: result.extra[k] for k in ("mean_pressure_GPa", "mean_density_g_cm3")},
            },
            update_spec={
                "structure": atoms_to_dict(result.atoms),
                "velocities_A_per_fs": (result.atoms.get_velocities() * units.fs).tolist(),
                "parent_task_id": task_id,
            },
        )


def amorphous_workflow(
    profile: dict[str, Any], engine_spec: dict[str, Any], seed: int = 0, name: str | None = None
) -> Workflow:
    """Melt–quench–anneal–compression chain from a seeded random start, plus Pnma relaxed at
    every ladder pressure; run folders ``<workflow>-<id>/<stage>``."""
    name = name or f"amorphous/sb2se3/{engine_spec['name']}"
    launch_dir = f"{name.replace('/', '_')}-{uuid.uuid4().hex[:8]}"
    start = amorphous_sb2se3_start(
        int(profile["n_formula_units"]),
        np.random.default_rng(seed),
        density_g_cm3=float(profile["density_g_cm3"]),
        min_distance_A=float(profile["min_distance_A"]),
    )
    chain: list[Firework] = []
    for k, (stage, settings) in enumerate(md_stages(profile, seed)):
        task = MDStageTask(engine=engine_spec, stage=stage, settings=settings, workflow=name,
                           **({"structure": atoms_to_dict(start)} if k == 0 else {}))  # fmt: skip
        folder = f"{k:02d}-{stage.replace(' ', '-')}"
        chain.append(Firework(
            [task], name=f"md {stage}", parents=chain[-1:] or None,
            spec={"_launch_dir": f"${RUNS_DIR_VARIABLE}/{launch_dir}/{folder}", "_priority": len(chain)},
        ))  # fmt: skip
    crystal = build("sb2se3-pnma")
    relaxations = [
        RelaxMaker(
            fmax_eV_per_A=float(profile["crystal_fmax_eV_per_A"]),
            max_steps=int(profile["crystal_max_steps"]),
            pressure_GPa=pressure,
        ).make(crystal, f"sb2se3-pnma-{pressure:g}GPa", engine_spec, name, launch_dir)
        for pressure in profile["pressures_GPa"]
    ]
    return Workflow(
        chain + relaxations, name=name, metadata={"phasefire": "amorphous", "engine": engine_spec["name"], "seed": seed}
    )
