"""Amorphous Sb2Se3 under pressure: per-stage structure analysis, the comparison with the paper
(Zhang et al., PRL 127, 127002 (2021), Figs. 2–4) and the report (Markdown + PNG figures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from ase.io import Trajectory  # noqa: E402

from phasefire.analysis.angles import bond_angle_distribution  # noqa: E402
from phasefire.analysis.coordination import coordination_numbers  # noqa: E402
from phasefire.analysis.eos import birch_murnaghan_pressure, density_crossover, fit_birch_murnaghan  # noqa: E402
from phasefire.analysis.neighbors import shortest_cell_height  # noqa: E402
from phasefire.analysis.rdf import first_peak, radial_distribution  # noqa: E402
from phasefire.analysis.rings import ring_statistics  # noqa: E402
from phasefire.analysis.structure_factor import xray_structure_factor  # noqa: E402
from phasefire.workflows.errors import PhasefireError  # noqa: E402
from phasefire.workflows.reports.sb2se3_elf import elf_lines  # noqa: E402
from phasefire.workflows.studies.validation import engine_description  # noqa: E402

#: the paper's simulated/measured landmarks (GPa)
PAPER = {
    "density_crossover_GPa": 16.0,  # Fig. 4a: a-Sb2Se3 denser than Pnma above ~16 GPa
    "angle_60_onset_GPa": 16.0,  # Fig. 3b: 60° bond angles appear from 16 GPa
    "three_rings_dominant_GPa": 20.0,  # Fig. 3d: 6-8 rings give way to 3-rings at 20 GPa
    "r1_maximum_GPa": 20.0,  # Fig. 3a (simulation; 15.7 GPa in the experiment, Fig. 2d)
}

#: the experiment's S(q) principal peak: slopes dq1/dP (Å⁻¹/GPa) below and above 15.7 GPa (paper, Fig. 2)
PAPER_Q1_SLOPES = {"below_inv_A_per_GPa": 0.021, "above_inv_A_per_GPa": 0.0048, "break_GPa": 15.7}

#: frames of each stage used for ring statistics (the most expensive analysis)
RING_FRAMES = 5


def stage_frames(document: dict[str, Any]) -> list:
    """The sampled frames (after equilibration) of an MD stage's trajectory."""
    path = Path(document["run_dir"], document["files"]["trajectory"])
    with Trajectory(str(path)) as trajectory:
        return [trajectory[k] for k in range(document["output"]["sample_start_frame"], len(trajectory))]


def xray_weighted_gr(rdf) -> np.ndarray:
    """g(r) weighted as X-rays see it at q -> 0: sum over ordered pairs c_a c_b Z_a Z_b g_ab / (sum c_a Z_a)^2
    (Faber–Ziman with f_a(0) = Z_a); equals the number-weighted total g(r) for a single species."""
    from ase.data import atomic_numbers

    c, z = rdf.concentrations, {s: atomic_numbers[s] for s in rdf.species}
    norm = sum(c[s] * z[s] for s in rdf.species) ** 2
    total = np.zeros_like(rdf.r)
    for key, g in rdf.partial.items():
        a, b = key.split("-")
        total += (1 if a == b else 2) * c[a] * c[b] * z[a] * z[b] * g
    return total / norm


def q1_slopes(stages: list[dict[str, Any]], break_GPa: float = PAPER_Q1_SLOPES["break_GPa"]) -> dict[str, Any]:
    """Least-squares slopes dq1/dP (Å⁻¹/GPa) of the S(q) principal peak below and above ``break_GPa``
    (each needs two ladder points; None otherwise), beside the paper's."""
    points = [(s["target_pressure_GPa"], s["q1_inv_A"]) for s in stages if s.get("q1_inv_A") is not None]
    slopes = {}
    for name, chosen in (
        ("below", [p for p in points if p[0] <= break_GPa]),
        ("above", [p for p in points if p[0] >= break_GPa]),
    ):
        slopes[f"{name}_inv_A_per_GPa"] = float(np.polyfit(*np.array(chosen).T, 1)[0]) if len(chosen) >= 2 else None
    return {**slopes, "break_GPa": break_GPa, "paper": PAPER_Q1_SLOPES}


