"""``phasefire submit relax|static``: add a workflow to the LaunchPad and print its id."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from phasefire.workflows.commands import register_optional
from phasefire.workflows.errors import PhasefireError

#: modules adding one workflow kind each with ``register(kinds)``; this module adds the
#: single-structure calculation types below
WORKFLOW_MODULES = (
    "phasefire.workflows.commands.submit_amorphous",
    "phasefire.workflows.commands.submit_neb",
    "phasefire.workflows.commands.submit_polarization",
)

#: single-structure calculation types submitted directly, with their help lines
SINGLE_STRUCTURE_TYPES = {
    "relax": "relax structures (positions and cell)",
    "static": "single-point energy, forces and stress (VASP: optional ELFCAR/CHGCAR/AECCAR)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("submit", help="add a workflow to the LaunchPad")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="WORKFLOW")
    register_optional(kinds, WORKFLOW_MODULES)
    for task_type, help_text in SINGLE_STRUCTURE_TYPES.items():
        kind = kinds.add_parser(task_type, help=help_text)
        kind.add_argument(
            "--structure", action="append", required=True, metavar="NAME|FILE",
            help="built-in structure name or a POSCAR/CIF/extxyz file; repeat for several",
        )  # fmt: skip
        add_engine_arguments(kind)
        add_name_argument(kind)
        kind.set_defaults(handler=submit_single, task_type=task_type)


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", default="mlip", help="mlip (default, CHGNet), vasp, or gpaw (the dft extra)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a workflow setting (e.g. fmax_eV_per_A=0.02) or an engine parameter "
        "(e.g. model=sevennet, incar.ENCUT=520); repeatable",
    )  # fmt: skip


def add_name_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--name", help="workflow name, kept verbatim (folders use a safe form of it); default from the inputs"
    )


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """['a=1', 'incar.ENCUT=520'] -> {'a': 1, 'incar': {'ENCUT': 520}} (values parsed as YAML)."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise PhasefireError(f"bad --set '{pair}'; write KEY=VALUE, e.g. --set fmax_eV_per_A=0.02")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise PhasefireError(
                f"bad --set '{pair}': the value is not valid YAML; quote it or fix its brackets"
            ) from None
        *parents, leaf = key.strip().split(".")
        target = overrides
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return overrides


def split_overrides(overrides: dict[str, Any], setting_names) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keys among ``setting_names`` configure the workflow; the rest go to the engine."""
    names = set(setting_names)
    return {k: v for k, v in overrides.items() if k in names}, {k: v for k, v in overrides.items() if k not in names}


def engine_spec(name: str, params: dict[str, Any], setting_names=()) -> dict[str, Any]:
    """Validate engine name and parameters now (not on the worker) and return its spec; an
    unknown key lists the workflow's settings as well as the engine's parameters."""
    from phasefire.workflows.engines import engine_type, load_engine

    known = set(engine_type(name).parameter_names())
    unknown = sorted(set(params) - known)
    if unknown:
        raise PhasefireError(
            f"unknown setting {', '.join(unknown)}; workflow settings: {', '.join(setting_names) or '-'}; "
            f"engine '{name}' parameters: {', '.join(sorted(known))}"
        )
    return load_engine({"name": name, **params}).spec()


def warn_local_problems(spec: dict[str, Any], elements: set[str]) -> None:
    """Warn (on stderr) about what would stop the engine on this machine: the work may run elsewhere."""
    import sys

    from phasefire.workflows.config import load_settings
    from phasefire.workflows.engines import load_engine

    for problem in load_engine(spec).local_problems(load_settings().worker, elements):
        print(f"phasefire: warning: {problem} (fine if the work runs on another machine)", file=sys.stderr)


def resolve_structure(reference: str) -> tuple[str, Any]:
    """(label, Atoms) for a built-in name or a structure file."""
    from phasefire.structures import MATERIALS, build
    from phasefire.workflows.structure_io import read_structure

    if reference in MATERIALS:
        return reference, build(reference)
    path = Path(reference)
    if path.exists() or path.suffix or "/" in reference:
        label = path.stem or path.name
        if path.name.upper().startswith(("POSCAR", "CONTCAR")):  # many files share these names: add the folder
            label = f"{path.resolve().parent.name}-{path.name}"
        return label, read_structure(path)
    raise PhasefireError(
        f"unknown structure '{reference}': not a built-in name ({', '.join(MATERIALS)}) nor an existing file"
    )


def submit_single(args: argparse.Namespace) -> int:
    from phasefire.workflows.calculations import get_calculation
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.makers import CalculationMaker, calculation_workflow

    setting_names = list(get_calculation(args.task_type).settings_type.model_fields)
    structures = dict(resolve_structure(reference) for reference in args.structure)
    settings, engine_params = split_overrides(parse_overrides(args.set), setting_names)
    maker = CalculationMaker(args.task_type, settings)
    spec = engine_spec(args.engine, engine_params, setting_names)
    workflow = calculation_workflow(structures, spec, maker, name=args.name)
    warn_local_problems(spec, {s for atoms in structures.values() for s in atoms.get_chemical_symbols()})
    fw_ids = sorted(open_launchpad().add_wf(workflow).values())
    print(f"submitted workflow {fw_ids[0]} '{workflow.name}': {len(fw_ids)} firework(s) {fw_ids}")
    print("run it with: phasefire run")
    return 0
