"""ELF of amorphous Sb2Se3, low- vs high-density (Zhang et al., PRL 127, 127002 (2021), Fig. 5c-d:
localized electrons at 0 GPa turn delocalized at ~35 GPa), beside the Pnma crystal.

Fireworks added to the campaign (``elf_fireworks``): a ``static`` with ``write_elf`` on the last
frame of the compression stage at the lowest and at the highest of ``elf_pressures_GPa`` and on
Pnma relaxed by the campaign engine at the campaign's lowest pressure. The ELF engine follows the
campaign engine: an engine that writes ELF itself (VASP, GPAW) computes it; otherwise (an ML
potential has no electrons) GPAW does, plane waves at ``elf_ecut_eV``, Γ point for the amorphous
cells, ``elf_crystal_kpoint_density_per_inv_A`` for Pnma (1×3×1 at 1.5 Å).

Which frames (``elf_n_formula_units``): 0 takes the campaign's own compression frames (paper
profile; ~300 atoms, an HPC job). A positive number runs a small companion chain first, the
campaign's MD protocol (melt, quench, anneal, then each ELF pressure in turn) on a seeded random
start of that many formula units with ``elf_stage_steps`` steps per stage: GPAW at Γ, PW 250 eV
took 147-174 s for one 40-atom SCF and 73 s for Pnma (20 atoms, 1×3×1 k) on this 2-core machine
under load, where a 100-atom quick-profile frame would take about an hour (measured 2026-12-01).
Its MD documents carry ``input.metadata.elf`` and are kept out of the campaign's ladder
(``split_documents``).

``elf_comparison`` reads the ELF documents: per frame the mean ELF over the cell, the mean
bond-midpoint ELF (bonds < ``bond_cutoff_A``), the volume fraction with ELF > 0.7 and the
Peierls-like distortion of the frame (``analysis.altbc``, bonds up to ``PLD_CUTOFF_A``), and
whether each drops from LDA to HDA as the paper states.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from fireworks import Firework

from phasefire.workflows.errors import PhasefireError

#: the paper's statement this section is checked against
PAPER_STATEMENT = (
    "Fig. 5c-d: highly localized electrons in LDA (0 GPa) transform toward a more delocalized state in HDA "
    "(35 GPa), with a decreased Peierls-like distortion (Fig. 5a-b)."
)
#: bond length limit (Å) of the Peierls-like distortion: long enough for the long bond of a distorted pair
PLD_CUTOFF_A = 3.6
#: lowest pressure (GPa) the paper calls high-density amorphous here
HDA_MIN_GPA = 30.0
#: metadata key marking the ELF part's documents (companion MD stages and the statics)
ELF_KEY = "elf"


def elf_settings(profile: dict[str, Any]) -> dict[str, Any]:
    """The ELF part's profile values, checked now: pressures (sorted floats, the highest ≥ 30 GPa;
    in the campaign ladder when the campaign's own frames are used)."""
    pressures = sorted(float(p) for p in np.atleast_1d(profile["elf_pressures_GPa"]))
    if len(pressures) < 2 or pressures[-1] < HDA_MIN_GPA:
        raise PhasefireError(
            f"elf_pressures_GPa = {pressures} needs a low and a high pressure, the highest >= {HDA_MIN_GPA:g} GPa "
            "(the paper's HDA is ~35 GPa), e.g. --set 'elf_pressures_GPa=[0, 35]'"
        )
    n_units = int(profile["elf_n_formula_units"])
    if n_units < 0:
        raise PhasefireError(f"elf_n_formula_units = {n_units} must be 0 (campaign frames) or positive")
    if n_units == 0:
        missing = [p for p in pressures if p not in profile["pressures_GPa"]]
        if missing:
            raise PhasefireError(
                f"elf_pressures_GPa {missing} are not on the campaign ladder {profile['pressures_GPa']}; "
                "pick ladder pressures or set elf_n_formula_units > 0 for a companion chain"
            )
    steps, interval = int(profile["elf_stage_steps"]), int(profile["sample_interval"])
    if n_units and (steps < 2 * interval or steps % interval):
        raise PhasefireError(
            f"elf_stage_steps = {steps} must be a multiple of sample_interval = {interval}, at least twice it"
        )
    return {"pressures_GPa": pressures, "n_formula_units": n_units, "stage_steps": steps}


