"""Amorphous Sb2Se3 under pressure (Zhang et al., PRL 127, 127002 (2021)): melt–quench of a
random dense start, anneal, then a compression ladder; crystal Pnma at the same pressures for the
V(P) comparison, both run by the same NPT MD at the ladder's temperature (the paper's crossover is
against room-temperature experimental data) and relaxed at 0 K (for reference).

One Firework per MD stage (melt → quench → anneal → compress 0 GPa → … → 60 GPa), each
starting from its parent's end structure and velocities (the parent's trajectory, referenced
by path: arrays never go into specs), so a campaign is visible and restartable stage by stage; the crystal relaxations are independent Fireworks.
The crystal MD is a second chain, independent of the amorphous one (one ladder per worker with ``--workers 2``).
Every parameter lives in ``PROFILES``; ``--set KEY=VALUE`` overrides any of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fireworks import Firework, Workflow

from phasefire.structures import build
from phasefire.structures.amorphous import AMORPHOUS_SB2SE3_DENSITY_G_CM3, amorphous_sb2se3_start
from phasefire.workflows.errors import PhasefireError
from phasefire.workflows.makers import CalculationMaker, run_folder
from phasefire.workflows.naming import safe_slug

#: the issue's compression ladder (GPa)
PRESSURES_GPA = [0, 4, 8, 12, 16, 20, 24, 30, 35, 40, 50, 60]
#: the quick profile's ladder: >= 3 points on each side of the paper's 16 GPa (for the LDA/HDA branch fits),
#: the 20 GPa landmarks bracketed, 35 GPa (the paper's HDA ELF, Fig. 5) kept
QUICK_PRESSURES_GPA = [0, 4, 8, 12, 16, 20, 24, 35]

#: every parameter of the campaign (MD, start, crystal branch, analysis), by profile
PROFILES: dict[str, dict[str, Any]] = {
    # ~100 atoms, ps-scale stages, sized to finish within ~30 min on 2 cores with CHGNet.
    # Settling, measured here (CHGNet, 300 K, 3 fs, same seed, each from the previous pressure's end
    # state; volume every 30 fs): the amorphous 0 -> 4 GPa step (-21 % in volume, the ladder's largest)
    # comes within 1 % of its new mean after ~400 fs with a barostat time (LangevinBAOAB P_tau) of 250 fs
    # and of 500 fs alike, the Pnma 1x3x1 0 -> 4 GPa step (-20 %) after ~250-450 fs; the approach is set by
    # the atoms, not the barostat. From the previous run's stages: from 8 GPa up each step settles
    # within ~500 fs. So each pressure equilibrates 250 steps (750 fs: ~2x that approach, 3 barostat
    # times at 250 fs) before 150 sampled steps (450 fs, ~2 barostat times, so the check below sees
    # about two cell oscillations); the report flags a pressure whose mean volume moves by more than
    # volume_drift_tolerance_percent between the first and second half of its sampling
    # (reports/sb2se3.py: settling_summary). The barostat time only sets how fast the cell moves, not
    # the NPT averages; the paper profile keeps md.BAROSTAT_TIME_FS = 500 fs.
    # Cost per NPT MD step at 100 atoms, 2 idle cores, 2 torch threads (1 thread): CHGNet 0.17 s (0.24 s),
    # 7net-l3i5 + D3(BJ) 1.08 s (1.83 s), 6.4x; at 60 atoms (the Pnma 1x3x1) 0.12 s and 0.45 s. Steps get
    # dearer with density (CHGNet's 3 Å bond graph grows 7x from 0 to 35 GPa): with --workers 2 (one
    # torch thread each) a 650-step stage took 124 s at 0 GPa and 408 s at 35 GPa. The amorphous chain is
    # the critical path (1,000 melt-quench-anneal steps + 8 x 400), hours with 7net-l3i5 + D3(BJ); so
    # the quick profile runs CHGNet (studies/validation.py: PROFILE_ENGINE_DEFAULTS, said in the report)
    # and --workers 2 runs the crystal ladder and the ELF part beside it.
    "quick": {
        "n_formula_units": 20,  # Sb40Se60
        "density_g_cm3": round(AMORPHOUS_SB2SE3_DENSITY_G_CM3, 4),  # 16 % below Pnma (paper, Fig. 4a)
        "min_distance_A": 2.3,
        "timestep_fs": 3.0,
        "barostat_time_fs": 250.0,  # NPT stages (LangevinBAOAB P_tau); settling measured above
        "melt_temperature_K": 1200.0,  # Sb2Se3 melts at ~885 K
        "melt_steps": 400,
        "quench_steps": 400,  # linear ramp melt -> anneal temperature
        "anneal_temperature_K": 300.0,
        "anneal_steps": 200,
        "pressures_GPa": QUICK_PRESSURES_GPA,
        "equilibration_steps": 250,  # per pressure, before sampling: 750 fs = 3 barostat times
        "sample_steps": 150,  # per pressure, averaged and analysed: 450 fs, 15 frames
        "sample_interval": 10,  # steps between trajectory frames (and checkpoints)
        "crystal_fmax_eV_per_A": 0.02,
        "crystal_max_steps": 300,
        # 60 atoms, 11.6 x 11.8 x 11.4 Å: near-cubic, every axis > 2 x the 5 Å model cutoff (the 20-atom cell's b
        # is 3.9 Å; 1x2x1 leaves b = 7.8 Å and larger volume noise for 0.54x the cost); off the critical path
        "crystal_md_supercell": [1, 3, 1],
        "crystal_md_equilibration_steps": 250,  # 3 barostat times, as the amorphous ladder
        "crystal_md_sample_steps": 150,
        "volume_drift_tolerance_percent": 1.0,  # settling flag: |<V> 2nd half - <V> 1st half| of sampling
        "bond_cutoff_A": 3.2,  # bonds for CN, ADF and rings (Sb–Se first shell ends ~3.2 Å)
        "ring_max_size": 8,
        # ELF (paper Fig. 5c-d; workflows/studies/sb2se3_elf.py): a 100-atom GPAW frame costs ~1 h on 2
        # cores, so a 40-atom companion chain (same MD protocol, short stages) gives the LDA and HDA
        # frames: GPAW at Γ, PW 250 eV, ~2.5 min per frame + ~1 min for Pnma; `--set elf=false` skips it
        "elf": True,
        "elf_pressures_GPa": [0.0, 35.0],  # LDA, HDA
        "elf_n_formula_units": 8,  # Sb16Se24 companion chain (0: the campaign's own frames)
        "elf_stage_steps": 200,  # per companion stage: melt, quench, anneal, each ELF pressure
        "elf_ecut_eV": 250.0,  # GPAW plane waves (ELF engine of an ML-potential campaign)
        "elf_crystal_kpoint_density_per_inv_A": 1.5,  # Pnma: 1x3x1
    },
    # ≥ 300 atoms, ps-scale stages: for a GPU or an HPC allocation
    "paper": {
        "n_formula_units": 60,  # Sb120Se180
        "density_g_cm3": round(AMORPHOUS_SB2SE3_DENSITY_G_CM3, 4),
        "min_distance_A": 2.3,
        "timestep_fs": 3.0,
        "barostat_time_fs": 500.0,  # md.BAROSTAT_TIME_FS
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
        "crystal_md_supercell": [2, 6, 2],  # 480 atoms
        "crystal_md_equilibration_steps": 2000,  # 6 ps
        "crystal_md_sample_steps": 2000,
        "volume_drift_tolerance_percent": 0.5,
        "bond_cutoff_A": 3.2,
        "ring_max_size": 10,
        # ELF on the campaign's own 0 and 35 GPa frames (GPAW for an ML potential: an HPC job at ~300 atoms)
        "elf": True,
        "elf_pressures_GPa": [0.0, 35.0],
        "elf_n_formula_units": 0,
        "elf_stage_steps": 2000,  # used only with elf_n_formula_units > 0
        "elf_ecut_eV": 300.0,
        "elf_crystal_kpoint_density_per_inv_A": 1.5,
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
    for key in ("melt_steps", "quench_steps", "anneal_steps", "equilibration_steps", "sample_steps",
                "crystal_md_equilibration_steps", "crystal_md_sample_steps"):  # fmt: skip
        if int(profile[key]) < interval or int(profile[key]) % interval:
            raise PhasefireError(f"{key} = {profile[key]} must be a positive multiple of sample_interval = {interval}")
    supercell = np.atleast_1d(profile["crystal_md_supercell"])
    if supercell.shape != (3,) or np.any(supercell != supercell.astype(int)) or np.any(supercell < 1):
        raise PhasefireError(
            f"crystal_md_supercell = {profile['crystal_md_supercell']} must be three positive integers"
        )
    profile["crystal_md_supercell"] = [int(n) for n in supercell]
    return profile


def split_overrides(overrides: dict[str, Any], profile_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(profile overrides, engine parameters): keys of the profile configure the workflow."""
    keys = set(PROFILES.get(profile_name, {}))
    return {k: v for k, v in overrides.items() if k in keys}, {k: v for k, v in overrides.items() if k not in keys}


