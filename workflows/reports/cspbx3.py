"""Figures and reports of the CsPbX3 rectification model: the Fig. 1e / 2b / 2d / 3a / 3b PNGs of
``phasefire model rectification --sweep`` and the ``reproduce cspbx3`` report (Markdown + PNG)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

#: Br-vacancy migration barrier in CsPbBr3 from ionic conductivity, J. Mizusaki, K. Arai and
#: K. Fueki, Solid State Ionics 11, 203 (1983) (the perovskite paper's ref. 17), eV
EXPERIMENTAL_BR_BARRIER_EV = 0.25

from phasefire.models.rectification_study import PAPER_MOBILITY_CM2_PER_V_S, PAPER_RECTIFICATION_RATIO  # noqa: E402


def _zones(ax, params) -> None:
    for edge in (0.0, params.wire_length_um - params.contact_width_um):  # electrode zones
        ax.axvspan(edge, edge + params.contact_width_um, color="0.92", zorder=0)


def _vacancy_scale(params) -> float:
    """x_V^eq of the chloride-rich segment: the paper's Fig. 3 rescaling of the vacancy fraction."""
    return float(params.equilibrium_vacancy_fraction(np.array(params.x_br_chloride_segment)))


def _profiles_axes(ax, runs_with_labels, params, title: str, vacancies: bool) -> None:
    """x_Br (black) at t = 0 (dotted) and after the run, and x_V / x_V^eq(Cl) (blue, log) on a twin axis."""
    first = runs_with_labels[0][0]
    ax.plot(first.z_um, first.x_br[0], "k:", lw=1, label="x_Br, t = 0")
    styles = ["-", "--", "-.", (0, (1, 1)), (0, (3, 1, 1, 1)), (0, (5, 2))]
    for (run, label), style in zip(runs_with_labels, styles * 4):
        ax.plot(run.z_um, run.x_br[-1], color="k", ls=style, lw=1.2, label=f"x_Br, {label}")
    _zones(ax, params)
    ax.set(xlabel="z (µm)", ylabel="x_Br (site fraction)", title=title, ylim=(0, 1.05))
    ax.legend(loc="lower left", fontsize=7)
    if vacancies:
        twin = ax.twinx()
        scale = _vacancy_scale(params)
        twin.semilogy(first.z_um, np.maximum(first.x_v[0] / scale, 1e-4), "b:", lw=1)
        for (run, _), style in zip(runs_with_labels, styles * 4):
            twin.semilogy(run.z_um, np.maximum(run.x_v[-1] / scale, 1e-4), color="b", ls=style, lw=1)
        twin.set_ylabel("x_V / x_V^eq(CsPbCl3 segment), floor 1e-4", color="b")