def analyse_stage(document: dict[str, Any], bond_cutoff_A: float, ring_max_size: int) -> dict[str, Any]:
    """g(r) and r1, ADF and its weight near 60°, coordination numbers and ring fractions of one
    compression stage; bonds are pairs closer than ``bond_cutoff_A`` (Å)."""
    frames = stage_frames(document)
    r_max = min(8.0, 0.5 * min(shortest_cell_height(a.cell.array) for a in frames) - 0.01)
    rdf = radial_distribution(frames, r_max=r_max, bins=int(r_max / 0.04))
    adf = bond_angle_distribution(frames, cutoff=bond_cutoff_A, bins=90)
    cn = coordination_numbers(frames, cutoff=bond_cutoff_A)
    xray_peak = first_peak(rdf.r, xray_weighted_gr(rdf))
    structure_factor = xray_structure_factor(rdf)
    ring_frames = frames[:: max(1, len(frames) // RING_FRAMES)][:RING_FRAMES]
    rings = ring_statistics(ring_frames, cutoff=bond_cutoff_A, max_size=ring_max_size)
    extra = document["output"]
    return {
        "target_pressure_GPa": document["input"]["settings"]["pressure_GPa"],
        "pressure_GPa": extra["mean_pressure_GPa"],
        "pressure_std_GPa": extra["std_pressure_GPa"],
        "temperature_K": extra["mean_temperature_K"],
        "volume_per_atom_A3": extra["mean_volume_per_atom_A3"],
        "density_g_cm3": extra["mean_density_g_cm3"],
        "n_frames": len(frames),
        "r1_A": rdf.first_peak.r1,
        "r1_error_A": rdf.first_peak.r1_error,
        "r1_xray_A": xray_peak.r1,
        "r1_xray_error_A": xray_peak.r1_error,
        "q1_inv_A": structure_factor.q1,
        "g_r": {"r_A": rdf.r.tolist(), "g": rdf.total.tolist()},
        "weight_near_60": adf.weight_near_60,
        "adf": {"angle_deg": adf.angle.tolist(), "density_per_deg": adf.total.tolist()},
        "cn_by_species": cn.by_species,
        "cn_mean": cn.mean,
        "ring_fraction": {str(k): v for k, v in rings.fraction.items()},
        "rings_per_atom": {str(k): v for k, v in rings.rings_per_atom.items()},
        "md_steps_per_s": extra.get("md_steps_per_s"),
    }


def linear_crossover(stages: list[dict[str, Any]], crystal: list[dict[str, float]]) -> float | None:
    """First pressure (GPa) where V_am - V_Pnma changes sign, interpolated linearly between the
    ladder pressures both have; None if it keeps one sign."""
    crystal_volume = {c["pressure_GPa"]: c["volume_per_atom_A3"] for c in crystal}
    pairs = [(s["target_pressure_GPa"], s["volume_per_atom_A3"] - crystal_volume[s["target_pressure_GPa"]])
             for s in stages if s["target_pressure_GPa"] in crystal_volume]  # fmt: skip
    for (p0, d0), (p1, d1) in zip(pairs, pairs[1:]):
        if d0 > 0 >= d1:
            return float(p0 + (p1 - p0) * d0 / (d0 - d1))
    return None


def compare_with_paper(stages: list[dict[str, Any]], crystal: list[dict[str, float]]) -> dict[str, Any]:
    """The paper's four landmarks from the computed ladder; each with value (GPa or None) and how it was found."""
    pressures = np.array([s["target_pressure_GPa"] for s in stages])
    results: dict[str, Any] = {}

    try:
        amorphous = fit_birch_murnaghan([s["pressure_GPa"] for s in stages], [s["volume_per_atom_A3"] for s in stages])
        solid = fit_birch_murnaghan([c["pressure_GPa"] for c in crystal], [c["volume_per_atom_A3"] for c in crystal])
        results["eos"] = {"amorphous": amorphous.to_dict(), "crystal": solid.to_dict()}
        results["density_crossover_GPa"] = {"value": density_crossover(amorphous, solid),
                                            "how": "V_am(P) = V_Pnma(P) on Birch-Murnaghan fits"}  # fmt: skip
    except (ValueError, PhasefireError) as exc:
        results["density_crossover_GPa"] = {"value": linear_crossover(stages, crystal),
                                            "how": f"linear interpolation of V_am - V_Pnma between ladder points (Birch-Murnaghan route: {exc})"}  # fmt: skip

    weight = np.array([s["weight_near_60"] for s in stages])
    half_rise = weight[0] + 0.5 * (weight.max() - weight[0])
    onset = pressures[np.argmax(weight >= half_rise)] if weight.max() > weight[0] else None
    results["angle_60_onset_GPa"] = {
        "value": None if onset is None else float(onset),
        "how": f"first pressure where the 50-70° weight passes half its rise ({weight[0]:.3f} at 0 GPa -> {weight.max():.3f})",
    }

    dominant = [max(s["ring_fraction"], key=s["ring_fraction"].get) for s in stages]
    three = [p for p, d in zip(pressures, dominant) if d == "3"]
    results["three_rings_dominant_GPa"] = {
        "value": float(three[0]) if three else None,
        "how": "first pressure where 3-rings are the most common ring size; most common per pressure: "
        + ", ".join(f"{p:g}:{d}" for p, d in zip(pressures, dominant)),
    }

    r1 = np.array([s["r1_A"] for s in stages])
    error = np.nan_to_num(np.array([s["r1_error_A"] for s in stages]), nan=0.0)
    peak = int(np.nanargmax(r1))
    expands = r1[peak] - r1[0] > error[peak] + error[0]
    contracts = r1[peak] - r1[-1] > error[peak] + error[-1]
    results["r1_maximum_GPa"] = {
        "value": float(pressures[peak]),
        "how": f"r1 {r1[0]:.3f} Å at 0 GPa, max {r1[peak]:.3f} Å, {r1[-1]:.3f} Å at {pressures[-1]:g} GPa: "
        + (
            "expands then contracts"
            if expands and contracts
            else "expands"
            if expands
            else "contracts"
            if contracts
            else "flat within errors"
        ),
    }
    results["q1_slopes"] = q1_slopes(stages)
    return results


def _pressure_colors(n: int):
    return plt.cm.viridis(np.linspace(0.0, 0.9, n))


def plot_figures(
    stages: list[dict[str, Any]], crystal: list[dict[str, float]], comparison: dict[str, Any], out: Path
) -> list[str]:
    """Figs. 3a–d and 4a in spirit: g(r), ADF (60° marked), CN, ring fractions and V(P); PNG names."""
    colors = _pressure_colors(len(stages))
    names = []

    figure, axis = plt.subplots(figsize=(5, 6))
    for k, (stage, color) in enumerate(zip(stages, colors)):
        axis.plot(stage["g_r"]["r_A"], np.asarray(stage["g_r"]["g"]) + 1.5 * k, color=color)
        axis.text(
            stage["g_r"]["r_A"][-1], 1.5 * k + 1.1, f"{stage['target_pressure_GPa']:g} GPa", ha="right", fontsize=7
        )
    axis.set(xlabel="r (Å)", ylabel="g(r) + offset", title="a-Sb2Se3 g(r) vs pressure")
    names.append(_save(figure, out / "gr_vs_pressure.png"))

    figure, axis = plt.subplots(figsize=(5, 6))
    for k, (stage, color) in enumerate(zip(stages, colors)):
        axis.plot(stage["adf"]["angle_deg"], np.asarray(stage["adf"]["density_per_deg"]) + 0.02 * k, color=color)
        axis.text(178, 0.02 * k + 0.004, f"{stage['target_pressure_GPa']:g} GPa", ha="right", fontsize=7)
    axis.axvline(60, color="red", linestyle="--", label="60°")
    axis.set(xlabel="bond angle (°)", ylabel="ADF (1/°) + offset", title="bond-angle distribution vs pressure")
    axis.legend(loc="upper left")
    names.append(_save(figure, out / "adf_vs_pressure.png"))

    pressures = [s["target_pressure_GPa"] for s in stages]
    figure, axis = plt.subplots(figsize=(5, 3.6))
    for species in stages[0]["cn_by_species"]:
        axis.plot(pressures, [s["cn_by_species"][species] for s in stages], "o-", label=f"around {species}")
    axis.plot(pressures, [s["cn_mean"] for s in stages], "k.--", label="mean")
    axis.set(xlabel="pressure (GPa)", ylabel="coordination number", title="CN vs pressure")
    axis.legend()
    names.append(_save(figure, out / "cn_vs_pressure.png"))

    figure, axis = plt.subplots(figsize=(5, 3.6))
    for size in stages[0]["ring_fraction"]:
        axis.plot(pressures, [s["ring_fraction"][size] for s in stages], "o-", label=f"{size}-rings")
    axis.set(xlabel="pressure (GPa)", ylabel="fraction of rings", title="ring-size distribution vs pressure")
    axis.legend(fontsize=7, ncol=2)
    names.append(_save(figure, out / "rings_vs_pressure.png"))

    figure, axis = plt.subplots(figsize=(5, 3.6))
    axis.errorbar([s["pressure_GPa"] for s in stages], [s["volume_per_atom_A3"] for s in stages],
                  xerr=[s["pressure_std_GPa"] for s in stages], fmt="o", label="amorphous (NPT mean)")  # fmt: skip
    axis.plot(
        [c["pressure_GPa"] for c in crystal], [c["volume_per_atom_A3"] for c in crystal], "s", label="Pnma (relaxed)"
    )
    for key, style, points in (("amorphous", "C0-", stages), ("crystal", "C1-", crystal)):
        fit = comparison.get("eos", {}).get(key)
        if fit:  # the fitted P(V) drawn over the volumes the data span
            volumes = np.linspace(
                min(q["volume_per_atom_A3"] for q in points), max(q["volume_per_atom_A3"] for q in points), 100
            )
            axis.plot(
                birch_murnaghan_pressure(volumes, fit["V0_per_atom_A3"], fit["B0_GPa"], fit["B0_prime"]),
                volumes,
                style,
                linewidth=1,
            )
    crossover = comparison["density_crossover_GPa"]["value"]
    if crossover is not None:
        axis.axvline(crossover, color="gray", linestyle=":", label=f"crossover {crossover:.1f} GPa")
    axis.set(xlabel="pressure (GPa)", ylabel="volume (Å³/atom)", title="V(P): amorphous vs Pnma")
    axis.legend()
    names.append(_save(figure, out / "volume_vs_pressure.png"))
    return names


def _save(figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path.name


def comparison_rows(comparison: dict[str, Any]) -> list[list[str]]:
    """[quantity, paper, this run, how] rows for the report and the terminal."""
    labels = {
        "density_crossover_GPa": "density crossover a-Sb2Se3 / Pnma (GPa)",
        "angle_60_onset_GPa": "onset of 60° bond angles (GPa)",
        "three_rings_dominant_GPa": "3-rings dominant from (GPa)",
        "r1_maximum_GPa": "r1 largest at (GPa)",
    }
    rows = []
    for key, label in labels.items():
        value = comparison[key]["value"]
        rows.append(
            [label, f"~{PAPER[key]:g}", "not found" if value is None else f"{value:.1f}", comparison[key]["how"]]
        )
    return rows


def q1_lines(slopes: dict[str, Any] | None, stages: list[dict[str, Any]]) -> list[str]:
    """Report lines: dq1/dP below/above the break beside the paper, and q1, r1 (number) and r1 (X-ray) per pressure."""
    if not slopes or not any(s.get("q1_inv_A") is not None for s in stages):
        return ["Not computed for this campaign (stored before S(q) was analysed).", ""]

    def fmt(value):
        return "-" if value is None else f"{value:.4f}"

    paper = slopes["paper"]
    return [
        f"dq1/dP below {slopes['break_GPa']:g} GPa: {fmt(slopes['below_inv_A_per_GPa'])} Å⁻¹/GPa (paper ~{paper['below_inv_A_per_GPa']}); "
        f"above: {fmt(slopes['above_inv_A_per_GPa'])} Å⁻¹/GPa (paper ~{paper['above_inv_A_per_GPa']}); "
        "q1 from the Faber–Ziman X-ray S(q) (Lorch window) of each stage's partial g(r).",
        "",
        "| P target (GPa) | q1 (Å⁻¹) | r1 number-weighted (Å) | r1 X-ray-weighted (Å) |",
        "|---|---|---|---|",
        *(
            f"| {s['target_pressure_GPa']:g} | {fmt(s.get('q1_inv_A'))} | {s['r1_A']:.3f} | "
            f"{fmt(s.get('r1_xray_A'))} |"
            for s in stages
        ),  # fmt: skip
        "",
    ]


def write_report(summary: dict[str, Any], out: Path) -> Path:
    """report.md, results.json and the PNG figures in ``out``; returns the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    stages, crystal, comparison = summary["stages"], summary["crystal"], summary["comparison"]
    figures = plot_figures(stages, crystal, comparison, out)
    (out / "results.json").write_text(json.dumps(summary, indent=1, default=float))
    lines = [
        "# Amorphous Sb2Se3 under pressure",
        "",
        f"Workflow `{summary['workflow']}`, engine `{engine_description(summary.get('engine_spec') or {'name': summary['engine']})}`, profile `{summary['profile_name']}`, "
        f"{summary['n_atoms']} atoms, seed {summary['seed']}; campaign wall time {summary['wall_time_s']:.0f} s.",
        "Paper: K. Zhang et al., Phys. Rev. Lett. 127, 127002 (2021), Figs. 2–4 (simulated values where the paper has them).",
        "",
        "## Computed vs paper",
        "",
        "| quantity | paper | this run | how it was obtained |",
        "|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in comparison_rows(comparison)),
        "",
        "## S(q) principal peak and r1 (X-ray- and number-weighted)",
        "",
        *q1_lines(comparison.get("q1_slopes"), stages),
        "## Ladder",
        "",
        "| P target (GPa) | <P> (GPa) | <T> (K) | V (Å³/atom) | ρ (g/cm³) | r1 (Å) | weight 50–70° | CN mean | most common ring |",
        "|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {s['target_pressure_GPa']:g} | {s['pressure_GPa']:.1f} ± {s['pressure_std_GPa']:.1f} | {s['temperature_K']:.0f} | "
            f"{s['volume_per_atom_A3']:.2f} | {s['density_g_cm3']:.2f} | {s['r1_A']:.3f} ± {s['r1_error_A']:.3f} | "
            f"{s['weight_near_60']:.3f} | {s['cn_mean']:.2f} | {max(s['ring_fraction'], key=s['ring_fraction'].get)} |"
            for s in stages
        ),
        "",
        "| P (GPa) | Pnma V (Å³/atom) |",
        "|---|---|",
        *(f"| {c['pressure_GPa']:g} | {c['volume_per_atom_A3']:.2f} |" for c in crystal),
        "",
        *elf_lines(summary.get("elf")),
        "## Why numbers may differ from the paper",
        "",
        *(f"- {reason}" for reason in summary["caveats"]),
        "",
        "## Figures",
        "",
        *(f"![{name}]({name})" for name in figures),
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
