"""``phasefire reproduce``: the papers' calculations end to end on the configured store."""

from __future__ import annotations

import argparse
import time

from phasefire.workflows.commands import register_optional
from phasefire.workflows.commands._output import positive_float, positive_int, print_json, print_table

#: modules adding one study each with ``register(studies)``; this module adds ``campaign``
STUDY_MODULES = (
    "phasefire.workflows.commands.reproduce_sb2se3",
    "phasefire.workflows.commands.reproduce_cspbx3",
    "phasefire.workflows.commands.reproduce_ag2se",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("reproduce", help="reproduce the papers' calculations")
    studies = parser.add_subparsers(dest="study", required=True, metavar="STUDY")
    register_optional(studies, STUDY_MODULES)
    campaign = studies.add_parser(
        "campaign", help="relax alpha-Ag2Se, cubic CsPbBr3 and Pnma Sb2Se3 and compare with experiment"
    )
    campaign.add_argument("--engine", default="mlip", help="mlip (default) or vasp")
    campaign.add_argument(
        "--workers", type=positive_int("--workers"), default=1, help="local worker processes (default 1)"
    )
    campaign.add_argument(
        "--fmax", type=positive_float("--fmax"), default=0.01, help="force criterion, eV/Å (paper: 0.01)"
    )
    campaign.add_argument("--json", action="store_true", help="print the results as JSON")
    campaign.set_defaults(handler=reproduce_campaign)


def submit_and_run(workflow, workers: int) -> list[int]:
    """Add ``workflow`` and run its fireworks, and only those (other work in the store stays
    queued), to the end with local workers; return its fw_ids. Progress goes to stderr; raise if
    anything fizzled; a Ctrl-C (``run.Interrupt``) ends it as KeyboardInterrupt (exit 130)."""
    from phasefire.workflows.commands.run import EXIT_INTERRUPTED, run_fireworks
    from phasefire.workflows.errors import PhasefireError
    from phasefire.workflows.launchpad import open_launchpad

    fw_ids = sorted(int(i) for i in open_launchpad().add_wf(workflow).values())
    status = run_fireworks(argparse.Namespace(workers=workers, rerun_lost=False, workflow=None, fw_ids=fw_ids))
    if status == EXIT_INTERRUPTED:
        raise KeyboardInterrupt
    if status != 0:
        raise PhasefireError(
            f"workflow '{workflow.name}' (id {min(fw_ids)}) did not finish cleanly; "
            f"see `phasefire status` and `phasefire show FW_ID`"
        )
    return fw_ids


def reproduce_campaign(args: argparse.Namespace) -> int:
    from phasefire.workflows.commands.submit import engine_spec
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.studies.campaign import campaign_rows, campaign_structures, campaign_workflow

    structures = campaign_structures()
    name = f"campaign/{args.engine}/{time.strftime('%Y%m%d-%H%M%S')}"
    submit_and_run(campaign_workflow(structures, engine_spec(args.engine, {}), args.fmax, name), args.workers)
    rows = campaign_rows(ResultsDB(open_launchpad()).query(workflow=name), structures)
    if args.json:
        print_json({"workflow": name, "engine": args.engine, "results": rows})
        return 0
    print(f"\nRelaxation campaign '{name}' (engine: {args.engine}); reference = the cited experimental cell")
    print_table(
        [
            [
                r["structure"],
                r["formula"],
                *(f"{r[f'{x}_A']:.3f} ({r[f'{x}_reference_A']:.3f})" for x in "abc"),
                f"{r['volume_change_percent']:+.1f}",
                r["space_group"],
                r["energy_per_atom_eV"],
                r["max_force_eV_per_A"],
                "yes" if r["converged"] else "NO",
            ]
            for r in rows
        ],  # fmt: skip
        [
            "structure",
            "formula",
            "a A (ref)",
            "b A (ref)",
            "c A (ref)",
            "dV %",
            "space group",
            "E/atom eV",
            "max F eV/A",
            "converged",
        ],
    )
    return 0
