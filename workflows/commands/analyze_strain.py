"""``phasefire analyze strain ALPHA_FILE BETA_FILE``: the alpha -> beta transformation strain
from the Se sublattices (``analysis.strain``): the minimal-strain lattice correspondence found by
search (pymatgen ``Lattice.find_all_mappings``) and the one with [100]alpha || <111>beta (the
Ag2Se paper's orientation relation), each with the strain along alpha [001]."""

from __future__ import annotations

import argparse
import json

from phasefire.workflows.errors import PhasefireError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``strain`` to the ``phasefire analyze`` subcommands."""
    parser = subparsers.add_parser(
        "strain",
        help="alpha -> beta transformation strain (minimal-strain lattice correspondence, [100]a || [111]b)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("alpha", metavar="ALPHA_FILE", help="the low-symmetry phase (POSCAR/CIF/extxyz)")
    parser.add_argument("beta", metavar="BETA_FILE", help="the high-symmetry phase, same composition")
    parser.add_argument("--species", default="Se", help="sublattice that defines the lattices (default Se)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=analyze_strain)


def analyze_strain(args: argparse.Namespace) -> int:
    from ase.io import read

    from phasefire.analysis.strain import transformation_strain

    structures = []
    for path in (args.alpha, args.beta):
        try:
            structures.append(read(path))
        except Exception as exc:  # ASE raises many types for unreadable files
            raise PhasefireError(
                f"cannot read structure file {path}: {str(exc).splitlines()[0] if str(exc) else exc}"
            ) from None
    try:
        result = transformation_strain(*structures, species=args.species)
    except ValueError as exc:
        raise PhasefireError(str(exc)) from None
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for name in ("minimal", "orientation_relation"):
        row = result[name]
        if row is None:
            print(f"{name}: none found")
            continue
        print(f"{name}: strain along alpha [001] {100 * row['strain_along_axis']:+.2f} % (length "
              f"{100 * row['length_change_along_axis']:+.2f} %), principal "
              f"{', '.join(f'{100 * e:+.1f}' for e in row['principal_strains'])} %, volume "
              f"{100 * row['volume_change']:+.2f} %; beta directions {row['beta_directions_cubic']}")  # fmt: skip
    print("paper (Fig. 4e): ~5.7 % along alpha [001], [100]alpha || [111]beta")
    return 0
