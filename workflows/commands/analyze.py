"""``phasefire analyze``: the structural analyses of ``analysis/`` as commands.

Every subcommand takes FILE... (all frames of all files, in order, are one trajectory and
are time-averaged), prints a readable summary or, with ``--json``, the result as JSON, and
with ``--plot PNG`` writes a figure. User errors raise ValueError (one line, exit 1).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path

import numpy as np

from phasefire.workflows.commands import analyze_dipoles, analyze_elf, analyze_strain
from phasefire.workflows.commands.analyze_neb import register_neb

EOS_HELP = """\
FILE is one of:
  CSV   header with a pressure column (GPa) and a volume column (Å³/atom), e.g.
        series,pressure_GPa,volume_A3_per_atom; the optional "series" column names the
        data set (default "amorphous").
  JSON  {"SERIES": {"pressure_GPa": [...], "volume_A3_per_atom": [...]}, ...}
  [SERIES=]STRUCTURE  any ASE-readable structure/trajectory with stress (e.g. an extxyz
        or .traj of an NPT run or a relaxation under pressure): one point per file, the
        frame-averaged pressure -tr(σ)/3 and volume per atom; SERIES defaults to "amorphous".
Each series is fitted to a third-order Birch–Murnaghan P(V); when both the --amorphous and
--crystal series are present, the pressure where the amorphous density overtakes the
crystal's is reported (an error if the fitted curves do not cross in the common range).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "analyze",
        help="structural analysis of periodic structures and trajectories",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = group.add_subparsers(dest="analysis", required=True, metavar="ANALYSIS")
    register_neb(commands)
    analyze_elf.register(commands)
    analyze_dipoles.register(commands), analyze_strain.register(commands)

    def add(
        name: str,
        help_text: str,
        handler,
        description: str | None = None,
        file_help: str = "POSCAR/CIF/extxyz/ASE .traj; frames are averaged",
    ) -> argparse.ArgumentParser:
        parser = commands.add_parser(
            name,
            help=help_text,
            description=description or help_text,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("files", nargs="+", metavar="FILE", help=file_help)
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument("--plot", metavar="PNG", help="write a figure to this PNG file")
        parser.set_defaults(handler=handler)
        return parser

    rdf = add("rdf", "g(r), total and partial, first-peak r1 and first minima", _rdf)
    rdf.add_argument("--rmax", type=float, help="largest r in Å (default 10, or half the cell height if smaller)")
    rdf.add_argument("--bins", type=int, default=200, help="number of r bins (default 200)")

    sq = add("sq", "X-ray S(q) (Faber–Ziman, Waasmaier–Kirfel form factors) from partial g(r)", _sq)
    sq.add_argument("--rmax", type=float, help="g(r) range in Å (default 10, or half the cell height if smaller)")
    sq.add_argument("--bins", type=int, default=500, help="g(r) bins (default 500)")
    sq.add_argument("--qmax", type=float, default=12.0, help="largest q in 1/Å (default 12)")
    sq.add_argument("--no-lorch", action="store_true", help="no Lorch window in the Fourier transform")

    cn = add("cn", "partial coordination numbers ('A-B': mean B neighbours of an A atom)", _cn)
    cn.add_argument(
        "--cutoff",
        type=_cutoff,
        help="Å, or per pair 'Sb-Se=3.2,Sb-Sb=3.4,Se-Se=3.0' " "(default: first minimum of each partial g(r))",
    )

    adf = add("adf", "bond-angle distribution, total and per central species; weight near 60°", _adf)
    adf.add_argument("--cutoff", type=_cutoff, default=3.2, help="bond cutoff in Å or per pair (default 3.2)")
    adf.add_argument("--bins", type=int, default=180, help="angle bins over 0–180° (default 180)")

    rings = add("rings", "ring statistics of the bond network", _rings)
    rings.add_argument("--cutoff", type=_cutoff, default=3.2, help="bond cutoff in Å or per pair (default 3.2)")
    rings.add_argument("--max-size", type=int, default=10, help="largest ring size (default 10)")
    rings.add_argument("--criterion", default="shortest-path", choices=("shortest-path", "king", "guttman"))

    altbc = add("altbc", "angular-limited three-body correlation and Peierls-like distortion", _altbc)
    altbc.add_argument("--cutoff", type=_cutoff, default=4.0, help="bond cutoff in Å or per pair (default 4.0)")
    altbc.add_argument("--angle-min", type=float, default=155.0, help="smallest bond angle in degrees (default 155)")
    altbc.add_argument("--rmin", type=float, default=2.0, help="histogram start in Å (default 2.0)")

    eos = add(
        "eos",
        "Birch–Murnaghan fits of P(V) and the amorphous/crystal density crossover",
        _eos,
        description="Birch–Murnaghan fits of P(V) and the amorphous/crystal density crossover.\n\n" + EOS_HELP,
        file_help="CSV, JSON or [SERIES=]STRUCTURE with stress (see above)",
    )
    eos.add_argument("--amorphous", default="amorphous", help="series name of the amorphous data (default amorphous)")
    eos.add_argument("--crystal", default="crystal", help="series name of the crystal data (default crystal)")


# ---------------------------------------------------------------- input


def _cutoff(text: str) -> float | dict[str, float]:
    """'3.2' → 3.2; 'Sb-Se=3.2,Se-Se=3.0' → {'Sb-Se': 3.2, 'Se-Se': 3.0}."""
    try:
        if "=" not in text:
            return float(text)
        pairs = (item.split("=") for item in text.split(",") if item.strip())
        return {key.strip(): float(value) for key, value in pairs}
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"cutoff {text!r} is neither a distance in Å nor a list like 'Sb-Se=3.2,Se-Se=3.0'"
        ) from None


