"""Amorphous Sb2Se3 under pressure (Zhang et al., PRL 127, 127002 (2021)): the campaign's
workflow from a profile, and its summary from the stored task documents.

Engine default (``phasefire validate models``; ``validation.STUDY_ENGINE_DEFAULTS``): SevenNet
7net-l3i5 with D3(BJ). Pnma Sb2Se3 errors vs experiment (a/b/c, V, %): 7net-l3i5 + D3(BJ)
-0.8/0.0/-2.7 (-3.6) against CHGNet +6.4/+2.9/-1.0 (+8.4) and 7net-l3i5 alone +8.6/+1.1/-1.1
(+8.5); CHGNet + D3 collapses the cell (-10 % V). The layered crystal's van der Waals gaps need
dispersion. It costs 6.4x CHGNet per MD step here, too much for the quick profile's ~30-minute
budget, so the quick profile runs CHGNet (``validation.PROFILE_ENGINE_DEFAULTS``; its report says
why); the paper profile runs the validated pair.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fireworks import Workflow

from phasefire.workflows.errors import PhasefireError

#: why a small, fast campaign can miss the paper's landmarks (written into every report)
CAVEATS = [
    "System size and time: the quick profile has ~100 atoms and ps-scale stages (quench rate ~10^3 K/ps, "
    "750 fs = 3 barostat times of equilibration and 450 fs sampling per pressure) against the paper's AIMD; "
    "landmarks found on its 8-point ladder (12 in the paper profile) are quantised to the ladder's pressures "
    "and carry the noise of a few frames. At 0 GPa the cells are softest: the 60-atom crystal's volume swung "
    "between -6 % and +5 % of its mean with a ~650 fs period, longer than the sampling window, so the settling "
    "check can flag a 0 GPa stage on that oscillation alone (its md.traj shows which).",
    "Potential: a universal MLIP is not the paper's DFT (PBE in VASP); its equation of state and bonding "
    "of Sb2Se3 under pressure, and so the crossover pressure, can be shifted by several GPa (CHGNet alone: "
    "Pnma +8.4 % in volume and a crossover at 38.8 GPa; the default 7net-l3i5 + D3(BJ): -3.6 %). With "
    "CHGNet the amorphous and 300 K crystal volumes stay within ~1 % of each other from 12 to 35 GPa, so "
    "whether and where they cross moves with the seed and the compression rate (measured: seed 0 with "
    "650-step stages 12 GPa, with 400-step stages no crossing, closest +0.5 % at 24 GPa; seed 1 with "
    "400-step stages 20.7 GPa).",
    "Temperature: the headline crossover compares the amorphous ladder with the Pnma crystal run by the same "
    "NPT MD at 300 K (the paper's crossover is against room-temperature experimental data); the crystal relaxed "
    "at 0 K is shown beside it for reference. The amorphous density at 0 GPa comes out of the quench rather "
    "than being fixed at the experimental value.",
    "Definitions: bonds are pairs within one fixed cutoff for CN, ADF and rings (the paper does not state "
    "its own); the 60° onset is a half-rise criterion and the ring landmark the pressure where 3-rings "
    "become the most common size.",
]


def study_workflow(
    profile_name: str, overrides: dict[str, Any], engine_name: str, seed: int, name: str | None = None
) -> tuple[Workflow, dict[str, Any]]:
    """(workflow, resolved profile): keys of the profile in ``overrides`` configure the campaign,
    the rest are engine parameters (checked now; an unknown key lists both)."""
    from phasefire.workflows.amorphous import amorphous_workflow, resolve_profile, split_overrides
    from phasefire.workflows.commands.submit import engine_spec
    from phasefire.workflows.studies.validation import study_engine_params

    resolve_profile(profile_name)
    profile_overrides, engine_params = split_overrides(overrides, profile_name)
    engine_params = study_engine_params("sb2se3", engine_name, engine_params, profile_name)
    profile = resolve_profile(profile_name, profile_overrides)
    engine = engine_spec(engine_name, engine_params, list(profile))
    return amorphous_workflow(profile, engine, seed=seed, name=name), profile


def campaign_wall_time_s(documents: list[dict[str, Any]]) -> float:
    """First task start to last task end (s), from the documents' creation times and wall times."""
    ends = [datetime.fromisoformat(d["created_at"]).timestamp() for d in documents]
    return max(ends) - min(end - d["wall_time_s"] for end, d in zip(ends, documents))


