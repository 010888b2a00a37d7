"""``phasefire structures list|build``."""

from __future__ import annotations

import argparse
import sys

from phasefire.workflows.commands._output import number, print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("structures", help="list and build the papers' crystal structures")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="names, formulas and sources of the built-in structures")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_structures)

    build = actions.add_parser("build", help="build a structure and write it (POSCAR, CIF or extxyz by extension)")
    build.add_argument("name", help="structure name (see `phasefire structures list`)")
    build.add_argument("--supercell", default="1x1x1", help="repeat, e.g. 2x2x2 (default 1x1x1)")
    build.add_argument(
        "--seed",
        type=number("--seed", int, minimum=0),
        default=0,
        help="seed for random builders (sb2se3-bcc), default 0",
    )
    build.add_argument("-o", "--output", help="output file; POSCAR to stdout when omitted")
    build.set_defaults(handler=build_structure)


def list_structures(args: argparse.Namespace) -> int:
    from phasefire.structures import MATERIALS, build

    rows = []
    for material in MATERIALS.values():
        atoms = build(material.name)
        rows.append(
            {"name": material.name, "formula": atoms.get_chemical_formula(), "natoms": len(atoms),
             "description": material.description}
        )  # fmt: skip
    if args.json:
        print_json(rows)
    else:
        print_table([list(r.values()) for r in rows], ["name", "formula", "atoms", "description"])
    return 0


def build_structure(args: argparse.Namespace) -> int:
    from ase.io import write

    from phasefire.structures import build, parse_supercell
    from phasefire.workflows.errors import user_input
    from phasefire.workflows.structure_io import write_structure

    with user_input():
        atoms = build(args.name, parse_supercell(args.supercell), seed=args.seed)
    if args.output:
        path = write_structure(atoms, args.output)
        print(f"wrote {path} ({atoms.get_chemical_formula()}, {len(atoms)} atoms)")
    else:
        write(sys.stdout, atoms, format="vasp", direct=True)
    return 0
