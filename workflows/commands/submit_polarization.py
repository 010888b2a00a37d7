"""``phasefire submit born|berry|field``: Born charges, Berry-phase polarization, relaxation under a field.

- ``born``: VASP DFPT (LEPSILON; ``--set method=finite_field`` for LCALCEPS) per structure.
- ``berry``: a VASP LCALCPOL series from ``--nonpolar`` to ``--polar`` with ``--images`` images.
- ``field``: relaxations under ``--field-V-per-A`` values or a ``--field-ladder`` along
  ``--field-direction`` (both signs unless ``--one-sign``); ``--engine mlip`` puts the field on
  the ML potential through Born charges, ``--engine vasp`` runs PEAD (bulk) or, with
  ``--slab-plane``, a slab under a sawtooth field.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from phasefire.workflows.commands._output import finite_floats, positive_float, positive_int
from phasefire.workflows.commands.submit import (
    add_engine_arguments,
    engine_spec,
    parse_overrides,
    resolve_structure,
    split_overrides,
)
from phasefire.workflows.errors import PhasefireError


def register(kinds: argparse._SubParsersAction) -> None:
    born = kinds.add_parser("born", help="Born effective charges and dielectric tensors (VASP DFPT)")
    born.add_argument("--structure", action="append", required=True, metavar="NAME|FILE", help="repeat for several")
    add_engine_arguments(born)
    born.set_defaults(handler=submit_born)

    berry = kinds.add_parser("berry", help="Berry-phase polarization series, non-polar to polar (VASP LCALCPOL)")
    berry.add_argument("--nonpolar", required=True, metavar="NAME|FILE", help="the non-polar reference structure")
    berry.add_argument("--polar", required=True, metavar="NAME|FILE", help="the polar structure (same atom order)")
    berry.add_argument(
        "--images", type=positive_int("--images"), default=8, help="interpolated images between them (default 8)"
    )
    add_engine_arguments(berry)
    berry.set_defaults(handler=submit_berry)

    field = kinds.add_parser(
        "field", help="relaxation under an electric field (MLIP via Born charges, VASP PEAD or slab)"
    )
    field.add_argument("--structure", required=True, metavar="NAME|FILE", help="built-in name or structure file")
    field.add_argument("--field-V-per-A", type=float, nargs="+", metavar="V_PER_A", help="field strengths (V/Å)")
    field.add_argument("--field-ladder", type=finite_floats("--field-ladder", 2, "0.05,5"), metavar="MAX,N",
                       help="N evenly spaced strengths up to MAX (V/Å)")  # fmt: skip
    field.add_argument("--field-direction", type=finite_floats("--field-direction", 3), default=None, metavar="X,Y,Z",
                       help="Cartesian field direction (default 0,0,1; a slab's is its normal)")  # fmt: skip
    field.add_argument("--one-sign", action="store_true", help="only the given sign (default: both signs)")
    field.add_argument("--slab-plane", type=finite_floats("--slab-plane", 3, "0,0,1"), metavar="H,K,L",
                       help="build a slab along this lattice plane (sawtooth field along its normal)")  # fmt: skip
    field.add_argument(
        "--slab-thickness",
        type=positive_float("--slab-thickness"),
        default=12.0,
        metavar="A",
        help="slab thickness (Å, 12)",
    )
    field.add_argument("--vacuum", type=positive_float("--vacuum"), default=15.0, metavar="A", help="vacuum (Å, 15)")
    field.add_argument("--born-charges", metavar="JSON", help="Z* per atom, a JSON (N, 3, 3) list in atom order (e)")
    add_engine_arguments(field)
    field.set_defaults(handler=submit_field)


def _launchpad():
    from phasefire.workflows.launchpad import open_launchpad

    return open_launchpad()


def _report(workflow, launchpad) -> int:
    fw_ids = sorted(launchpad.add_wf(workflow).values())
    print(f"submitted workflow {fw_ids[0]} '{workflow.name}': {len(fw_ids)} firework(s) {fw_ids}")
    print("run it with: phasefire run")
    return 0


def submit_born(args: argparse.Namespace) -> int:
    from phasefire.workflows.calculations.born import BornSettings
    from phasefire.workflows.field import born_workflow

    names = list(BornSettings.model_fields)
    settings, engine_params = split_overrides(parse_overrides(args.set), names)
    structures = dict(resolve_structure(reference) for reference in args.structure)
    workflow = born_workflow(structures, engine_spec(args.engine, engine_params, names), settings)
    return _report(workflow, _launchpad())


def submit_berry(args: argparse.Namespace) -> int:
    from phasefire.workflows.calculations.berry import BerrySettings
    from phasefire.workflows.field import berry_workflow

    names = list(BerrySettings.model_fields)
    _, engine_params = split_overrides(parse_overrides(args.set), names)
    if args.images < 0:
        raise PhasefireError(f"--images must be 0 or more, got {args.images}")
    label, nonpolar = resolve_structure(args.nonpolar)
    _, polar = resolve_structure(args.polar)
    spec = engine_spec(args.engine, engine_params, names)
    return _report(berry_workflow(nonpolar, polar, label, spec, args.images), _launchpad())


def read_born_charges(path: str) -> list:
    """Z* from a JSON file: a list of 3x3 tensors, or a born task document's output."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PhasefireError(
            f"cannot read Born charges from {path} ({type(exc).__name__}); give a JSON (N, 3, 3) list"
        ) from None
    if isinstance(data, dict):
        data = (data.get("output") or data).get("born_charges_e")
    return data


def submit_field(args: argparse.Namespace) -> int:
    from phasefire.analysis.polarization import born_charges_array
    from phasefire.workflows.calculations.field import FieldSettings
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.field import field_values, field_workflow

    names = list(FieldSettings.model_fields)
    settings, engine_params = split_overrides(parse_overrides(args.set), names)
    label, atoms = resolve_structure(args.structure)
    values = field_values(args.field_V_per_A, args.field_ladder, both_signs=not args.one_sign)
    if args.field_direction is not None:
        settings["field_direction"] = list(args.field_direction)
    if args.born_charges:
        if args.slab_plane is not None:
            raise PhasefireError(
                "--born-charges are per atom of the bulk cell; a slab has other atoms: drop one of them"
            )
        settings["born_charges_e"] = born_charges_array(read_born_charges(args.born_charges), len(atoms)).tolist()
        settings["born_source"] = f"user ({Path(args.born_charges).name})"
    launchpad = _launchpad()
    spec = engine_spec(args.engine, engine_params, names)
    workflow = field_workflow(atoms, label, spec, values, settings, slab_plane=args.slab_plane,
                              slab_thickness_A=args.slab_thickness, vacuum_A=args.vacuum,
                              database=ResultsDB(launchpad))  # fmt: skip
    return _report(workflow, launchpad)