def write_model_figures(runs: Mapping[float, Any], no_sources: Mapping[float, Any], params, out: Path) -> list[Path]:
    """fig1e.png (signed migration length vs bias), fig2b.png / fig2d.png (x_Br after the run, forward /
    reverse biases) and fig3a.png / fig3b.png (x_Br and rescaled x_V at 0 and after the run, ±4 V/µm,
    with and without sources) in ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    biases = np.array(sorted(runs))
    lengths = np.array([runs[b].migration_length_um for b in biases])
    hours = runs[biases[0]].times_s[-1] / 3600.0
    figure, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(biases, lengths, "o-", label="model")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.axvline(0, color="0.6", lw=0.6)
    slope = PAPER_MOBILITY_CM2_PER_V_S * 1e8 * hours * 3600.0
    ax.plot([1.5, 4.0], [1.5 * slope, 4.0 * slope], "k--", lw=1, label="paper mobility 1.7e-13 cm²/V/s")
    ax.set(
        xlabel="bias (V/µm; < 0 reverse)",
        ylabel="migration length (µm; > 0 into CsPbBr3)",
        title=f"Fig. 1e: after {hours:g} h",
    )
    ax.legend(fontsize=8)
    figure.tight_layout()
    paths.append(out / "fig1e.png")
    figure.savefig(paths[-1], dpi=120)
    plt.close(figure)
    for name, sign, title in (("fig2b.png", 1, "Fig. 2b: forward"), ("fig2d.png", -1, "Fig. 2d: reverse")):
        chosen = [b for b in biases if sign * b >= 1.5]
        figure, ax = plt.subplots(figsize=(6, 4))
        _profiles_axes(
            ax, [(runs[b], f"{b:+g} V/µm") for b in sorted(chosen, key=abs)], params, f"{title}, {hours:g} h", False
        )
        figure.tight_layout()
        paths.append(out / name)
        figure.savefig(paths[-1], dpi=120)
        plt.close(figure)
    for name, bias, title in (
        ("fig3a.png", 4.0, "Fig. 3a: forward +4 V/µm"),
        ("fig3b.png", -4.0, "Fig. 3b: reverse -4 V/µm"),
    ):
        if bias not in runs or bias not in no_sources:
            continue
        figure, ax = plt.subplots(figsize=(6.5, 4))
        pairs = [(runs[bias], f"{hours:g} h, sources"), (no_sources[bias], f"{hours:g} h, no sources")]
        _profiles_axes(ax, pairs, params, title, True)
        figure.tight_layout()
        paths.append(out / name)
        figure.savefig(paths[-1], dpi=120)
        plt.close(figure)
    return paths


def write_profiles_png(forward, reverse, params, path: Path) -> Path:
    """x_Br and rescaled x_V before and after the ±bias runs, side by side (``--plot``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, run in zip(axes, (forward, reverse)):
        _profiles_axes(ax, [(run, f"{run.times_s[-1] / 3600:g} h")], params, f"{run.bias_V_per_um:+g} V/µm", True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def barrier_uncertainty(neb: Mapping[str, Any], temperature_K: float) -> dict[str, dict[str, Any]]:
    """Per species: barrier (eV, forward), its uncertainty (eV) and the factor it puts on D_V.

    A hop between symmetry-equivalent sites has equal forward and backward barriers; what differs
    is the endpoint energy difference E_final - E_initial (eV), so the uncertainty is taken as
    |forward - backward| / 2 (at least the endpoint check's |dE| / 2 when recorded), and D_V ∝
    exp(-Ea/kT) is uncertain by the factor exp(u/kT). ``flagged``: the endpoint check failed.
    """
    k_B_eV_per_K = 8.617333262e-5
    rows = {}
    for species, info in neb.items():
        forward, backward = info.get("barrier_forward_eV"), info.get("barrier_backward_eV")
        if forward is None or backward is None:
            continue
        check = info.get("endpoint_check") or {}
        difference = check.get("energy_difference_eV", forward - backward)
        uncertainty = max(abs(forward - backward), abs(difference)) / 2
        rows[species] = {
            "barrier_eV": forward,
            "barrier_uncertainty_eV": uncertainty,
            "endpoint_energy_difference_eV": difference,
            "diffusivity_factor": float(np.exp(uncertainty / (k_B_eV_per_K * temperature_K))),
            "flagged": bool(check.get("flagged", False)),
            "endpoint_check": bool(check),
        }
    return rows


def uncertainty_lines(summary: dict[str, Any]) -> list[str]:
    """The report's section on the barriers' uncertainty and the engine that produced them."""
    from phasefire.workflows.studies.validation import STUDY_ENGINE_DEFAULTS, engine_description

    spec = summary.get("engine_spec") or {"name": summary["engine"]}
    rows = barrier_uncertainty(summary["neb"], summary["temperature_K"])
    default = STUDY_ENGINE_DEFAULTS["cspbx3"]
    return [
        "## Barrier uncertainty and engine",
        "",
        f"Engine: {engine_description(spec)}. Study default: model {default['model']}, dispersion "
        f"{default['dispersion']} (`phasefire validate models`: CsPbBr3 a +2.6 % with CHGNet, +2.3 % 7net-l3i5, "
        "+1.0 % 7net-l3i5 + D3(BJ); the per-model Br-vacancy barrier is part of that table; CHGNet is kept as the "
        "fastest model, ~3x cheaper per force call than 7net-l3i5).",
        "",
        "| species | barrier (eV) | ± (eV) | E_final - E_initial (eV) | D_V uncertain by x | endpoints |",
        "|---|---|---|---|---|---|",
        *(
            f"| {species} | {r['barrier_eV']:.3f} | {r['barrier_uncertainty_eV']:.3f} | "
            f"{r['endpoint_energy_difference_eV']:+.3f} | {r['diffusivity_factor']:.2f} | "
            f"{'**flagged**: differ beyond tolerance' if r['flagged'] else 'checked, equivalent' if r['endpoint_check'] else 'not checked (older run)'} |"
            for species, r in rows.items()
        ),
        "",
        "± = max(|forward - backward|, |E_final - E_initial|) / 2: symmetry-equivalent endpoints should give "
        "equal forward and backward barriers, so their difference measures how far the band is from converged "
        "endpoints; the rectification model's D_V carries the factor exp(±/kT).",
        "",
    ]


def excluded_note(summary: dict[str, Any], species: str) -> str:
    """' (not fed to the model: why)' for a NEB whose endpoint check failed, else ''."""
    reason = (summary.get("excluded_from_model") or {}).get(species)
    return f" (**not fed to the model**: {reason}; the model takes the Cl/Br jump ratio as 1)" if reason else ""


def write_report(summary: dict[str, Any], out: Path) -> Path:
    """Write out/report.md and out/cspbx3.png; return the Markdown path."""
    out.mkdir(parents=True, exist_ok=True)
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.8))
    for species, neb in summary["neb"].items():
        profile = neb["profile"]
        left.plot(profile["reaction_coordinate_A"], profile["energies_eV"], "o-", label=f"{species} vacancy")
    left.axhline(EXPERIMENTAL_BR_BARRIER_EV, ls=":", color="k", label="Br exp. 0.25 eV")
    left.set(xlabel="reaction coordinate (Å)", ylabel="E - E_initial (eV)", title="NEB profiles")
    left.legend(fontsize=8)
    runs = summary["rectification"]
    study = runs["study"]
    curve = study["curve"]
    middle.plot(
        [p["bias_V_per_um"] for p in curve],
        [p["migration_length_um"] for p in curve],
        "o-",
        label="model (paper parameters)",
    )
    for key, label in (("neb", "forward, NEB barriers"),):
        middle.plot(runs[key]["biases_V_per_um"], runs[key]["forward_migration_um"], "s--", label=label)
    slope = PAPER_MOBILITY_CM2_PER_V_S * 1e8 * study["hours"] * 3600.0
    middle.plot([1.5, 4.0], [1.5 * slope, 4.0 * slope], "k:", label="paper: mobility 1.7e-13, linear")
    middle.plot([-4.0, -1.5], [0.0, 0.0], "k-", lw=3, alpha=0.3, label="paper: reverse ~0")
    middle.axhline(0, color="0.7", lw=0.5)
    middle.set(
        xlabel="bias (V/µm; < 0 reverse)",
        ylabel="migration length (µm; > 0 into CsPbBr3)",
        title=f"Fig. 1e, {study['hours']:g} h",
    )
    middle.legend(fontsize=7)
    labels = ["NEB", "paper set", "experiment"]
    ratios = [runs["neb"]["rectification_ratio"], runs["paper"]["rectification_ratio"], PAPER_RECTIFICATION_RATIO]
    right.bar(labels, ratios, color=["C0", "C1", "0.5"])
    right.set(ylabel="rectification ratio at max bias", title="L_forward / |L_reverse|")
    figure.tight_layout()
    figure.savefig(out / "cspbx3.png", dpi=120)
    plt.close(figure)

    barrier = summary["barriers_eV"]
    lines = [
        f"# CsPbBr3/CsPbCl3 halide-vacancy NEB and ionic rectification ({summary['profile']} profile)",
        "",
        f"Workflow `{summary['workflow']}`, engine {summary['engine']}, T = {summary['temperature_K']} K.",
        "",
        "| quantity | this run (NEB) | paper parameter set | experiment |",
        "|---|---|---|---|",
        f"| Br-vacancy barrier, CsPbBr3 (eV) | {barrier['Br']:.3f} | 0.30 (assumed in the model) | {EXPERIMENTAL_BR_BARRIER_EV} (Mizusaki et al. 1983) |",
        f"| Cl-vacancy barrier, CsPbCl3 (eV) | {barrier['Cl']:.3f}{excluded_note(summary, 'Cl')} | equal to Br (ratio 1) | - |",
        f"| vacancy diffusivity D_V (µm²/s) | {runs['neb']['vacancy_diffusivity_um2_per_s']:.3g} | {runs['paper']['vacancy_diffusivity_um2_per_s']:.3g} | - |",
        f"| halide mobility (cm² V⁻¹ s⁻¹) | {runs['neb']['mobility_cm2_per_V_s']:.2e} | {runs['paper']['mobility_cm2_per_V_s']:.2e} | {PAPER_MOBILITY_CM2_PER_V_S:.1e} |",
        f"| rectification ratio at ±{runs['neb']['biases_V_per_um'][-1]} V/µm | {runs['neb']['rectification_ratio']:.1f} | {runs['paper']['rectification_ratio']:.1f} | ~{PAPER_RECTIFICATION_RATIO:.0f} |",
        "",
        "Barriers: forward barrier of the shortest (a/√2) halide-vacancy hop in the cubic phase, 2x2x2 supercell "
        "(defect images ≥ 9 Å apart), both endpoints relaxed the same way (see the endpoint check below), climbing-image NEB. "
        "Model link: `phasefire.models.rectification.parameters_from_barrier` (D_V = 8 ν exp(-Ea/kT) (a/√2)²/6, ν = 1e13 Hz; "
        "Cl/Br jump ratio exp(-(Ea_Cl - Ea_Br)/kT)).",
        "",
        f"Wall time: NEB workflow {summary['wall_time_s']['neb_workflow']:.0f} s, rectification model "
        f"{summary['wall_time_s']['rectification_model']:.0f} s.",
        "",
        "![profiles, migration length vs bias, rectification ratio](cspbx3.png)",
        "",
        *uncertainty_lines(summary),
        f"## The model beside the paper's statements ({study['grid_points']} cells, {study['hours']:g} h, "
        f"rate constant {study['rate_constant_um_per_V_s']:.3g} µm V⁻¹ s⁻¹ fitted at +2 V/µm)",
        "",
        "| statement | paper | model | agrees | why not |",
        "|---|---|---|---|---|",
        *[
            f"| {r['statement']} | {r['paper']} | {r['model']} | {'yes' if r['agrees'] else '**no**'} | {r['why']} |"
            for r in study["landmarks"]
        ],
        "",
        "Forward length at +4 V/µm and unbiased drift vs the Br-vacancy barrier (rate constant fixed):",
        "",
        "| barrier (eV) | D_V (µm²/s) | L(+4 V/µm) (µm) | L(0) (µm) |",
        "|---|---|---|---|",
        *[
            f"| {r['barrier_eV']:.2f} | {r['vacancy_diffusivity_um2_per_s']:.3g} | {r['migration_length_forward_um']:+.4f} | {r['migration_length_zero_bias_um']:+.4f} |"
            for r in study["barrier_scan"]
        ],
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