def campaign_summary(documents: list[dict[str, Any]], name: str, profile: dict[str, Any]) -> dict[str, Any]:
    """Analyse the task documents of campaign ``name``: every compression stage (MD documents with
    a pressure), the Pnma crystal MD at the same pressures (``metadata.phase == 'pnma'``) and every
    crystal relaxation, compared with the paper; the barostat settling of every MD pressure."""
    from phasefire.workflows.reports.sb2se3 import (
        analyse_crystal_stage,
        analyse_stage,
        compare_with_paper,
        settling_summary,
    )
    from phasefire.workflows.studies.sb2se3_elf import elf_comparison, split_documents

    documents, elf_documents = split_documents(documents)

    def pressure(document: dict[str, Any]) -> float | None:
        return document["input"]["settings"].get("pressure_GPa")

    def phase(document: dict[str, Any]) -> str:  # the crystal MD ladder says so; older amorphous stages say nothing
        return document["input"].get("metadata", {}).get("phase", "amorphous")

    compressed = [d for d in documents if d["task_type"] == "md" and pressure(d) is not None]
    ladder = sorted((d for d in compressed if phase(d) == "amorphous"), key=pressure)
    crystal_ladder = sorted((d for d in compressed if phase(d) == "pnma"), key=pressure)
    relaxed = sorted((d for d in documents if d["task_type"] == "relax"), key=pressure)
    if len(ladder) < 2 or not relaxed:
        raise PhasefireError(
            f"campaign '{name}' has {len(ladder)} compression stage(s) and {len(relaxed)} crystal "
            "relaxation(s) stored; run it to the end first (`phasefire status`)"
        )
    stages = [analyse_stage(d, float(profile["bond_cutoff_A"]), int(profile["ring_max_size"])) for d in ladder]
    crystal = [{"pressure_GPa": pressure(d), "volume_per_atom_A3": d["output"]["lattice"]["volume_per_atom_A3"],
                "converged": d["converged"]} for d in relaxed]  # fmt: skip
    crystal_md = [analyse_crystal_stage(d) for d in crystal_ladder]
    md_documents = [d for d in documents if d["task_type"] == "md" and phase(d) == "amorphous"]
    md_steps = sum(d["n_steps"] for d in md_documents)
    crystal_md_steps = sum(d["n_steps"] for d in crystal_ladder)
    return {
        "workflow": name,
        "engine": ladder[0]["engine"]["name"],
        "engine_spec": ladder[0]["engine"],
        "model": ladder[0]["engine"].get("model"),
        "dispersion": ladder[0]["engine"].get("dispersion", "none"),
        "n_atoms": ladder[0]["nsites"],
        "wall_time_s": campaign_wall_time_s(documents),
        "md_steps": md_steps,
        "md_steps_per_s": md_steps / sum(d["wall_time_s"] for d in md_documents),
        "crystal_md_n_atoms": crystal_ladder[0]["nsites"] if crystal_ladder else None,
        "crystal_md_steps": crystal_md_steps,
        "crystal_md_steps_per_s": crystal_md_steps / sum(d["wall_time_s"] for d in crystal_ladder)
        if crystal_ladder
        else None,
        "stages": stages,
        "crystal": crystal,
        "crystal_md": crystal_md,
        "comparison": compare_with_paper(stages, crystal, crystal_md),
        "settling": settling_summary(stages, crystal_md, profile),
        "caveats": CAVEATS,
        "elf": elf_comparison(elf_documents, profile, ladder[0]["engine"]),
    }