def read_frames(paths: list[str]) -> list:
    """All frames of all files, in order."""
    from ase.io import read

    frames = []
    for path in paths:
        try:
            images = read(path, index=":")
        except Exception as exc:  # ASE raises many types for unreadable files
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValueError(
                f"cannot read structure file {path}: {reason}; give a POSCAR/CIF/extxyz/ASE .traj"
            ) from None
        if not images:
            raise ValueError(f"cannot read structure file {path}: no frames; give a POSCAR/CIF/extxyz/ASE .traj")
        frames.extend(images)
    return frames


# ---------------------------------------------------------------- output


def _emit(args, result: dict, lines: list[str]) -> int:
    print(json.dumps(result, indent=2) if args.json else "\n".join(lines))
    return 0


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=(6, 4), dpi=120)


def _save(plt, fig, path: str) -> None:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------- handlers


def _default_rmax(frames, rmax: float | None) -> float:
    """The requested r_max, else 10 Å capped just below half the smallest cell height."""
    from phasefire.analysis.neighbors import shortest_cell_height

    if rmax is not None:
        return rmax
    return min(10.0, 0.999 * 0.5 * min(shortest_cell_height(frame.cell.array) for frame in frames))


def _rdf(args) -> int:
    from phasefire.analysis.rdf import radial_distribution

    frames = read_frames(args.files)
    result = radial_distribution(frames, r_max=_default_rmax(frames, args.rmax), bins=args.bins)
    if args.plot:
        plt, fig, ax = _figure()
        ax.plot(result.r, result.total, "k", label="total")
        for key, g in result.partial.items():
            ax.plot(result.r, g, lw=1, label=key)
        ax.axhline(1.0, color="grey", lw=0.5)
        ax.set(xlabel="r (Å)", ylabel="g(r)")
        ax.legend()
        _save(plt, fig, args.plot)
    peak = result.first_peak
    lines = [
        f"frames {result.n_frames}, species {' '.join(result.species)}, "
        f"density {result.number_density:.5f} atoms/Å³",
        f"first peak r1 = {peak.r1:.4f} ± {peak.r1_error:.4f} Å ({peak.method})",
        "first minima (default CN cutoffs):",
        *(f"  {key:>8}  {value:.3f} Å" for key, value in result.first_minimum.items()),
    ]
    return _emit(args, result.to_dict(), lines)


def _sq(args) -> int:
    from phasefire.analysis.rdf import radial_distribution
    from phasefire.analysis.structure_factor import xray_structure_factor

    frames = read_frames(args.files)
    rdf = radial_distribution(frames, r_max=_default_rmax(frames, args.rmax), bins=args.bins)
    q = np.arange(0.3, args.qmax + 1e-9, 0.01)
    result = xray_structure_factor(rdf, q=q, lorch=not args.no_lorch)
    if args.plot:
        plt, fig, ax = _figure()
        ax.plot(result.q, result.total, "k")
        ax.axhline(1.0, color="grey", lw=0.5)
        ax.set(xlabel="q (1/Å)", ylabel="S(q), X-ray Faber–Ziman")
        _save(plt, fig, args.plot)
    step = max(1, int(round(0.5 / 0.01)))
    lines = [
        f"principal peak q1 = {result.q1:.3f} 1/Å (Lorch window {'on' if result.lorch else 'off'})",
        "   q (1/Å)    S(q)",
        *(f"  {qv:8.2f}  {sv:7.3f}" for qv, sv in zip(result.q[::step], result.total[::step])),
    ]
    return _emit(args, result.to_dict(), lines)


