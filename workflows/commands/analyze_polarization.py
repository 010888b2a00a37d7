"""``phasefire analyze polarization RUNDIR... [--json]``: ΔP of a finished Berry-phase series.

RUNDIR... are the series' run folders in path order (non-polar reference first, polar structure
last), each with OUTCAR(.gz) from an LCALCPOL run and CONTCAR or POSCAR(.gz). pymatgen's
``Polarization`` puts every point on one branch; printed: ΔP (µC/cm², Cartesian components and
norm), the polarization quantum of the polar point and whether the branch is smooth (no spline
jump above a tenth of the quantum).
"""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``polarization`` to the ``phasefire analyze`` subcommands."""
    parser = subparsers.add_parser(
        "polarization",
        help="Berry-phase polarization change of a VASP LCALCPOL series (pymatgen Polarization)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("rundirs", nargs="+", metavar="RUNDIR", help="run folders in path order (non-polar first)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=analyze_polarization)


def analyze_polarization(args) -> int:
    from phasefire.analysis.polarization import read_berry_folders

    result = {"rundirs": list(args.rundirs), **read_berry_folders(args.rundirs).as_dict()}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    delta, quantum = result["delta_polarization_uC_cm2"], result["polarization_quantum_uC_cm2"]
    print(
        f"{result['n_points']} points: dP = ({delta[0]:.3f}, {delta[1]:.3f}, {delta[2]:.3f}) uC/cm2, "
        f"|dP| = {result['delta_polarization_norm_uC_cm2']:.3f} uC/cm2\n"
        f"quantum ({quantum[0]:.2f}, {quantum[1]:.2f}, {quantum[2]:.2f}) uC/cm2; "
        f"branch {'smooth' if result['smooth_branch'] else 'NOT smooth: add images or check the end points'}"
    )
    return 0