def md_stages(profile: dict[str, Any], seed: int) -> list[tuple[str, dict[str, Any]]]:
    """(stage name, ``MDSettings`` values) for melt, quench, anneal and every ladder pressure."""
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
            "barostat_time_fs": profile["barostat_time_fs"],
        }))  # fmt: skip
    return [(name, {**common, **settings, "seed": seed + k}) for k, (name, settings) in enumerate(stages)]


def amorphous_workflow(
    profile: dict[str, Any], engine_spec: dict[str, Any], seed: int = 0, name: str | None = None
) -> Workflow:
    """Melt–quench–anneal–compression chain from a seeded random start, plus Pnma relaxed at
    every ladder pressure; run folders ``<workflow>-<id>/<stage>``."""
    name = name or f"amorphous/sb2se3/{engine_spec['name']}"
    top = run_folder(name)
    start = amorphous_sb2se3_start(
        int(profile["n_formula_units"]),
        np.random.default_rng(seed),
        density_g_cm3=float(profile["density_g_cm3"]),
        min_distance_A=float(profile["min_distance_A"]),
    )
    chain: list[Firework] = []
    for k, (stage, settings) in enumerate(md_stages(profile, seed)):
        maker = CalculationMaker("md", settings)
        maker.check_engine(engine_spec)
        chain.append(maker.make(
            stage, engine_spec, name, f"{top}/{safe_slug(f'{k:02d}-{stage}')}", atoms=start if k == 0 else None,
            parents=chain[-1:], spec={"_priority": len(chain)},
        ))  # fmt: skip
    crystal = build("sb2se3-pnma")
    crystal_md = crystal_md_chain(profile, engine_spec, name, top, seed + len(chain))
    relaxations = []
    for pressure in profile["pressures_GPa"]:
        maker = CalculationMaker("relax", {"fmax_eV_per_A": float(profile["crystal_fmax_eV_per_A"]),
                                           "max_steps": int(profile["crystal_max_steps"]), "pressure_GPa": pressure})  # fmt: skip
        label = f"sb2se3-pnma-{pressure:g}GPa"
        relaxations.append(maker.make(label, engine_spec, name, f"{top}/{safe_slug(label)}", atoms=crystal))
    from phasefire.workflows.studies.sb2se3_elf import elf_fireworks

    relaxations += elf_fireworks(profile, engine_spec, name, top, seed, chain, relaxations)
    return Workflow(
        chain + crystal_md + relaxations,
        name=name,
        metadata={"phasefire": "amorphous", "engine": engine_spec["name"], "seed": seed},
    )