def _cn(args) -> int:
    from phasefire.analysis.coordination import coordination_numbers

    result = coordination_numbers(read_frames(args.files), cutoff=args.cutoff)
    if args.plot:
        plt, fig, ax = _figure()
        ax.bar(list(result.cn), list(result.cn.values()))
        ax.set(ylabel="coordination number")
        _save(plt, fig, args.plot)
    lines = [
        f"cutoffs ({result.source}): " + ", ".join(f"{k} {v:.3f} Å" for k, v in result.cutoffs.items()),
        *(f"  {key:>8}  {value:.3f}" for key, value in result.cn.items()),
        *(f"  {key:>8}  {value:.3f} (all neighbours)" for key, value in result.by_species.items()),
        f"  {'mean':>8}  {result.mean:.3f}",
    ]
    return _emit(args, result.to_dict(), lines)


def _adf(args) -> int:
    from phasefire.analysis.angles import bond_angle_distribution

    result = bond_angle_distribution(read_frames(args.files), cutoff=args.cutoff, bins=args.bins)
    if args.plot:
        plt, fig, ax = _figure()
        ax.plot(result.angle, result.total, "k", label="total")
        for key, values in result.by_center.items():
            ax.plot(result.angle, values, lw=1, label=f"centre {key}")
        ax.set(xlabel="bond angle (degrees)", ylabel="ADF (1/degree)")
        ax.legend()
        _save(plt, fig, args.plot)
    lines = [
        f"{result.angles_per_atom:.3f} bond angles per atom",
        f"weight near 60° (50–70°): {result.weight_near_60:.4f}",
        *(f"  centre {key}: {value:.4f}" for key, value in result.weight_near_60_by_center.items()),
        f"most frequent angle: {result.angle[np.argmax(result.total)]:.1f}°",
    ]
    return _emit(args, result.to_dict(), lines)


def _rings(args) -> int:
    from phasefire.analysis.rings import ring_statistics

    result = ring_statistics(read_frames(args.files), args.cutoff, max_size=args.max_size, criterion=args.criterion)
    data = result.to_dict()
    if args.plot:
        plt, fig, ax = _figure()
        ax.bar([int(k) for k in data["fraction"]], list(data["fraction"].values()))
        ax.set(xlabel="ring size", ylabel="fraction of rings")
        _save(plt, fig, args.plot)
    lines = [
        f"{args.criterion} rings up to {args.max_size}, mean per frame:",
        *(f"  {size:>3}  {count:10.2f}" for size, count in data["ring_size_counts"].items()),
    ]
    return _emit(args, data, lines)


def _altbc(args) -> int:
    from phasefire.analysis.altbc import altbc

    result = altbc(read_frames(args.files), cutoff=args.cutoff, angle_min=args.angle_min, r_min=args.rmin)
    if args.plot:
        plt, fig, ax = _figure()
        edges = (result.r[0] - 0.5 * (result.r[1] - result.r[0]), result.r[-1] + 0.5 * (result.r[1] - result.r[0]))
        image = ax.imshow(result.histogram, origin="lower", extent=(*edges, *edges), cmap="viridis")
        fig.colorbar(image, label="pairs per atom per Å²")
        ax.set(xlabel="r1 (Å)", ylabel="r2 (Å)", title=f"ALTBC, angle > {result.angle_min_deg:g}°")
        _save(plt, fig, args.plot)
    lines = [
        f"collinear (> {result.angle_min_deg:g}°) bond pairs per atom: {result.pairs_per_atom:.3f}",
        f"PLD <(r_long - r_short)/(r_long + r_short)> = {result.pld:.4f} ± {result.pld_error:.4f}",
    ]
    return _emit(args, result.to_dict(), lines)


# ---------------------------------------------------------------- eos


def _column(header: list[str], stem: str, path: str) -> str:
    for name in header:
        if name.strip().lower().startswith(stem):
            return name
    raise ValueError(f"{path} has no {stem} column; expected columns series,pressure_GPa,volume_A3_per_atom")


