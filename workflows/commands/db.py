"""``phasefire db query|show|export``: read task documents from the results database."""

from __future__ import annotations

import argparse

from phasefire.workflows.commands._output import positive_int, print_json, print_table


def add_filters(parser: argparse.ArgumentParser) -> None:
    from phasefire.workflows.calculations import CALCULATIONS

    parser.add_argument("--formula", help="reduced formula, e.g. CsPbBr3")
    parser.add_argument("--workflow", help="workflow name (prefix match), e.g. relax/cspbbr3-cubic")
    parser.add_argument("--type", dest="task_type", choices=list(CALCULATIONS), help="calculation type")


def register(subparsers: argparse._SubParsersAction) -> None:
    from phasefire.workflows.export import STRUCTURE_FORMATS, TABLE_FORMATS

    parser = subparsers.add_parser("db", help="query, show and export the results database")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    query = actions.add_parser("query", help="list finished calculations")
    add_filters(query)
    query.add_argument("--json", action="store_true", help="print the task documents as JSON")
    query.set_defaults(handler=query_tasks)

    show = actions.add_parser("show", help="one task document: header, results, files")
    show.add_argument("task_id", type=positive_int("TASK_ID"), metavar="TASK_ID")
    show.add_argument("--json", action="store_true", help="print the whole document as JSON")
    show.set_defaults(handler=show_task)

    export = actions.add_parser("export", help="a CSV/JSON table of results with the structures beside it")
    add_filters(export)
    export.add_argument("--format", choices=TABLE_FORMATS, default="csv", help="table format (default csv)")
    export.add_argument("--structures", choices=list(STRUCTURE_FORMATS), default="cif", help="structure files (cif)")
    export.add_argument("--to", required=True, metavar="DIR", help="folder to write")
    export.set_defaults(handler=export_tasks)


def selected(args: argparse.Namespace) -> list[dict]:
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad

    return ResultsDB(open_launchpad()).query(formula=args.formula, workflow=args.workflow, task_type=args.task_type)


def query_tasks(args: argparse.Namespace) -> int:
    from phasefire.workflows.calculations import parse_document

    documents = selected(args)
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
            "yes" if doc.converged else "NO", doc.workflow, doc.created_at[:19].replace("T", " "), doc.run_dir,
        ])  # fmt: skip
    print_table(rows, ["task", "type", "formula", "label", "engine", "result", "converged", "workflow", "created", "run folder"])  # fmt: skip
    return 0


def show_task(args: argparse.Namespace) -> int:
    from phasefire.workflows.calculations import parse_document
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.errors import PhasefireError
    from phasefire.workflows.export import HEADER_COLUMNS, task_row
    from phasefire.workflows.launchpad import open_launchpad

    document = ResultsDB(open_launchpad()).get(args.task_id)
    if document is None:
        raise PhasefireError(f"no task document {args.task_id}; list them with `phasefire db query`")
    if args.json:
        print_json(document)
        return 0
    typed = parse_document(document)
    print(f"task {typed.task_id}: {typed.task_type} of {typed.label} ({typed.formula_pretty}, {typed.nsites} atoms)")
    print(f"  result     {typed.summary()}  converged: {'yes' if typed.converged else 'NO'}")
    print(f"  engine     {typed.engine}")
    print(f"  workflow   {typed.workflow}  firework {typed.fw_id}  launch {typed.launch_id}")
    print(f"  created    {typed.created_at}  wall {typed.wall_time_s:.1f} s")
    print(f"  run folder {typed.run_dir}")
    for name, file in typed.files.items():
        print(f"  file       {name}: {file}")
    for note in typed.notes:
        print(f"  note       {note}")
    for key, value in task_row(document).items():
        if key not in HEADER_COLUMNS:
            print(f"  {key:28s} {value}")
    return 0


def export_tasks(args: argparse.Namespace) -> int:
    from phasefire.workflows.export import export_tasks as export

    written = export(selected(args), args.to, args.format, args.structures)
    print(f"wrote {written['table']} ({written['rows']} task(s)) and {len(written['structures'])} structure file(s)")
    return 0
