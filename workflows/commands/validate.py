"""``phasefire validate models``: the embedded engine's models against the cited crystals.

``phasefire validate models [--models chgnet,7net-l3i5] [--dispersion none,d3bj] [--crystals ...]
[--quick] [--no-eos] [--no-barrier] [--workers N] [--from-workflow NAME] [--json] [--plot PNG]``
relaxes the cited crystals with every chosen (model, dispersion), the Pnma Sb2Se3 V(P) curve 0-20
GPa and the CsPbBr3 Br-vacancy hop, stores everything in the results database and prints the
table (``phasefire.workflows.studies.validation``); ``--from-workflow`` re-reads a stored table.
``--quick``: CHGNet without dispersion on cubic CsPbBr3 only (seconds).
"""

from __future__ import annotations

import argparse
import time

from phasefire.workflows.commands._output import positive_float, positive_int, print_json, print_table, wrote_plot


def _list(text: str | None) -> list[str] | None:
    return None if text is None else [item.strip() for item in text.split(",") if item.strip()]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="validate the embedded engine against experiment")
    commands = parser.add_subparsers(dest="validate_command", required=True, metavar="CHECK")
    models = commands.add_parser(
        "models",
        help="lattice errors, Sb2Se3 V(P), CsPbBr3 Br-vacancy barrier and time per call for each shipped model",
    )
    models.add_argument("--models", help="comma-separated models (default: chgnet,7net-0,7net-l3i5,7net-mf-0)")
    models.add_argument("--dispersion", help="comma-separated dispersion choices (default: none,d3bj)")
    models.add_argument("--crystals", help="comma-separated built-in crystals (default: the four the studies cite)")
    models.add_argument("--quick", action="store_true", help="CHGNet, no dispersion, cubic CsPbBr3 only")
    models.add_argument("--no-eos", action="store_true", help="skip the Sb2Se3 volume-pressure curve")
    models.add_argument("--no-barrier", action="store_true", help="skip the CsPbBr3 Br-vacancy NEB")
    models.add_argument(
        "--fmax", type=positive_float("--fmax"), default=0.01, help="force criterion of the relaxations, eV/Å"
    )
    models.add_argument(
        "--workers", type=positive_int("--workers"), default=1, help="local worker processes (default 1)"
    )
    models.add_argument("--from-workflow", metavar="NAME", help="re-read a stored validation instead of running one")
    models.add_argument("--json", action="store_true", help="print the table as JSON")
    models.add_argument("--plot", metavar="PNG", help="write volume errors and V(P) to this PNG")
    models.set_defaults(handler=validate_models)


def validate_models(args: argparse.Namespace) -> int:
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.studies import validation

    name = args.from_workflow
    if name is None:
        from phasefire.workflows.commands.reproduce import submit_and_run

        quick = args.quick
        specs = validation.choices(_list(args.models) or (["chgnet"] if quick else None),
                                   _list(args.dispersion) or (["none"] if quick else None))  # fmt: skip
        crystals = tuple(_list(args.crystals) or (["cspbbr3-cubic"] if quick else validation.CRYSTALS))
        name = f"validate/models/{time.strftime('%Y%m%d-%H%M%S')}"
        eos = () if (args.no_eos or quick) else validation.EOS_PRESSURES_GPA
        workflow = validation.validation_workflow(
            specs, name, crystals, eos, barrier=not (args.no_barrier or quick), fmax_eV_per_A=args.fmax
        )
        submit_and_run(workflow, args.workers)
    summary = validation.validation_summary(ResultsDB(open_launchpad()).query(workflow=name), name)
    if args.plot:
        validation.plot_validation(summary, args.plot)
        wrote_plot(args.plot)
    if args.json:
        print_json(summary)
        return 0
    print(f"\nModel validation '{name}': errors against the cited experimental cells (%)")
    rows = []
    for result in summary["results"]:
        for row in result["lattice"]:
            rows.append([result["choice"], row["crystal"], *(f"{row[f'{x}_error_percent']:+.1f}" for x in "abc"),
                         f"{row['volume_error_percent']:+.1f}", row["space_group"], "yes" if row["converged"] else "NO"])  # fmt: skip
    print_table(rows, ["model", "crystal", "da %", "db %", "dc %", "dV %", "space group", "converged"])
    print("\nPnma Sb2Se3 V/V_exp(0 GPa) against pressure")
    pressures = sorted({p["pressure_GPa"] for r in summary["results"] for p in r["eos"]})
    print_table(
        [[r["choice"], *({p["pressure_GPa"]: f"{p['volume_ratio_to_experiment']:.3f}" for p in r["eos"]}.get(x, "-")
                         for x in pressures)] for r in summary["results"]],
        ["model", *(f"{p:g} GPa" for p in pressures)],
    )  # fmt: skip
    print(f"\nCsPbBr3 Br-vacancy hop (experiment {summary['experiment_br_barrier_eV']} eV) and time per force call")
    table = []
    for r in summary["results"]:
        b = r["barrier"] or {}
        table.append([r["choice"], b.get("migration_barrier_eV"), b.get("endpoint_energy_difference_eV"),
                      {True: "yes", False: "NO"}.get(b.get("converged"), "-"), r["time_per_force_call_s"],
                      r["timing_atoms"]])  # fmt: skip
    print_table(table, ["model", "barrier eV", "E_end - E_start eV", "converged", "s per call", "atoms"])
    return 0
