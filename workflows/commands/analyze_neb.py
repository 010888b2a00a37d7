"""``phasefire analyze neb RUNDIR``: barriers and profile of a finished VASP NEB folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from phasefire.workflows.commands._output import finite_float, print_json, print_table, wrote_plot


def register_neb(analyze_subparsers: argparse._SubParsersAction) -> None:
    parser = analyze_subparsers.add_parser("neb", help="barriers and energy profile of a finished VASP NEB folder")
    parser.add_argument("rundir", metavar="RUNDIR", help="folder with INCAR and image folders 00 ... N+1")
    parser.add_argument(
        "--endpoint-energies", nargs=2, type=finite_float("--endpoint-energies"), metavar=("E_INITIAL", "E_FINAL"),
        help="total energies (eV) of the relaxed endpoints when 00/ and N+1/ hold no OUTCAR",
    )  # fmt: skip
    parser.add_argument("--plot", metavar="PNG", help="write the profile plot here")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=analyze_neb)


def neb_summary(rundir: Path, endpoint_energies_eV: tuple[float, float] | None = None) -> dict:
    """Per-image energies (eV), barriers over the images with known energies, convergence, notes."""
    import numpy as np

    from phasefire.analysis.neb import barrier_profile, path_coordinate_A
    from phasefire.workflows.engines.vasp.parsing import parse_vasp_neb, root_vasprun_problem

    result = parse_vasp_neb(rundir, endpoint_energies_eV)
    known = np.flatnonzero(np.isfinite(result.energies_eV))
    notes = []
    if problem := root_vasprun_problem(rundir):
        notes.append(f"root {problem}; energies from the per-image OUTCARs")
    if len(known) < len(result.energies_eV):
        notes.append(
            f"endpoint energies unknown (no OUTCAR in image folders {', '.join(f'{k:02d}' for k in sorted(set(range(len(result.energies_eV))) - set(known)))}); "
            f"barriers are relative to image {known[0]:02d}: give --endpoint-energies for true barriers"
        )  # fmt: skip
    coordinate = path_coordinate_A(result.images)
    profile = barrier_profile(result.energies_eV[known], coordinate[known])
    prefix = "" if result.converged else "unconverged_"
    if not result.converged:
        notes.append("NEB NOT CONVERGED: some images did not reach the force criterion; the barrier is not final")
    return {
        "rundir": str(rundir),
        "images": len(result.energies_eV),
        "image_energies_eV": [None if not np.isfinite(e) else float(e) for e in result.energies_eV],
        "images_converged": result.details["images_converged"],
        "converged": result.converged,
        "max_force_eV_per_A": result.max_force_eV_per_A,
        f"{prefix}barrier_forward_eV": profile.barrier_forward_eV,
        f"{prefix}barrier_backward_eV": profile.barrier_backward_eV,
        "saddle_image": int(known[profile.saddle_index]),
        "energy_profile": {
            "image": [int(k) for k in known],
            **{k: v for k, v in profile.as_dict().items() if k in ("reaction_coordinate_A", "energies_eV")},
        },
        "notes": notes,
        "_profile": profile,
    }


def analyze_neb(args: argparse.Namespace) -> int:
    summary = neb_summary(Path(args.rundir), tuple(args.endpoint_energies) if args.endpoint_energies else None)
    profile = summary.pop("_profile")
    if args.plot:
        from phasefire.workflows.reports.neb import plot_profile

        plot_profile(
            profile, Path(args.plot), title=f"VASP NEB {Path(args.rundir).name}", converged=summary["converged"]
        )
        summary["plot"] = args.plot
        wrote_plot(args.plot)
    if args.json:
        print_json(summary)
        return 0
    coordinate, energies = summary["energy_profile"]["reaction_coordinate_A"], summary["energy_profile"]["energies_eV"]
    print_table(
        [
            [f"{k:02d}", f"{summary['image_energies_eV'][k]:.5f}", f"{c:.3f}", f"{e:.4f}"]
            for k, c, e in zip(summary["energy_profile"]["image"], coordinate, energies)
        ],
        ["image", "E eV", "path A", "E - E_first eV"],
    )
    tag = "" if summary["converged"] else "unconverged_"
    print(f"barrier forward {summary[tag + 'barrier_forward_eV']:.4f} eV, backward {summary[tag + 'barrier_backward_eV']:.4f} eV, "
          f"saddle image {summary['saddle_image']:02d}, converged: {'yes' if summary['converged'] else 'NO'}")  # fmt: skip
    for note in summary["notes"]:
        print(f"note: {note}")
    return 0
