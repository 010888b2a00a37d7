"""``phasefire reproduce sb2se3``: the amorphous Sb2Se3 compression campaign end to end, then
the structure analysis of every pressure and a report beside the paper's numbers."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from phasefire.workflows.commands._output import positive_int, print_json, print_table


def register(studies: argparse._SubParsersAction) -> None:
    from phasefire.workflows.commands.submit import add_engine_arguments
    from phasefire.workflows.commands.submit_amorphous import add_profile_arguments

    parser = studies.add_parser(
        "sb2se3", help="amorphous Sb2Se3: melt-quench + compression ladder, g(r)/ADF/CN/rings/V(P) vs the paper"
    )
    add_profile_arguments(parser)
    add_engine_arguments(parser)
    parser.add_argument(
        "--workers", type=positive_int("--workers"), default=1, help="local worker processes (default 1)"
    )
    parser.add_argument("--out", default=None, help="report folder (default reports/sb2se3-<timestamp>)")
    parser.add_argument("--from-workflow", default=None, metavar="NAME",
                        help="report on a finished campaign of this name instead of running a new one")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(handler=reproduce_sb2se3)


def reproduce_sb2se3(args: argparse.Namespace) -> int:
    from phasefire.workflows.commands.reproduce import submit_and_run
    from phasefire.workflows.commands.submit import parse_overrides
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.reports.sb2se3 import comparison_rows, write_report
    from phasefire.workflows.studies.sb2se3 import campaign_summary, study_workflow

    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = args.from_workflow or f"amorphous/sb2se3/{args.profile}/{args.engine}/{stamp}"
    workflow, profile = study_workflow(args.profile, parse_overrides(args.set), args.engine, args.seed, name=name)
    if not args.from_workflow:
        submit_and_run(workflow, args.workers)
    summary = campaign_summary(ResultsDB(open_launchpad()).query(workflow=name), name, profile)
    summary.update(profile_name=args.profile, profile=profile, seed=args.seed)
    report = write_report(summary, Path(args.out or f"reports/sb2se3-{stamp}"))
    if args.json:
        print_json({"report": str(report), **{k: v for k, v in summary.items() if k != "stages"},
                    "ladder": [{k: v for k, v in s.items() if k not in ("g_r", "adf")} for s in summary["stages"]]})  # fmt: skip
        return 0
    print(f"\nAmorphous Sb2Se3 campaign '{name}' ({summary['n_atoms']} atoms, engine {summary['engine']}): "
          f"{summary['md_steps']} MD steps at {summary['md_steps_per_s']:.1f} steps/s, wall {summary['wall_time_s']:.0f} s")  # fmt: skip
    if summary.get("crystal_md_steps"):
        print(f"Pnma crystal MD ({summary['crystal_md_n_atoms']} atoms): {summary['crystal_md_steps']} MD steps at "
              f"{summary['crystal_md_steps_per_s']:.1f} steps/s")  # fmt: skip
    print_table([row[:3] for row in comparison_rows(summary["comparison"])], ["quantity", "paper", "this run"])
    unsettled = summary["settling"]["unsettled"]
    print(f"barostat settling (|<V> 2nd - 1st half of sampling| <= {summary['settling']['tolerance_percent']:g} %): "
          + (f"unsettled: {', '.join(unsettled)}" if unsettled else "every pressure settled"))  # fmt: skip
    print(f"report: {report}")
    return 0
