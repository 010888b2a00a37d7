"""``phasefire reproduce ag2se``: the alpha-Ag2Se paper (Luo et al., Nat. Commun. (2025)) reproduced
with an MLIP: relaxed alpha and beta cells, local dipoles and vortices, Abrahams Ps, the alpha -> beta
transformation strain, QHA thermal expansion, every distinct Ag and Se vacancy hop (NEB) and the
percolating barriers with their ratio, written as a report folder (``workflows.studies.ag2se``,
``workflows.reports.ag2se``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from phasefire.workflows.commands._output import positive_int, print_json


def register(studies: argparse._SubParsersAction) -> None:
    parser = studies.add_parser(
        "ag2se", help="alpha-Ag2Se: cells, dipoles, Ps, transformation strain, QHA, percolating Ag/Se barriers; report"
    )
    parser.add_argument("--profile", choices=("quick", "full"), default="quick",
                        help="quick (default; see the README for its time) or full (tighter, larger)")  # fmt: skip
    parser.add_argument(
        "--engine",
        default="mlip",
        help="mlip (default: 7net-mf-0, the validated model for Ag2Se); relaxations/QHA need an ASE engine",
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="engine parameter")
    parser.add_argument(
        "--workers", type=positive_int("--workers"), default=1, help="local worker processes for the NEBs (default 1)"
    )
    parser.add_argument("--out", default=None, help="report folder (default reports/ag2se-<timestamp>)")
    parser.add_argument("--from-workflow", default=None, metavar="NAME",
                        help="report on the stored NEBs and field ladder of this finished workflow (the in-process "
                             "relaxations and QHA run again, a few minutes) instead of running new ones")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(handler=reproduce_ag2se)


def reproduce_ag2se(args: argparse.Namespace) -> int:
    from phasefire.workflows.commands.submit import engine_spec, parse_overrides
    from phasefire.workflows.reports.ag2se import write_report
    from phasefire.workflows.studies.ag2se import reproduce
    from phasefire.workflows.studies.validation import engine_description, study_engine_params

    spec = engine_spec(args.engine, study_engine_params("ag2se", args.engine, parse_overrides(args.set)))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = args.from_workflow or f"ag2se/{args.profile}/{args.engine}/{stamp}"
    results = reproduce(args.profile, spec, args.workers, name, progress=lambda m: print(m, file=sys.stderr),
                        submit=not args.from_workflow)  # fmt: skip
    report = write_report(results, Path(args.out or f"reports/ag2se-{stamp}"))
    public = {k: v for k, v in results.items() if not k.startswith("_")}
    if args.json:
        print_json({**public, "report": str(report)})
        return 0
    percolation = public["percolation"]
    alpha = public["dipoles"]["relaxed alpha"]
    strain = public["strain"]["relaxed"]["minimal"] or public["strain"]["cited"]["minimal"]
    print(
        f"\nalpha-Ag2Se ({args.profile}, engine {engine_description(spec)}; {public['timings_s']['total_s']:.0f} s wall)"
    )
    print(f"relaxed alpha dipoles: mean {alpha['mean_magnitude_pm']:.1f} pm, Δz {alpha['delta_z_pm']:.2f} pm, "
          f"Ps {alpha['abrahams_Ps_uC_cm2']:.2f} µC/cm² (paper 54/68 pm, 3.6 µC/cm²)")  # fmt: skip
    if strain is not None:
        which = "relaxed" if public["strain"]["relaxed"]["minimal"] else "cited (relaxed: none found)"
        print(
            f"alpha->beta strain along alpha [001], {which} cells: {100 * strain['strain_along_axis']:+.2f} % (paper ~5.7 %)"
        )
    print(f"QHA linear expansion at 300 K: {public['qha']['linear_expansion_300K_per_K']:.2e} /K")
    for species in ("Ag", "Se"):
        p = percolation[species]
        value = (
            "n/a"
            if p["percolating_barrier_eV"] is None
            else f"{p['percolating_barrier_eV']:.3f} eV ({p['dimensionality']})"
        )
        print(f"percolating {species} barrier: {value}")
    ratio = percolation["ratio_Se_over_Ag"]
    print(f"ratio Se/Ag: {'n/a' if ratio is None else f'{ratio:.1f}'} (paper ~{percolation['paper_ratio']:.0f})")
    print(f"report: {report}")
    return 0
