"""``phasefire db query``: read task documents from the results database."""

from __future__ import annotations

import argparse

from phasefire.workflows.commands._output import print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="query the results database")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    query = actions.add_parser("query", help="list finished calculations")
    query.add_argument("--formula", help="reduced formula, e.g. CsPbBr3")
    query.add_argument("--workflow", help="workflow name (prefix match), e.g. relax/cspbbr3-cubic")
    query.add_argument("--json", action="store_true", help="print the task documents as JSON")
    query.set_defaults(handler=query_tasks)


def query_tasks(args: argparse.Namespace) -> int:
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad

    documents = ResultsDB(open_launchpad()).query(formula=args.formula, workflow=args.workflow)
    if args.json:
        print_json(documents)
        return 0
    if not documents:
        print("no tasks match (see `phasefire status` for what has run)")
        return 0
    rows = []
    for doc in documents:
        out = doc["output"]
        lattice = out["lattice"]
        rows.append([
            doc["task_id"], doc["formula_pretty"], doc["task_label"], doc["engine"]["name"],
            out["energy_per_atom_eV"], out["max_force_eV_per_A"], lattice["a_A"], lattice["b_A"], lattice["c_A"],
            lattice["space_group"], "yes" if doc["converged"] else "NO",
        ])  # fmt: skip
    print_table(
        rows,
        [
            "task",
            "formula",
            "label",
            "engine",
            "E/atom eV",
            "max F eV/A",
            "a A",
            "b A",
            "c A",
            "space group",
            "converged",
        ],
    )
    return 0
