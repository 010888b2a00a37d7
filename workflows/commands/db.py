"""``phasefire db query``: read task documents from the results database."""

from __future__ import annotations

import argparse

from phasefire.workflows.commands._output import print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    from phasefire.workflows.calculations import CALCULATIONS

    parser = subparsers.add_parser("db", help="query the results database")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    query = actions.add_parser("query", help="list finished calculations")
    query.add_argument("--formula", help="reduced formula, e.g. CsPbBr3")
    query.add_argument("--workflow", help="workflow name (prefix match), e.g. relax/cspbbr3-cubic")
    query.add_argument("--type", dest="task_type", choices=list(CALCULATIONS), help="calculation type")
    query.add_argument("--json", action="store_true", help="print the task documents as JSON")
    query.set_defaults(handler=query_tasks)


def query_tasks(args: argparse.Namespace) -> int:
    from phasefire.workflows.calculations import parse_document
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad

    documents = ResultsDB(open_launchpad()).query(
        formula=args.formula, workflow=args.workflow, task_type=args.task_type
    )
    if args.json:
        print_json(documents)
        return 0
    if not documents:
        print("no tasks match (see `phasefire status` for what has run)")
        return 0
    rows = []
    for raw in documents:
        doc = parse_document(raw)
        rows.append([
            doc.task_id, doc.task_type, doc.formula_pretty, doc.label, doc.engine["name"], doc.summary(),
            "yes" if doc.converged else "NO", doc.workflow, doc.created_at[:19],
        ])  # fmt: skip
    print_table(rows, ["task", "type", "formula", "label", "engine", "result", "converged", "workflow", "created"])
    return 0