def elf_engine_specs(profile: dict[str, Any], campaign_engine: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """{"amorphous": spec, "crystal": spec} of the engine that computes the ELF: the campaign's own
    when it writes ELF, else GPAW (None when GPAW is not installed: ``GPAW_MISSING``)."""
    from phasefire.workflows.commands.submit import engine_spec
    from phasefire.workflows.engines import load_engine

    if "elf" in load_engine(campaign_engine).volumetric_outputs:
        return {"amorphous": campaign_engine, "crystal": campaign_engine}
    common = {"ecut_eV": float(profile["elf_ecut_eV"]), "nbands": "105%",
              "eigenstates_convergence": 1e-4, "density_convergence": 1e-3}  # fmt: skip
    try:
        return {
            "amorphous": engine_spec("gpaw", common),
            "crystal": engine_spec(
                "gpaw", {**common, "kpoint_density_per_inv_A": float(profile["elf_crystal_kpoint_density_per_inv_A"])}
            ),
        }
    except PhasefireError:  # GPAW is an optional extra; the rest of the campaign runs without it
        return None


def gpaw_missing_line() -> str:
    from phasefire.workflows.engines.gpaw import INSTALL_HINT

    return f"ELF not computed: it needs GPAW for an ML-potential campaign; {INSTALL_HINT}, then rerun."


def elf_fireworks(
    profile: dict[str, Any],
    engine_spec: dict[str, Any],
    workflow: str,
    top: str,
    seed: int,
    chain: list[Firework],
    relaxations: list[Firework],
) -> list[Firework]:
    """The ELF part of the campaign (module docstring): companion MD stages (if any) and three
    statics with ``write_elf``; none when ``elf`` is off or GPAW is missing."""
    from phasefire.structures import build
    from phasefire.structures.amorphous import amorphous_sb2se3_start
    from phasefire.workflows.amorphous import md_stages
    from phasefire.workflows.makers import CalculationMaker
    from phasefire.workflows.naming import safe_slug

    if not profile.get("elf", False):
        return []
    settings = elf_settings(profile)
    engines = elf_engine_specs(profile, engine_spec)
    if engines is None:
        return []
    pressures = settings["pressures_GPa"]
    fireworks: list[Firework] = []
    if settings["n_formula_units"]:
        steps = settings["stage_steps"]
        interval = int(profile["sample_interval"])
        companion = {**profile, "melt_steps": steps, "quench_steps": steps, "anneal_steps": steps,
                     "pressures_GPa": pressures, "equilibration_steps": steps - interval, "sample_steps": interval}  # fmt: skip
        start = amorphous_sb2se3_start(
            settings["n_formula_units"],
            np.random.default_rng(seed + 1000),
            density_g_cm3=float(profile["density_g_cm3"]),
            min_distance_A=float(profile["min_distance_A"]),
        )
        frames: dict[float, Firework] = {}
        for k, (stage, md_settings) in enumerate(md_stages(companion, seed + 1000)):
            maker = CalculationMaker("md", md_settings)
            maker.check_engine(engine_spec)
            fireworks.append(maker.make(
                f"elf companion {stage}", engine_spec, workflow, f"{top}/{safe_slug(f'elf-{k:02d}-{stage}')}",
                atoms=start if k == 0 else None, parents=fireworks[-1:], spec={"_priority": len(fireworks)},
                metadata={ELF_KEY: {"role": "companion", "stage": stage}},
            ))  # fmt: skip
            if md_settings.get("pressure_GPa") is not None:
                frames[float(md_settings["pressure_GPa"])] = fireworks[-1]
    else:
        frames = {
            float(fw.tasks[0]["settings"]["pressure_GPa"]): fw
            for fw in chain
            if fw.tasks[0]["settings"].get("pressure_GPa") is not None
        }
    maker = CalculationMaker("static", {"write_elf": True}, name="elf")
    for phase, pressure in (("LDA", pressures[0]), ("HDA", pressures[-1])):
        maker.check_engine(engines["amorphous"])
        label = f"a-sb2se3-{phase.lower()}-{pressure:g}GPa"
        fireworks.append(maker.make(
            label, engines["amorphous"], workflow, f"{top}/{safe_slug(f'elf-{label}')}", parents=[frames[pressure]],
            metadata={ELF_KEY: {"role": "frame", "phase": phase, "pressure_GPa": pressure}},
        ))  # fmt: skip
    maker.check_engine(engines["crystal"])
    crystal_pressure = min(float(p) for p in profile["pressures_GPa"])
    parent = [fw for fw in relaxations if fw.tasks[0]["settings"].get("pressure_GPa") == crystal_pressure]
    fireworks.append(maker.make(
        f"sb2se3-pnma-{crystal_pressure:g}GPa", engines["crystal"], workflow, f"{top}/elf-sb2se3-pnma",
        atoms=None if parent else build("sb2se3-pnma"), parents=parent[:1],
        metadata={ELF_KEY: {"role": "frame", "phase": "Pnma", "pressure_GPa": crystal_pressure}},
    ))  # fmt: skip
    return fireworks


def is_elf_document(document: dict[str, Any]) -> bool:
    return ELF_KEY in (document.get("input", {}).get("metadata") or {})


def split_documents(documents: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(campaign documents, ELF-part documents): companion MD stages and ELF statics apart."""
    return [d for d in documents if not is_elf_document(d)], [d for d in documents if is_elf_document(d)]


def pld_supercell(atoms):
    """``atoms`` repeated until every cell height exceeds 2 × ``PLD_CUTOFF_A`` (the PLD is a mean
    over bond pairs, so a periodic repeat leaves it unchanged)."""
    cell = atoms.cell.array
    heights = abs(np.linalg.det(cell)) / np.linalg.norm(np.cross(np.roll(cell, -1, 0), np.roll(cell, -2, 0)), axis=1)
    return atoms.repeat([int(np.floor(2 * PLD_CUTOFF_A / h)) + 1 for h in heights])


def frame_elf(path: str | Path, atoms_cutoff_A: float) -> dict[str, Any]:
    """Mean ELF, mean bond-midpoint ELF (bonds < ``atoms_cutoff_A``; per pair too), volume fractions
    and the Peierls-like distortion of one ELF file's structure; channels averaged (spin-up/down)."""
    from phasefire.analysis import elf
    from phasefire.analysis.altbc import altbc

    grid = elf.read_elf(path)
    bonds = elf.bond_elf(grid, cutoff_A=atoms_cutoff_A)
    fractions = elf.volume_fractions(grid)
    pairs = bonds.pair_statistics()
    try:
        distortion = altbc(pld_supercell(grid.atoms), cutoff=PLD_CUTOFF_A)
        pld, pld_error = distortion.pld, distortion.pld_error
    except PhasefireError:  # no collinear bond pair (too small or too open a structure)
        pld, pld_error = None, None
    return {
        "n_atoms": len(grid.atoms),
        "grid": list(grid.shape),
        "mean_elf": float(np.mean(list(elf.channel_means(grid).values()))),
        "mean_midpoint_elf": float(np.mean([values.mean() for values in bonds.midpoint.values()]))
        if len(bonds.length_A)
        else None,
        "n_bonds": int(len(bonds.length_A)),
        "midpoint_elf_by_pair": {
            pair: float(np.mean([s["mean"] for s in stats["midpoint"].values()])) for pair, stats in pairs.items()
        },
        "volume_fraction_localized": float(np.mean(list(fractions["localized"].values()))),
        "volume_fraction_electron_gas": float(np.mean(list(fractions["electron_gas"].values()))),
        "pld": pld,
        "pld_error": pld_error,
    }


def elf_comparison(
    documents: list[dict[str, Any]], profile: dict[str, Any], campaign_engine: dict[str, Any]
) -> dict[str, Any]:
    """The ELF part's result from its documents (``split_documents``) of a campaign on ``campaign_engine``: per phase (LDA, HDA, Pnma) the frame's ELF figures,
    pressure, density and engine, the LDA -> HDA changes, the wall time of its tasks, and the paper's
    statement; ``status`` is "computed", "off", "gpaw missing" or "not run"."""
    if not profile.get("elf", False):
        return {"status": "off", "paper": PAPER_STATEMENT}
    statics = [d for d in documents if d["task_type"] == "static" and d.get("files", {}).get("elf")]
    if not statics:
        if elf_engine_specs(profile, campaign_engine) is None:
            return {"status": "gpaw missing", "line": gpaw_missing_line(), "paper": PAPER_STATEMENT}
        return {"status": "not run", "paper": PAPER_STATEMENT}
    phases: dict[str, Any] = {}
    for document in statics:
        tag = document["input"]["metadata"][ELF_KEY]
        atoms_volume = document["output"]["lattice"]["volume_per_atom_A3"]
        phases[tag["phase"]] = {
            "pressure_GPa": tag["pressure_GPa"],
            "static_pressure_GPa": document["output"]["pressure_GPa"],
            "volume_per_atom_A3": atoms_volume,
            "engine": document["engine"],
            "wall_time_s": document["wall_time_s"],
            **frame_elf(Path(document["run_dir"], document["files"]["elf"]), float(profile["bond_cutoff_A"])),
        }
    changes = {}
    if "LDA" in phases and "HDA" in phases:
        for key in ("mean_midpoint_elf", "volume_fraction_localized", "mean_elf", "pld"):
            low, high = phases["LDA"][key], phases["HDA"][key]
            changes[key] = None if low is None or high is None else {"LDA": low, "HDA": high, "drops": high < low}
    companion = [d for d in documents if d["task_type"] == "md"]
    return {
        "status": "computed",
        "paper": PAPER_STATEMENT,
        "frames": "companion chain" if companion else "campaign frames",
        "n_atoms_amorphous": phases.get("LDA", phases.get("HDA", {})).get("n_atoms"),
        "companion_md_wall_time_s": sum(d["wall_time_s"] for d in companion),
        "elf_wall_time_s": sum(d["wall_time_s"] for d in statics),
        "wall_time_s": sum(d["wall_time_s"] for d in documents),  # its own tasks' time (one worker runs it interleaved)
        "phases": phases,
        "changes": changes,
    }
