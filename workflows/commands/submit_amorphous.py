"""``phasefire submit amorphous``: the a-Sb2Se3 melt–quench and compression-ladder campaign."""

from __future__ import annotations

import argparse

from phasefire.workflows.commands._output import number


def register(kinds: argparse._SubParsersAction) -> None:
    from phasefire.workflows.commands.submit import add_engine_arguments, add_name_argument

    parser = kinds.add_parser(
        "amorphous", help="amorphous Sb2Se3: melt-quench, anneal, compression ladder (+ Pnma by NPT MD and relaxed)"
    )
    add_profile_arguments(parser)
    add_engine_arguments(parser)
    add_name_argument(parser)
    parser.set_defaults(handler=submit_amorphous)


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="quick", help="quick (~100 atoms, CPU) or paper (>=300 atoms, GPU/HPC)")
    parser.add_argument(
        "--seed",
        type=number("--seed", int, minimum=0),
        default=0,
        help="seed of the random start and the thermostats (default 0)",
    )


def submit_amorphous(args: argparse.Namespace) -> int:
    from phasefire.workflows.commands.submit import parse_overrides
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.studies.sb2se3 import study_workflow

    workflow, _ = study_workflow(args.profile, parse_overrides(args.set), args.engine, args.seed, name=args.name)
    fw_ids = sorted(open_launchpad().add_wf(workflow).values())
    print(f"submitted workflow {fw_ids[0]} '{workflow.name}': {len(fw_ids)} firework(s) {fw_ids}")
    print("run it with: phasefire run")
    return 0