def _read_eos_points(token: str) -> dict[str, list[tuple[float, float]]]:
    """(pressure GPa, volume Å³/atom) points per series from one FILE argument."""
    match = re.fullmatch(r"([A-Za-z_][\w-]*)=(.+)", token)
    series, path = (match.group(1), match.group(2)) if match and not Path(token).exists() else ("amorphous", token)
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".json") and not Path(path).is_file():
        raise ValueError(f"cannot read equation-of-state file {path}: no such file")
    points: dict[str, list[tuple[float, float]]] = {}
    try:
        if suffix == ".csv":
            with open(path, newline="") as handle:
                reader = csv.DictReader(handle)
                header = reader.fieldnames or []
                p_col, v_col = _column(header, "pressure", path), _column(header, "volume", path)
                s_col = next((h for h in header if h.strip().lower() == "series"), None)
                for row in reader:
                    name = row[s_col].strip() if s_col else series
                    points.setdefault(name, []).append((float(row[p_col]), float(row[v_col])))
        elif suffix == ".json":
            data = json.loads(Path(path).read_text())
            for name, values in data.items():
                pressures, volumes = values["pressure_GPa"], values["volume_A3_per_atom"]
                if len(pressures) != len(volumes):
                    raise ValueError(f"series {name} has {len(pressures)} pressures but {len(volumes)} volumes")
                points[name] = [(float(p), float(v)) for p, v in zip(pressures, volumes)]
        else:
            return {series: [_structure_point(path)]}
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError, ValueError) as exc:
        raise ValueError(f"cannot read equation-of-state file {path}: {exc}") from None
    return points


def _structure_point(path: str) -> tuple[float, float]:
    from phasefire.analysis.eos import EV_PER_A3_IN_GPA
    from phasefire.analysis.frames import as_frames

    frames = as_frames(read_frames([path]))
    pressures = []
    for atoms in frames:
        try:
            stress = atoms.get_stress(voigt=True)
        except Exception:
            raise ValueError(f"{path} has no stress; the eos command needs the stress of each frame") from None
        pressures.append(-stress[:3].mean() * EV_PER_A3_IN_GPA)
    volume = float(np.mean([a.cell.volume / len(a) for a in frames]))
    return float(np.mean(pressures)), volume


def _eos(args) -> int:
    from phasefire.analysis.eos import density_crossover, fit_birch_murnaghan

    series: dict[str, list[tuple[float, float]]] = {}
    for token in args.files:
        for name, points in _read_eos_points(token).items():
            series.setdefault(name, []).extend(points)
    fits = {}
    for name, points in series.items():
        pressures, volumes = np.array(points).T
        try:
            fits[name] = fit_birch_murnaghan(pressures, volumes)
        except ValueError as exc:
            raise ValueError(f"series {name}: {exc}") from None
    result: dict = {
        "fits": {name: fit.to_dict() for name, fit in fits.items()},
        "data": {
            name: {"pressure_GPa": [p for p, _ in pts], "volume_A3_per_atom": [v for _, v in pts]}
            for name, pts in series.items()
        },
    }
    lines = [
        f"{name:>12}: V0 = {fit.v0:.3f} ± {fit.v0_error:.3f} Å³/atom, B0 = {fit.b0:.2f} ± {fit.b0_error:.2f} GPa, "
        f"B0' = {fit.b0_prime:.2f} ± {fit.b0_prime_error:.2f}, rms {fit.rms_residual_gpa:.3f} GPa"
        for name, fit in fits.items()
    ]
    if args.amorphous in fits and args.crystal in fits:
        crossover = density_crossover(fits[args.amorphous], fits[args.crystal])
        result["crossover_pressure_GPa"] = crossover
        lines.append(f"amorphous density overtakes the crystal's at {crossover:.2f} GPa")
    if args.plot:
        plt, fig, ax = _figure()
        for name, fit in fits.items():
            pressures, volumes = np.array(series[name]).T
            grid = np.linspace(volumes.min(), volumes.max(), 200)
            (line,) = ax.plot(fit.pressure(grid), grid, lw=1)
            ax.plot(pressures, volumes, "o", color=line.get_color(), label=name)
        ax.set(xlabel="pressure (GPa)", ylabel="volume (Å³/atom)")
        ax.legend()
        _save(plt, fig, args.plot)
    return _emit(args, result, lines)
