"""``phasefire analyze elf FILE``: the electron localization function of one grid.

FILE is a VASP ELFCAR (plain or gzipped), the ELFCAR that the gpaw engine writes (GPAW's
ELF, VASP format, one ``total`` block; ``phasefire.workflows.engines.gpaw``), a cube file
(.cube, .cube.gz) or a GPAW restart file saved with its wave functions (.gpw written with
``calc.write(path, mode="all")``; needs the dft extra). Reports the mean ELF per spin
channel (``spin_up``/``spin_down`` for a spin-polarised ELFCAR, ``total`` otherwise), the
volume fractions with ELF > 0.7 (localized) and 0.4-0.6 (electron-gas-like), a histogram,
and the ELF at the midpoint and its maximum along every bond shorter than --cutoff, per
species pair (pair labels in alphabetical order, "Sb-Se"). ``--plane I,J,K``
(0-based atom indices) samples the plane through three atoms; with ``--plot`` it is drawn
like the Sb2Se3 paper's Fig. 5c-d (1 red: localized, 0.5 green: electron gas, 0 blue).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from phasefire.workflows.commands._output import positive_float, wrote_plot


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``elf`` to the ``phasefire analyze`` subcommands."""
    parser = subparsers.add_parser(
        "elf",
        help="electron localization function: bond midpoints, plane maps, localized fractions",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "file",
        metavar="FILE",
        help="ELFCAR (plain or .gz), the gpaw engine's ELFCAR, a cube file or a .gpw with wave functions",
    )
    parser.add_argument(
        "--plane", type=_plane, metavar="I,J,K", help="0-based indices of three atoms: ELF on the plane through them"
    )
    parser.add_argument("--cutoff", type=positive_float("--cutoff"), default=3.2, help="bond cutoff in Å (default 3.2)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--plot",
        metavar="PNG",
        help="with --plane: the plane's ELF map; otherwise the ELF and bond-midpoint histograms",
    )
    parser.set_defaults(handler=analyze_elf)


def _plane(text: str) -> tuple[int, int, int]:
    try:
        indices = tuple(int(item) for item in text.split(","))
    except ValueError:
        indices = ()
    if len(indices) != 3:
        raise argparse.ArgumentTypeError(f"--plane takes three atom indices like 0,5,7, got {text!r}")
    return indices


def elf_summary(path: str, cutoff_A: float = 3.2, plane: tuple[int, int, int] | None = None) -> tuple[dict, dict]:
    """The JSON result for one ELF file and the objects behind it (grid, bonds, plane) for plots."""
    from phasefire.analysis import elf

    grid = elf.read_elf(path)
    plane_result = elf.elf_plane(grid, plane) if plane is not None else None
    bonds = elf.bond_elf(grid, cutoff_A=cutoff_A)
    fractions = elf.volume_fractions(grid)
    edges, counts = elf.histogram(grid)
    has_bonds = len(bonds.length_A) > 0
    result = {
        "file": str(path),
        "format": grid.source_format,
        "formula": grid.atoms.get_chemical_formula(),
        "n_atoms": len(grid.atoms),
        "grid": list(grid.shape),
        "channels": list(grid.channels),
        "mean": elf.channel_means(grid),
        "volume_fraction_localized": fractions["localized"],
        "volume_fraction_electron_gas": fractions["electron_gas"],
        "thresholds": {"localized_min": elf.LOCALIZED_MIN, "electron_gas": list(elf.ELECTRON_GAS_RANGE)},
        "histogram": {"bin_edges": edges.tolist(), **{name: values.tolist() for name, values in counts.items()}},
        "cutoff_A": cutoff_A,
        "n_bonds": int(len(bonds.length_A)),
        "bond_midpoint_mean": {
            name: float(values.mean()) if has_bonds else None for name, values in bonds.midpoint.items()
        },
        "bond_max_mean": {name: float(values.mean()) if has_bonds else None for name, values in bonds.maximum.items()},
        "bonds": bonds.pair_statistics(),
    }
    if plane_result is not None:
        result["plane"] = {
            "atoms": list(plane_result.atom_indices),
            "mean": {name: float(values.mean()) for name, values in plane_result.values.items()},
            "u_range_A": [float(plane_result.u_A[0]), float(plane_result.u_A[-1])],
            "v_range_A": [float(plane_result.v_A[0]), float(plane_result.v_A[-1])],
            "labels": [{"atom": text, "u_A": u, "v_A": v} for text, u, v in plane_result.labels],
        }
    return result, {"grid": grid, "bonds": bonds, "plane": plane_result}


