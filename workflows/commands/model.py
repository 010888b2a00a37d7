"""``phasefire model``: continuum models from the papers.

``phasefire model rectification [--bias 4] [--hours 4] [--grid 1000] [--sources formation-energy|
caption-alpha|none] [--rate-constant K] [--barrier-eV E | --from-task ID] [--sweep [--out DIR]]
[--plot PNG] [--json]`` runs the perovskite paper's reaction-drift-diffusion-Poisson model
(``phasefire.models.rectification``) at +bias and -bias and reports the signed migration lengths of
the x_Br = 0.55 front (µm, > 0 into CsPbBr3), the rectification ratio, the halide-site budget error,
the mobility and the rate constant (fitted at +2 V/µm unless given).  ``--bias 0`` is the unbiased
interdiffusion run.  ``--sweep`` adds the Fig. 1e curve from -4 to +4 V/µm, the Fig. 2b/2d and 3a/3b
profiles as PNGs in ``--out`` and the comparison with the paper's statements.  The study logic lives
in ``phasefire.models.rectification_study``; this module parses and prints.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

from phasefire.models import rectification as rect
from phasefire.models import rectification_study as study
from phasefire.workflows.commands._output import finite_float, number, positive_float, positive_int, wrote_plot
from phasefire.workflows.errors import PhasefireError


def register(subparsers: argparse._SubParsersAction) -> None:
    model = subparsers.add_parser("model", help="continuum models (perovskite ionic rectification)")
    commands = model.add_subparsers(dest="model_command", required=True, metavar="MODEL")
    parser = commands.add_parser(
        "rectification",
        help="halide migration under forward/reverse bias in a CsPbBr3-CsPbCl3 nanowire",
        description="Reaction-drift-diffusion-Poisson model of the perovskite paper (Figs. 1e, 2b/d, 3a/b).",
    )
    parser.add_argument(
        "--bias", type=finite_float("--bias"), default=4.0, help="bias magnitude in V/µm, 0 allowed (default 4)"
    )
    parser.add_argument("--hours", type=positive_float("--hours"), default=4.0, help="biasing time in h (default 4)")
    parser.add_argument(
        "--grid", type=number("--grid", int, minimum=10), default=1000, help="finite-volume cells (default 1000)"
    )
    parser.add_argument(
        "--boundary",
        choices=rect.BOUNDARIES,
        default="contacts",
        help="where the voltages act (default: the contact lines, the paper)",
    )
    parser.add_argument(
        "--sources",
        choices=rect.SOURCE_LAWS,
        default="formation-energy",
        help="electrode sources: 'formation-energy' (default; one rate constant, creation weighted by "
        "exp(-dE_f/kT)), 'caption-alpha' (the Fig. 3 caption's two alpha values) or 'none'",
    )
    parser.add_argument(
        "--rate-constant",
        type=positive_float("--rate-constant"),
        default=None,
        metavar="K",
        help="rate constant k of the formation-energy sources (µm V^-1 s^-1); default: fitted at +2 V/µm "
        "to the paper's mobility on this grid",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--barrier-eV",
        type=positive_float("--barrier-eV"),
        default=None,
        help="Br-vacancy hop barrier (eV) setting D_V",
    )
    source.add_argument(
        "--from-task",
        type=positive_int("--from-task"),
        default=None,
        metavar="TASK_ID",
        help="take barrier, attempt frequency and T from a NEB task document",
    )
    parser.add_argument(
        "--attempt-frequency-Hz",
        type=positive_float("--attempt-frequency-Hz"),
        default=1e13,
        help="attempt frequency for --barrier-eV (Hz, default 1e13)",
    )
    parser.add_argument(
        "--sweep", action="store_true", help="Fig. 1e curve from -4 to +4 V/µm, Fig. 2b/2d/3a/3b PNGs, paper comparison"
    )
    parser.add_argument(
        "--out", default="rectification-figures", help="folder for the --sweep PNGs (default rectification-figures)"
    )
    parser.add_argument("--plot", metavar="PNG", help="write the ±bias profiles to this PNG")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.set_defaults(handler=run_rectification)  # fmt: skip


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


def _task_document(task_id: int) -> dict:
    """The stored task document ``task_id`` (the one place this command reads the results database)."""
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad

    document = ResultsDB(open_launchpad()).get(task_id)
    if document is None:
        raise PhasefireError(f"no task document {task_id} in the results database; see phasefire db query")
    return document


def _parameters(args: argparse.Namespace) -> tuple[rect.RectificationParameters, dict]:
    """Model parameters from --barrier-eV / --from-task, and where D_V came from."""
    if args.from_task is not None:
        info = study.neb_transport(_task_document(args.from_task))
        params = rect.parameters_from_barrier(info["barrier_eV"], info["attempt_frequency_Hz"], info["temperature_K"])
        return params, {"source": f"NEB task {args.from_task}", **info}
    if args.barrier_eV is not None:
        params = rect.parameters_from_barrier(args.barrier_eV, args.attempt_frequency_Hz)
        return params, {
            "source": "--barrier-eV",
            "barrier_eV": args.barrier_eV,
            "attempt_frequency_Hz": args.attempt_frequency_Hz,
        }
    return rect.RectificationParameters(), {"source": "default D_V (0.30 eV barrier)"}  # fmt: skip


def run_rectification(args: argparse.Namespace) -> int:
    for name in ("bias", "hours"):
        if not math.isfinite(getattr(args, name)):
            raise PhasefireError(f"--{name} {getattr(args, name)} is not finite; give a number")
    if args.hours <= 0:
        raise PhasefireError(f"--hours {args.hours} must be > 0; give the biasing time in hours")
    bias = abs(args.bias)
    params, transport = _parameters(args)
    fit = None
    if args.rate_constant is not None:
        params = replace(params, rate_constant_um_per_V_s=args.rate_constant)
    elif args.sources == "formation-energy":
        fit = study.fit_rate_constant(params, args.grid, args.hours, boundary=args.boundary)
        params = replace(params, rate_constant_um_per_V_s=fit.rate_constant_um_per_V_s)

    biases = [bias, -bias] if bias > 0 else [0.0]
    sweep_biases = [b for b in study.FIG1E_BIASES_V_PER_UM if b not in biases] if args.sweep else []
    start, close = _progress_bar(len(biases) + len(sweep_biases) + (2 if args.sweep else 0), sys.stderr.isatty())
    try:
        common = {"params": params, "hours": args.hours, "grid_points": args.grid, "boundary": args.boundary}
        runs = study.run_biases(biases, sources=args.sources, snapshots=9, progress=start, **common)
        if args.sweep:
            runs.update(study.run_biases(sweep_biases, sources=args.sources, progress=start, **common))
            no_sources = study.run_biases([4.0, -4.0], sources="none", progress=start, **common)
    finally:
        close()
    forward, reverse = runs[biases[0]], runs[biases[-1]]
    report = {
        "bias_V_per_um": bias,
        "hours": args.hours,
        "grid_points": args.grid,
        "boundary": args.boundary,
        "sources": args.sources,
        "transport": transport,
        "vacancy_diffusivity_um2_per_s": params.vacancy_diffusivity_um2_per_s,
        "rate_constant_um_per_V_s": params.rate_constant_um_per_V_s if args.sources == "formation-energy" else None,
        "rate_constant_fitted": fit is not None,
        "migration_length_forward_um": forward.migration_length_um,
        "migration_length_reverse_um": reverse.migration_length_um,
        "rectification_ratio": (
            rect.rectification_ratio(forward.migration_length_um, reverse.migration_length_um) if bias > 0 else None
        ),
        "halide_sites_relative_error": max(forward.halide_sites_relative_error, reverse.halide_sites_relative_error),
        "halide_mobility_cm2_per_V_s": (
            rect.halide_mobility_cm2_per_V_s(bias, forward.migration_length_um, args.hours) if bias > 0 else None
        ),
        "wall_time_forward_s": forward.wall_time_s,
        "wall_time_reverse_s": reverse.wall_time_s,
    }
    if fit is not None:
        report["rate_fit"] = {
            "bias_V_per_um": fit.bias_V_per_um,
            "target_um": fit.target_um,
            "migration_length_um": fit.migration_length_um,
            "runs": fit.evaluations,
        }
    if args.sweep:
        from phasefire.workflows.reports.cspbx3 import write_model_figures

        summary = study.sweep_summary(runs, args.hours)
        report["sweep"] = summary
        report["landmarks"] = study.landmarks(summary, args.hours)
        report["figures"] = [str(p) for p in write_model_figures(runs, no_sources, params, Path(args.out))]
    if args.plot:
        from phasefire.workflows.reports.cspbx3 import write_profiles_png

        report["plot"] = str(write_profiles_png(forward, reverse, params, Path(args.plot)))
        wrote_plot(report["plot"])

    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)
    return 0


def _fmt(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _print_table(report: dict) -> None:
    rows = [
        ("bias (V/µm)", f"±{report['bias_V_per_um']:g}"),
        ("biasing time (h)", f"{report['hours']:g}"),
        ("grid points", f"{report['grid_points']}"),
        ("boundary conditions / sources", f"{report['boundary']} / {report['sources']}"),
        ("vacancy diffusivity (µm²/s)", f"{report['vacancy_diffusivity_um2_per_s']:.3g} ({report['transport']['source']})"),
        ("rate constant (µm/V/s)", _fmt(report["rate_constant_um_per_V_s"], ".4g") + (" (fitted at +2 V/µm)" if report["rate_constant_fitted"] else "")),
        ("migration length forward (µm, + = into CsPbBr3)", f"{report['migration_length_forward_um']:+.4f}"),
        ("migration length reverse (µm)", f"{report['migration_length_reverse_um']:+.4f}"),
        ("rectification ratio (paper ~20)", _fmt(report["rectification_ratio"], ".1f")),
        ("halide mobility (cm²/V/s; paper 1.7e-13)", _fmt(report["halide_mobility_cm2_per_V_s"], ".3g")),
        ("halide-site budget error (relative)", f"{report['halide_sites_relative_error']:.2e}"),
        ("wall time forward / reverse (s)", f"{report['wall_time_forward_s']:.2f} / {report['wall_time_reverse_s']:.2f}"),
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    if "sweep" in report:
        print("Fig. 1e (migration length after the run, µm):")
        for point in report["sweep"]["curve"]:
            print(f"  {point['bias_V_per_um']:+5.2f} V/µm  {point['migration_length_um']:+.4f}")
        print("paper statements:")
        for row in report["landmarks"]:
            verdict = "agrees" if row["agrees"] else "DISAGREES"
            print(f"  [{verdict}] {row['statement']}: paper {row['paper']}, model {row['model']}")
            if row["why"]:
                print(f"      why: {row['why']}")
        for path in report["figures"]:
            print(f"wrote {path}")
    if "plot" in report:
        print(f"wrote {report['plot']}")
