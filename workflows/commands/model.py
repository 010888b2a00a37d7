"""``phasefire model``: continuum models from the papers.

``phasefire model rectification [--bias 4] [--hours 4] [--grid 1000] [--boundary contacts|wire-ends]
[--sources electrochemical|equilibrating] [--json] [--sweep] [--plot PNG]`` runs the perovskite paper's
reaction-drift-diffusion-Poisson model (``phasefire.models.rectification``; default the paper's boundary
conditions: voltages on the contact lines, no flow and zero field at the wire ends, and one-sided
electrode sources: the electrode at the higher potential only creates vacancies at r_c = alpha |E|,
the other only destroys them) under forward and reverse bias and reports the migration lengths of the x_Br = 0.55 front (µm),
the rectification ratio, the halide-site budget error and the halide mobility (cm² V^-1 s^-1).
``--sweep`` adds migration length vs bias over ±(1.5-4) V/µm (paper Fig. 1e).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from phasefire.models import rectification as rect

#: forward bias magnitudes of the paper's Fig. 1e (V/µm); the sweep also runs their negatives
SWEEP_BIASES_V_PER_UM = (1.5, 2.0, 2.5, 3.0, 3.5, 4.0)


def register(subparsers: argparse._SubParsersAction) -> None:
    model = subparsers.add_parser("model", help="continuum models (perovskite ionic rectification)")
    commands = model.add_subparsers(dest="model_command", required=True, metavar="MODEL")
    parser = commands.add_parser(
        "rectification",
        help="halide migration under forward/reverse bias in a CsPbBr3-CsPbCl3 nanowire",
        description="Reaction-drift-diffusion-Poisson model of the perovskite paper (Figs. 1e, 2b/d, 3a/b).",
    )
    parser.add_argument("--bias", type=float, default=4.0, help="bias field magnitude in V/µm (default 4)")
    parser.add_argument("--hours", type=float, default=4.0, help="biasing time in h (default 4)")
    parser.add_argument("--grid", type=int, default=1000, help="finite-volume cells (default 1000)")
    parser.add_argument(
        "--boundary",
        choices=rect.BOUNDARIES,
        default="contacts",
        help="where the voltages are imposed: the contact lines with zero field at the wire "
        "ends (the paper, default) or the wire ends (earlier variant)",
    )
    parser.add_argument(
        "--sources",
        choices=rect.SOURCE_LAWS,
        default="electrochemical",
        help="electrode source law: 'electrochemical' (default; the electrode at the higher "
        "potential only creates vacancies at r_c = alpha |E| per halide site, the other "
        "only destroys them) or 'equilibrating' (both relax to equilibrium; earlier variant)",
    )
    parser.add_argument("--sweep", action="store_true", help="also compute migration length vs bias over ±(1.5-4) V/µm")
    parser.add_argument(
        "--barrier-eV",
        type=float,
        default=None,
        help="halide-vacancy hop barrier (eV, e.g. from NEB) setting the vacancy diffusivity",
    )
    parser.add_argument(
        "--attempt-frequency-Hz", type=float, default=1e13, help="attempt frequency for --barrier-eV (Hz, default 1e13)"
    )
    parser.add_argument("--plot", metavar="PNG", help="write profiles (and the sweep) to this PNG")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.set_defaults(handler=run_rectification)


def _progress_bar(total_runs: int, enabled: bool):
    """(callback factory, close) showing a tqdm bar over all runs on stderr, or no-ops."""
    if not enabled:
        return (lambda label: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=100 * total_runs, unit="%", file=sys.stderr, leave=False)
    done = [0]

    def start(label: str):
        bar.set_description(label)
        base = done[0]
        done[0] += 100

        def update(fraction: float) -> None:
            bar.n = base + int(100 * fraction)
            bar.refresh()

        return update

    return start, bar.close


def run_rectification(args: argparse.Namespace) -> int:
    for name in ("bias", "hours"):
        value = getattr(args, name)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"--{name} {value} must be a positive number")
    if args.barrier_eV is None:
        params = rect.RectificationParameters()
    else:
        params = rect.parameters_from_barrier(args.barrier_eV, args.attempt_frequency_Hz)
    sweep_biases = [
        b
        for magnitude in SWEEP_BIASES_V_PER_UM
        for b in (magnitude, -magnitude)
        if args.sweep and magnitude != args.bias
    ]
    start, close = _progress_bar(2 + len(sweep_biases), enabled=sys.stderr.isatty())
    try:
        forward = rect.simulate(
            args.bias,
            args.hours,
            args.grid,
            params,
            progress=start(f"+{args.bias:g} V/µm"),
            boundary=args.boundary,
            sources=args.sources,
        )
        reverse = rect.simulate(
            -args.bias,
            args.hours,
            args.grid,
            params,
            progress=start(f"-{args.bias:g} V/µm"),
            boundary=args.boundary,
            sources=args.sources,
        )
        sweep = [
            rect.simulate(
                b,
                args.hours,
                args.grid,
                params,
                snapshots=2,
                progress=start(f"{b:+g} V/µm"),
                boundary=args.boundary,
                sources=args.sources,
            )
            for b in sweep_biases
        ]
    finally:
        close()
    if args.sweep:
        sweep += [forward, reverse]

    report = {
        "bias_V_per_um": args.bias,
        "hours": args.hours,
        "grid_points": args.grid,
        "boundary": args.boundary,
        "sources": args.sources,
        "vacancy_diffusivity_um2_per_s": params.vacancy_diffusivity_um2_per_s,
        "migration_length_forward_um": forward.migration_length_um,
        "migration_length_reverse_um": reverse.migration_length_um,
        "rectification_ratio": rect.rectification_ratio(forward.migration_length_um, reverse.migration_length_um),
        "halide_sites_relative_error": max(forward.halide_sites_relative_error, reverse.halide_sites_relative_error),
        "halide_mobility_cm2_per_V_s": rect.halide_mobility_cm2_per_V_s(
            args.bias, forward.migration_length_um, args.hours
        ),
        "wall_time_forward_s": forward.wall_time_s,
        "wall_time_reverse_s": reverse.wall_time_s,
    }
    if sweep:
        biases = np.array([run.bias_V_per_um for run in sweep])
        lengths = np.array([run.migration_length_um for run in sweep])
        positive = biases > 0
        report["sweep"] = [
            {"bias_V_per_um": float(b), "migration_length_um": float(length)}
            for b, length in sorted(zip(biases, lengths))
        ]
        report["sweep_forward_linear_r2"] = rect.linear_fit_r2(biases[positive], lengths[positive])
        report["sweep_halide_mobility_cm2_per_V_s"] = rect.halide_mobility_cm2_per_V_s(
            biases[positive], lengths[positive], args.hours
        )
    if args.plot:
        _plot(args.plot, forward, reverse, sweep, params)
        report["plot"] = args.plot

    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)
    return 0


def _print_table(report: dict) -> None:
    rows = [
        ("bias (V/µm)", f"±{report['bias_V_per_um']:g}"),
        ("biasing time (h)", f"{report['hours']:g}"),
        ("grid points", f"{report['grid_points']}"),
        ("boundary conditions", report["boundary"]),
        ("electrode source law", report["sources"]),
        ("migration length forward (µm)", f"{report['migration_length_forward_um']:.4f}"),
        ("migration length reverse (µm)", f"{report['migration_length_reverse_um']:.4f}"),
        ("rectification ratio (paper ~20)", f"{report['rectification_ratio']:.1f}"),
        ("halide mobility (cm²/V/s; paper 1.7e-13)", f"{report['halide_mobility_cm2_per_V_s']:.3g}"),
        ("halide-site budget error (relative)", f"{report['halide_sites_relative_error']:.2e}"),
        (
            "wall time forward / reverse (s)",
            f"{report['wall_time_forward_s']:.2f} / {report['wall_time_reverse_s']:.2f}",
        ),
    ]
    if "sweep" in report:
        rows.append(("forward sweep linear fit R²", f"{report['sweep_forward_linear_r2']:.4f}"))
        rows.append(("mobility from sweep slope (cm²/V/s)", f"{report['sweep_halide_mobility_cm2_per_V_s']:.3g}"))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    for point in report.get("sweep", []):
        print(f"  {point['bias_V_per_um']:+5.1f} V/µm  {point['migration_length_um']:+.4f} µm")


def _plot(path: str, forward, reverse, sweep, params) -> None:
    """Profiles after biasing (paper Figs. 2b/d, 3a/b) and, with a sweep, Fig. 1e."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 3 if sweep else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4))
    chloride_level = params.equilibrium_vacancy_fraction(np.array(params.x_br_chloride_segment))
    for ax, run, title in ((axes[0], forward, "forward"), (axes[1], reverse, "reverse")):
        ax.plot(run.z_um, run.x_br[0], "k:", label="x_Br initial")
        ax.plot(run.z_um, run.x_br[-1], "k-", label=f"x_Br after {run.times_s[-1] / 3600:g} h")
        ax.set_xlabel("z (µm)")
        ax.set_ylabel("x_Br")
        ax.set_title(f"{title} {run.bias_V_per_um:+g} V/µm")
        for edge in (0.0, params.wire_length_um - params.contact_width_um):  # electrode zones
            ax.axvspan(edge, edge + params.contact_width_um, color="0.9", zorder=0)
        twin = ax.twinx()
        twin.semilogy(run.z_um, np.maximum(run.x_v[-1] / chloride_level, 1e-6), "b-", label="x_V / x_V(Cl)")
        twin.set_ylabel("x_V / x_V,eq(CsPbCl3)", color="b")
        ax.legend(loc="lower left", fontsize=8)
    if sweep:
        bias = np.array([run.bias_V_per_um for run in sweep])
        length = np.array([run.migration_length_um for run in sweep])
        order = np.argsort(bias)
        axes[2].plot(bias[order], length[order], "o-")
        axes[2].axhline(0, color="grey", lw=0.5)
        axes[2].set_xlabel("bias (V/µm)")
        axes[2].set_ylabel("migration length (µm)")
        axes[2].set_title("Fig. 1e")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