def analyze_elf(args) -> int:
    result, parts = elf_summary(args.file, cutoff_A=args.cutoff, plane=args.plane)
    if args.plot:
        if parts["plane"] is not None:
            _plot_plane(parts["plane"], args.plot)
        else:
            _plot_histograms(result, parts["bonds"], args.plot)
        wrote_plot(args.plot)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    channels = result["channels"]
    lines = [
        f"{result['file']}: {result['formula']} ({result['n_atoms']} atoms), {result['format']} grid "
        f"{'×'.join(map(str, result['grid']))}, channels {', '.join(channels)}",
        f"{'':>22}" + "".join(f"{name:>12}" for name in channels),
        f"{'mean ELF':>22}" + "".join(f"{result['mean'][name]:12.4f}" for name in channels),
        f"{'volume ELF > 0.7':>22}" + "".join(f"{result['volume_fraction_localized'][n]:12.4f}" for n in channels),
        f"{'volume 0.4-0.6':>22}" + "".join(f"{result['volume_fraction_electron_gas'][n]:12.4f}" for n in channels),
    ]
    if result["n_bonds"]:
        lines.append(
            f"{result['n_bonds']} bonds < {args.cutoff:g} Å: mean ELF at the midpoint / maximum along the bond"
        )
        for pair, stats in result["bonds"].items():
            values = "".join(
                f"{stats['midpoint'][n]['mean']:8.3f} / {stats['max_along_bond'][n]['mean']:.3f}" for n in channels
            )
            lines.append(f"{pair:>8} {stats['n_bonds']:7d} bonds, {stats['length_A']['mean']:.3f} Å {values}")
    else:
        lines.append(f"no bonds shorter than {args.cutoff:g} Å; give a larger --cutoff")
    if "plane" in result:
        plane = result["plane"]
        lines.append(
            f"plane through atoms {','.join(map(str, plane['atoms']))}: mean ELF "
            + ", ".join(f"{name} {value:.4f}" for name, value in plane["mean"].items())
        )
    print("\n".join(lines))
    return 0


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_plane(plane, path: str) -> None:
    """ELF map(s) of the plane, one panel per channel, colour bar 0-1 (blue-green-red) and atom labels."""
    plt = _pyplot()
    names = list(plane.values)
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 4.4), dpi=120, squeeze=False)
    extent = (plane.u_A[0], plane.u_A[-1], plane.v_A[0], plane.v_A[-1])
    for ax, name in zip(axes[0], names):
        image = ax.imshow(plane.values[name], origin="lower", extent=extent, cmap="jet", vmin=0.0, vmax=1.0)
        for index, (label, u, v) in enumerate(plane.labels):
            bold = index < 3  # the three chosen atoms come first
            ax.plot(u, v, "o", ms=5 if bold else 3, mfc="white", mec="black", mew=0.6)
            ax.annotate(
                label, (u, v), xytext=(4, 4), textcoords="offset points", fontsize=8,
                fontweight="bold" if bold else "normal", color="white",
                path_effects=[_stroke()],
            )  # fmt: skip
        ax.set(xlabel="u (Å)", ylabel="v (Å)", title=f"ELF ({name}), plane {','.join(map(str, plane.atom_indices))}")
        fig.colorbar(image, ax=ax, label="ELF", fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _stroke():
    import matplotlib.patheffects as effects

    return effects.withStroke(linewidth=1.5, foreground="black")


def _plot_histograms(result: dict, bonds, path: str) -> None:
    """Left: volume fraction per ELF bin and channel; right: bond-midpoint ELF per species pair."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    edges = np.asarray(result["histogram"]["bin_edges"])
    centres = 0.5 * (edges[1:] + edges[:-1])
    for name in result["channels"]:
        left.step(centres, result["histogram"][name], where="mid", label=name)
    left.set(xlabel="ELF", ylabel="volume fraction per bin", xlim=(0, 1))
    left.legend()
    channel = result["channels"][0]
    for pair in sorted(set(bonds.pair.tolist())):
        right.hist(bonds.midpoint[channel][bonds.pair == pair], bins=edges, histtype="step", label=pair)
    right.set(xlabel=f"ELF at bond midpoint ({channel})", ylabel="bonds", xlim=(0, 1))
    if len(bonds.pair):
        right.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
