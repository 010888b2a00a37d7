"""``phasefire submit relax``: add a workflow to the LaunchPad and print its id."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import yaml

from phasefire.workflows.commands import register_optional
from phasefire.workflows.errors import PhasefireError

#: modules adding one workflow kind each with ``register(kinds)``; this module adds ``relax``
WORKFLOW_MODULES = ("phasefire.workflows.commands.submit_amorphous", "phasefire.workflows.commands.submit_neb")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("submit", help="add a workflow to the LaunchPad")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="WORKFLOW")
    register_optional(kinds, WORKFLOW_MODULES)
    relax = kinds.add_parser("relax", help="relax structures (positions and cell)")
    relax.add_argument(
        "--structure", action="append", required=True, metavar="NAME|FILE",
        help="built-in structure name or a POSCAR/CIF/extxyz file; repeat for several",
    )  # fmt: skip
    add_engine_arguments(relax)
    relax.set_defaults(handler=submit_relax)


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", default="mlip", help="mlip (default, CHGNet) or vasp")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a workflow default (e.g. fmax_eV_per_A=0.02) or an engine parameter "
        "(e.g. model=sevennet, incar.ENCUT=520); repeatable",
    )  # fmt: skip


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """['a=1', 'incar.ENCUT=520'] -> {'a': 1, 'incar': {'ENCUT': 520}} (values parsed as YAML)."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise PhasefireError(f"bad --set '{pair}'; write KEY=VALUE, e.g. --set fmax_eV_per_A=0.02")
        value = yaml.safe_load(text) if text.strip() else None
        *parents, leaf = key.strip().split(".")
        target = overrides
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return overrides


def split_overrides(overrides: dict[str, Any], maker_type: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keys that are the maker's fields configure the workflow; the rest go to the engine."""
    fields = {f.name for f in dataclasses.fields(maker_type)} - {"name"}
    return {k: v for k, v in overrides.items() if k in fields}, {k: v for k, v in overrides.items() if k not in fields}


def resolve_structure(reference: str) -> tuple[str, Any]:
    """(label, Atoms) for a built-in name or a structure file."""
    from phasefire.structures import MATERIALS, build
    from phasefire.workflows.structure_io import read_structure

    if reference in MATERIALS:
        return reference, build(reference)
    path = Path(reference)
    if path.exists() or path.suffix or "/" in reference:
        return path.stem or path.name, read_structure(path)
    raise PhasefireError(
        f"unknown structure '{reference}': not a built-in name ({', '.join(MATERIALS)}) nor an existing file"
    )


def engine_spec(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate engine name and parameters now (not on the worker) and return its spec."""
    from phasefire.workflows.engines import load_engine

    return load_engine({"name": name, **params}).spec()


def submit_relax(args: argparse.Namespace) -> int:
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.relax import RelaxMaker, relax_workflow

    structures = dict(resolve_structure(reference) for reference in args.structure)
    maker_params, engine_params = split_overrides(parse_overrides(args.set), RelaxMaker)
    maker = RelaxMaker(**maker_params)
    workflow = relax_workflow(structures, engine_spec(args.engine, engine_params), maker)
    id_map = open_launchpad().add_wf(workflow)
    fw_ids = sorted(id_map.values())
    print(f"submitted workflow {fw_ids[0]} '{workflow.name}': {len(fw_ids)} firework(s) {fw_ids}")
    print("run it with: phasefire run")
    return 0
