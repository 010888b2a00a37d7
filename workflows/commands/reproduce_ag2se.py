"""``phasefire reproduce ag2se``: Ag- and Se-vacancy hop barriers in alpha-Ag2Se (MLIP NEB) and
their ratio beside the paper's "Ag+ barrier ~37 times smaller than Se's" (Fig. S21)."""

from __future__ import annotations

import argparse
import time

from phasefire.workflows.commands._output import print_json, print_table


def register(studies: argparse._SubParsersAction) -> None:
    parser = studies.add_parser(
        "ag2se", help="alpha-Ag2Se: Ag vs Se vacancy-hop barriers (NEB) and their ratio vs the paper's ~37"
    )
    parser.add_argument("--engine", default="mlip", help="mlip (default, CHGNet) or vasp")
    parser.add_argument("--hops", default="shortest", help="'shortest' (default) hop per species, 'all', or indices")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a NEB setting (n_images=5, fmax_eV_per_A=0.03) or an engine parameter")  # fmt: skip
    parser.add_argument("--workers", type=int, default=1, help="local worker processes (default 1)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(handler=reproduce_ag2se)


def reproduce_ag2se(args: argparse.Namespace) -> int:
    from fireworks import Workflow

    from phasefire.structures import build
    from phasefire.workflows.commands.reproduce import submit_and_run
    from phasefire.workflows.commands.submit import engine_spec, parse_overrides, split_overrides
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.neb import VacancyHopSettings, hop_settings, neb_workflow
    from phasefire.workflows.studies.ag2se import barrier_comparison, species_rows
    from phasefire.workflows.studies.validation import engine_description, study_engine_params

    setting_names = list(VacancyHopSettings.model_fields)
    maker_params, engine_params = split_overrides(parse_overrides(args.set), setting_names)
    settings = hop_settings({"hops": args.hops, **maker_params})
    spec = engine_spec(args.engine, study_engine_params("ag2se", args.engine, engine_params), setting_names)
    name = f"ag2se-neb/{args.engine}/{time.strftime('%Y%m%d-%H%M%S')}"
    atoms = build("ag2se-alpha")
    parts = [
        neb_workflow(atoms, "ag2se-alpha", species, "vacancy", spec, settings, name=name) for species in ("Ag", "Se")
    ]
    workflow = Workflow([fw for part in parts for fw in part.fws], name=name, metadata={"phasefire": "neb"})
    start = time.perf_counter()
    submit_and_run(workflow, args.workers)
    wall = time.perf_counter() - start
    rows = species_rows(ResultsDB(open_launchpad()).query(workflow=name, task_type="neb"))
    comparison = barrier_comparison(rows)
    best, ratio = comparison["lowest_migration_barrier_eV"], comparison["ratio_Se_over_Ag"]
    result = {
        "workflow": name,
        "engine": args.engine,
        "engine_spec": spec,
        "hops": rows,
        **comparison,
        "wall_time_s": wall,
    }
    if args.json:
        print_json(result)
        return 0
    print(f"\nalpha-Ag2Se vacancy hops ('{name}', engine {engine_description(spec)}; {wall:.0f} s wall)")
    print_table(
        [
            [
                r["species"],
                r["hop"],
                r["supercell"],
                r["atoms"],
                f"{r['barrier_forward_eV']:.3f}",
                f"{r['barrier_backward_eV']:.3f}",
                "yes" if r["converged"] else "NO",
                f"{r['wall_time_s']:.0f}",
            ]
            for r in rows
        ],  # fmt: skip
        ["species", "hop", "supercell", "atoms", "Ea fwd eV", "Ea bwd eV", "converged", "NEB s"],
    )
    shown = {s: "n/a (no converged hop)" if b is None else f"{b:.3f} eV" for s, b in best.items()}
    print(f"lowest migration barrier (max of fwd/bwd): Ag {shown['Ag']}, Se {shown['Se']}")
    print(f"ratio Se/Ag: {'n/a' if ratio is None else f'{ratio:.1f}'}   (paper, DFT: ~{comparison['paper_ratio']:.0f})")
    return 0
