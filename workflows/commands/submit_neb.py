"""``phasefire submit neb``: vacancy-hop NEBs of one species in one structure."""

from __future__ import annotations

import argparse

from phasefire.workflows.commands._output import positive_float
from phasefire.workflows.commands.submit import (
    add_engine_arguments,
    add_name_argument,
    engine_spec,
    parse_overrides,
    resolve_structure,
    split_overrides,
)


def register(kinds: argparse._SubParsersAction) -> None:
    parser = kinds.add_parser("neb", help="vacancy-hop barriers (climbing-image NEB) and ionic transport")
    parser.add_argument(
        "--structure", required=True, metavar="NAME|FILE", help="built-in structure name or a structure file"
    )
    parser.add_argument("--species", required=True, help="the mobile element, e.g. Ag or Br")
    parser.add_argument("--defect", default="vacancy", help="defect that hops (vacancy)")
    parser.add_argument("--hops", default=None, help="'all' (default), 'shortest' or hop indices like 0,2")
    parser.add_argument(
        "--temperature",
        type=positive_float("--temperature"),
        default=None,
        metavar="K",
        help="temperature of the transport numbers (300 K)",
    )
    parser.add_argument(
        "--attempt-frequency", default=None, metavar="HZ|vineyard",
        help="hop attempt frequency in Hz (1e13) or 'vineyard' (harmonic TST with phonopy)",
    )  # fmt: skip
    add_engine_arguments(parser)
    add_name_argument(parser)
    parser.set_defaults(handler=submit_neb)


def submit_neb(args: argparse.Namespace) -> int:
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.neb import VacancyHopSettings, hop_settings, neb_workflow

    label, atoms = resolve_structure(args.structure)
    setting_names = list(VacancyHopSettings.model_fields)
    maker_params, engine_params = split_overrides(parse_overrides(args.set), setting_names)
    for key, value in (
        ("hops", args.hops),
        ("temperature_K", args.temperature),
        ("attempt_frequency", args.attempt_frequency),
    ):
        if value is not None:
            maker_params[key] = value
    settings = hop_settings(maker_params)
    spec = engine_spec(args.engine, engine_params, setting_names)
    workflow = neb_workflow(atoms, label, args.species, args.defect, spec, settings, name=args.name)
    id_map = open_launchpad().add_wf(workflow)
    fw_ids = sorted(id_map.values())
    print(f"submitted workflow {fw_ids[0]} '{workflow.name}': {len(fw_ids) // 3} hop(s), {len(fw_ids)} firework(s)")
    print("run it with: phasefire run")
    return 0