def crystal_md_stages(profile: dict[str, Any], seed: int) -> list[tuple[float, dict[str, Any]]]:
    """(pressure, ``MDSettings`` values) of the Pnma crystal at the amorphous ladder's temperature
    (``anneal_temperature_K``), timestep and barostat, one per ladder pressure."""
    equilibration = int(profile["crystal_md_equilibration_steps"])
    return [(pressure, {
        "temperature_K": profile["anneal_temperature_K"],
        "pressure_GPa": pressure,
        "timestep_fs": profile["timestep_fs"],
        "steps": equilibration + int(profile["crystal_md_sample_steps"]),
        "sample_interval": int(profile["sample_interval"]),
        "equilibration_steps": equilibration,
        "barostat_time_fs": profile["barostat_time_fs"],
        "seed": seed + k,
    }) for k, pressure in enumerate(profile["pressures_GPa"])]  # fmt: skip


def crystal_md_chain(
    profile: dict[str, Any], engine_spec: dict[str, Any], name: str, top: str, seed: int
) -> list[Firework]:
    """Pnma ``crystal_md_supercell`` under NPT MD at every ladder pressure: independent of the amorphous
    chain, chained among themselves like the amorphous ladder (each pressure starts from the previous
    one's end structure and velocities, so the barostat starts near the new volume instead of
    squeezing the experimental cell to 60 GPa in one go). Documents carry ``metadata.phase = 'pnma'``."""
    supercell = [int(n) for n in profile["crystal_md_supercell"]]
    start = build("sb2se3-pnma", tuple(supercell))
    metadata = {"phase": "pnma", "supercell": supercell}
    chain: list[Firework] = []
    for k, (pressure, settings) in enumerate(crystal_md_stages(profile, seed)):
        maker = CalculationMaker("md", settings)
        maker.check_engine(engine_spec)
        label = f"sb2se3-pnma-{'x'.join(map(str, supercell))}-{settings['temperature_K']:g}K-{pressure:g}GPa"
        chain.append(maker.make(
            label, engine_spec, name, f"{top}/{safe_slug(label)}", atoms=start if k == 0 else None,
            parents=chain[-1:], metadata=metadata,
        ))  # fmt: skip
    return chain
