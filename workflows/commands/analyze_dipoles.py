"""``phasefire analyze dipoles FILE``: local Se dipoles in their Ag cages (``analysis.dipoles``).

Per Se: the displacement (pm) from the centroid of its --neighbors nearest Ag (minimum image).
--projection U,V,W projects the dipoles on the plane normal to crystal direction [UVW] (the
paper's [100] zone axis) and, when [UVW] is a cell vector, finds vortices (curl of the
projected field); --field-direction U,V,W splits the dipoles into families along/against it
(default [001], Fig. 2e; the paper's field is [011], Fig. 3b-c). Δz and Abrahams' Ps = 258·Δz.
"""

from __future__ import annotations

import argparse
import json

from phasefire.workflows.commands._output import finite_floats, positive_int, wrote_plot
from phasefire.workflows.errors import PhasefireError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``dipoles`` to the ``phasefire analyze`` subcommands."""
    parser = subparsers.add_parser(
        "dipoles",
        help="local Se dipoles (displacement from the Ag-cage centroid), families, vortices, Abrahams Ps",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help="POSCAR/CIF/extxyz/ASE .traj (last frame)")
    parser.add_argument("--neighbors", type=positive_int("--neighbors"), default=4, help="Ag per cage (default 4)")
    parser.add_argument(
        "--projection",
        type=finite_floats("--projection", 3),
        metavar="U,V,W",
        help="project on the plane normal to [UVW]",
    )
    parser.add_argument("--field-direction", type=finite_floats("--field-direction", 3), default=(0.0, 0.0, 1.0), metavar="U,V,W",
                        help="direction splitting the families (default 0,0,1)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--plot", metavar="PNG", help="dipole and vortex map (needs --projection along a cell vector)")
    parser.set_defaults(handler=analyze_dipoles)


def analyze_dipoles(args: argparse.Namespace) -> int:
    from ase.io import read

    from phasefire.analysis.dipoles import dipole_analysis, plot_dipole_map, public

    try:
        atoms = read(args.file)
    except Exception as exc:  # ASE raises many types for unreadable files
        raise PhasefireError(
            f"cannot read structure file {args.file}: {str(exc).splitlines()[0] if str(exc) else exc}"
        ) from None
    try:
        result = dipole_analysis(atoms, args.neighbors, args.projection, args.field_direction)
    except ValueError as exc:
        raise PhasefireError(str(exc)) from None
    if args.plot:
        if not result["vortices"]:
            raise PhasefireError("--plot needs --projection along a cell vector (e.g. 1,0,0)")
        plot_dipole_map(result, args.plot, args.file)
        wrote_plot(args.plot)
    result = public(result)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.file}: {result['count']} Se, {args.neighbors} Ag per cage")
    print(f"mean |dipole| {result['mean_magnitude_pm']:.1f} pm", end="")
    if "mean_projected_magnitude_pm" in result:
        print(
            f", projected on the plane normal to {result['projection']}: {result['mean_projected_magnitude_pm']:.1f} pm"
        )
    else:
        print()
    for name, family in result["families"].items():
        if family["count"]:
            print(f"  {name:7s} {result['direction']}: {family['count']} Se, {family['mean_magnitude_pm']:.1f} "
                  f"± {family['std_magnitude_pm']:.1f} pm, mean angle {family['mean_angle_deg']:.1f}° "
                  f"(|angle| {family['mean_abs_angle_deg']:.1f}°)")  # fmt: skip
    print(f"Δz {result['delta_z_pm']:.2f} pm -> Abrahams Ps = 258·Δz = {result['abrahams_Ps_uC_cm2']:.2f} µC/cm²")
    if result["vortices"]:
        v = result["vortices"]
        print(f"vortices in the cell: {v['anticlockwise_vortices']} anticlockwise, {v['clockwise_vortices']} clockwise")
    return 0
