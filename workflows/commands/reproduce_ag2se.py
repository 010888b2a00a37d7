"""``phasefire reproduce ag2se``: Ag- and Se-vacancy hop barriers in alpha-Ag2Se (MLIP NEB) and
their ratio beside the paper's "Ag+ barrier ~37 times smaller than Se's" (Fig. S21)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from phasefire.workflows.commands._output import print_json, print_table

#: Luo et al., Nat. Commun. (2025), doi:10.1038/s41467-025-57057-5: DFT migration barrier of Se / that of Ag+
PAPER_BARRIER_RATIO = 37.0


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


def migration_barrier(document: dict[str, Any]) -> float | None:
    """max(forward, backward) barrier (eV) of a converged hop: what a long-range walk must cross."""
    output = document["output"]
    if not document["converged"]:
        return None
    return max(output["barrier_forward_eV"], output["barrier_backward_eV"])


def species_rows(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for document in sorted(documents, key=lambda d: d["task_label"]):
        output, hop = document["output"], document["input"]["hop"]
        prefix = "" if document["converged"] else "unconverged_"
        rows.append({
            "species": hop["species"], "hop": hop["label"], "task_id": document["task_id"],
            "barrier_forward_eV": output[f"{prefix}barrier_forward_eV"], "barrier_backward_eV": output[f"{prefix}barrier_backward_eV"],
            "migration_barrier_eV": migration_barrier(document), "converged": document["converged"],
            "supercell": "x".join(str(n) for n in hop["supercell"]), "atoms": document["nsites"],
            "wall_time_s": document["wall_time_s"],
        })  # fmt: skip
    return rows


def reproduce_ag2se(args: argparse.Namespace) -> int:
    from fireworks import Workflow

    from phasefire.structures import build
    from phasefire.workflows.commands.reproduce import submit_and_run
    from phasefire.workflows.commands.submit import engine_spec, parse_overrides, split_overrides
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.neb import NEBMaker, neb_workflow

    maker_params, engine_params = split_overrides(parse_overrides(args.set), NEBMaker)
    maker = NEBMaker(**{"hops": args.hops, **maker_params})
    spec = engine_spec(args.engine, engine_params)
    name = f"ag2se-neb/{args.engine}/{time.strftime('%Y%m%d-%H%M%S')}"
    atoms = build("ag2se-alpha")
    parts = [neb_workflow(atoms, "ag2se-alpha", species, "vacancy", spec, maker, name=name) for species in ("Ag", "Se")]
    workflow = Workflow([fw for part in parts for fw in part.fws], name=name, metadata={"phasefire": "neb"})
    start = time.perf_counter()
    submit_and_run(workflow, args.workers)
    wall = time.perf_counter() - start
    documents = [d for d in ResultsDB(open_launchpad()).query(workflow=name) if d["task_label"].startswith("neb ")]
    rows = species_rows(documents)
    best = {}
    for species in ("Ag", "Se"):
        barriers = [
            r["migration_barrier_eV"] for r in rows if r["species"] == species and r["migration_barrier_eV"] is not None
        ]
        best[species] = min(barriers) if barriers else None
    ratio = best["Se"] / best["Ag"] if best["Ag"] and best["Se"] is not None else None
    result = {"workflow": name, "engine": args.engine, "hops": rows, "lowest_migration_barrier_eV": best,
              "ratio_Se_over_Ag": ratio, "paper_ratio": PAPER_BARRIER_RATIO, "wall_time_s": wall}  # fmt: skip
    if args.json:
        print_json(result)
        return 0
    print(f"\nalpha-Ag2Se vacancy hops ('{name}', engine {args.engine}; {wall:.0f} s wall)")
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
    print(f"ratio Se/Ag: {'n/a' if ratio is None else f'{ratio:.1f}'}   (paper, DFT: ~{PAPER_BARRIER_RATIO:.0f})")
    return 0
