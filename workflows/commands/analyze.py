"""``phasefire analyze``: the structural analyses of ``analysis/`` as commands.

Every subcommand takes FILE... (all frames of all files, in order, are one trajectory and
are time-averaged), prints a readable summary or, with ``--json``, the result as JSON, and
with ``--plot PNG`` writes a figure (and says where on stderr). Frames are streamed (read once,
never all in memory); ``all`` runs g(r), S(q), CN, ADF, rings and ALTBC in one pass. A cell too
small for what an analysis looks at (g(r) to --rmax, or to 10 Å for a cell under 12 Å high; bonds
to the largest --cutoff) is repeated to the smallest supercell that makes it exact, said once on
stderr (``--supercell NxNxN`` overrides); a shortest-path ring search is estimated first and
refused when it would take hours (``--force``). User errors raise PhasefireError (one line, exit 1).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

from phasefire.analysis.bonds import BOND_CUTOFF_HELP, parse_bond_cutoff
from phasefire.workflows.commands import (
    analyze_dipoles,
    analyze_elf,
    analyze_polarization,
    analyze_rings,
    analyze_strain,
)
from phasefire.workflows.commands._output import number, positive_float, positive_int, wrote_plot
from phasefire.workflows.commands.analyze_neb import register_neb
from phasefire.workflows.errors import PhasefireError

EOS_HELP = """\
FILE is one of:
  CSV   header with a pressure column (GPa) and a volume column (Å³/atom), e.g.
        series,pressure_GPa,volume_per_atom_A3; the optional "series" column names the
        data set (default "amorphous").
  JSON  {"SERIES": {"pressure_GPa": [...], "volume_per_atom_A3": [...]}, ...}
  [SERIES=]STRUCTURE  any ASE-readable structure/trajectory with stress (e.g. an extxyz
        or .traj of an NPT run or a relaxation under pressure): one point per file, the
        frame-averaged pressure -tr(σ)/3 and volume per atom; SERIES defaults to "amorphous".
Each series is fitted to a third-order Birch–Murnaghan P(V); when both the --amorphous and
--crystal series are present, the pressure where the amorphous density overtakes the
crystal's is reported (an error if the fitted curves do not cross in the common range).
"""

#: --qmax: the q grid of S(q) starts at 0.3 1/Å
QMAX = number("--qmax", above=0.3, hint="1/Å; the q grid starts at 0.3")
#: --max-size: rings of 3 atoms up (the ring kernel packs images in a byte)
MAX_SIZE = number("--max-size", int, minimum=3, maximum=200, hint="atoms per ring")


def _cutoff_type(text: str):
    """--cutoff: a positive distance, per-pair distances or 'auto'; a bad value names the option (exit 1)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None and not (math.isfinite(value) and value > 0):
        raise PhasefireError(
            f"--cutoff must be a distance > 0 in Å, pairs like 'Sb-Se=3.2,Sb-Sb=3.4' or 'auto'; got {text!r}"
        )
    try:
        return parse_bond_cutoff(text)
    except PhasefireError as error:
        raise PhasefireError(f"--cutoff: {error}") from None


def _cutoff_option(parser: argparse.ArgumentParser) -> None:
    """--cutoff with the shared default and help text (``analysis.bonds``)."""
    parser.add_argument("--cutoff", type=_cutoff_type, default=None, metavar="CUTOFF", help=BOND_CUTOFF_HELP)


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
    analyze_polarization.register(commands)
    analyze_dipoles.register(commands)
    analyze_strain.register(commands)

    def add(
        name: str,
        help_text: str,
        handler,
        description: str | None = None,
        file_help: str = "POSCAR/CIF/extxyz/ASE .traj or a built-in structure name; frames are averaged",
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
        parser.add_argument(
            "--supercell",
            default=None,
            metavar="NxNxN",
            help="repeat every frame, e.g. 3x3x3 (default: the smallest repeat that the ranges and cutoffs "
            "need, said on stderr; a big enough cell is not repeated)",
        )
        parser.set_defaults(handler=handler)
        return parser

    def rdf_options(parser: argparse.ArgumentParser, bins: int, what: str = "g(r)") -> None:
        parser.add_argument(
            "--rmax",
            type=positive_float("--rmax"),
            help=f"{what} range in Å (default 10, or just below half the cell height if that is smaller but at "
            "least 6 Å; a smaller cell is repeated to reach 10)",
        )
        parser.add_argument(
            "--bins", type=number("--bins", int, minimum=2), default=bins, help=f"number of r bins (default {bins})"
        )

    def sq_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--qmax", type=QMAX, default=12.0, help="largest q in 1/Å (default 12)")
        parser.add_argument("--no-lorch", action="store_true", help="no Lorch window in the Fourier transform")

    def ring_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--max-size", type=MAX_SIZE, default=10, help="largest ring size (default 10)")
        parser.add_argument("--criterion", default="shortest-path", choices=("shortest-path", "king", "guttman"))
        parser.add_argument(
            "--force",
            action="store_true",
            help="search even when the up-front estimate says it would take over "
            f"{analyze_rings.REFUSE_ABOVE_S / 60:g} min per frame",
        )

    def altbc_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--angle-min",
            type=number("--angle-min", minimum=90, below=180, hint="degrees"),
            default=155.0,
            help="smallest bond angle in degrees (default 155)",
        )
        parser.add_argument(
            "--rmin",
            type=number("--rmin", minimum=0, hint="Å"),
            default=2.0,
            help="ALTBC histogram start in Å (default 2.0)",
        )

    rdf_options(add("rdf", "g(r), total and partial, first-peak r1 and first minima", _rdf), 200)

    sq = add("sq", "X-ray S(q) (Faber–Ziman, Waasmaier–Kirfel form factors) from partial g(r)", _sq)
    rdf_options(sq, 500)
    sq_options(sq)

    cn = add("cn", "partial coordination numbers ('A-B': mean B neighbours of an A atom)", _cn)
    _cutoff_option(cn)

    adf = add("adf", "bond-angle distribution, total and per central species; weight near 60°", _adf)
    _cutoff_option(adf)
    adf.add_argument("--bins", type=positive_int("--bins"), default=180, help="angle bins over 0–180° (default 180)")

    rings = add("rings", "ring statistics of the bond network", _rings)
    _cutoff_option(rings)
    ring_options(rings)

    altbc = add("altbc", "angular-limited three-body correlation and Peierls-like distortion", _altbc)
    _cutoff_option(altbc)
    altbc_options(altbc)

    every = add(
        "all",
        "g(r), S(q), CN, ADF, rings and ALTBC in one pass over the frames",
        _all,
        description="g(r), S(q), CN, ADF, rings and ALTBC in one streaming pass over the frames (frame means).\n"
        'JSON: {"rdf": ..., "sq": ..., "cn": ..., "adf": ..., "rings": ..., "altbc": ...}, each '
        "with the keys of the single command.",
    )
    _cutoff_option(every)
    every.add_argument(
        "--rmax",
        type=positive_float("--rmax"),
        help="g(r) and S(q) range in Å (default as for rdf)",
    )
    every.add_argument("--bins", type=number("--bins", int, minimum=2), default=200, help="g(r) bins (default 200)")
    every.add_argument(
        "--sq-bins", type=number("--sq-bins", int, minimum=2), default=500, help="g(r) bins behind S(q) (default 500)"
    )
    sq_options(every)
    every.add_argument(
        "--angle-bins", type=positive_int("--angle-bins"), default=180, help="ADF bins over 0–180° (default 180)"
    )
    ring_options(every)
    altbc_options(every)
    every.add_argument(
        "--only", metavar="LIST", help="comma-separated subset of rdf,sq,cn,adf,rings,altbc (default: all)"
    )

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


def _open_error(path: str, exc: Exception) -> PhasefireError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return PhasefireError(f"cannot read structure file {path}: {reason}; give a POSCAR/CIF/extxyz/ASE .traj")


#: a frame at least twice this high (Å) keeps the plain default g(r) range, just below half its
#: height (at most 10 Å); a smaller one (a crystal's unit cell) is repeated so that g(r) reaches 10 Å
SMALL_CELL_HALF_HEIGHT_A = 6.0


def iter_frames(paths: list[str], supercell: str | None = "1x1x1", needs=None):
    """Every frame of every file (or built-in structure name), in order, read one at a time
    (``ase.io.iread``) and repeated by ``supercell``; the first frame of each is checked like
    every structure phasefire reads (``structure_io.check_structure``: overlapping atoms named).

    supercell None: the smallest repeat of the first frame that the analyses need
    (``needs(frame)`` → (range in Å, what for) or None; ``frames.supercell_for``), chosen once and
    said on stderr when it is not 1x1x1."""
    return FrameSource(paths, supercell, needs).stream()


class FrameSource:
    """Fresh streams of the frames of FILEs, each frame repeated by one supercell for all streams:
    the explicit one, or the one chosen on the first frame (see ``iter_frames``). Calling it
    returns a stream with a progress bar on stderr when that is a terminal (tqdm)."""

    def __init__(self, paths: list[str], supercell: str | None = "1x1x1", needs=None):
        from phasefire.structures import parse_supercell
        from phasefire.workflows.errors import user_input

        self.paths, self.needs = paths, needs
        self.repeat = None
        if supercell is not None:
            with user_input():
                self.repeat = parse_supercell(supercell)

    def __call__(self):
        from tqdm import tqdm

        return tqdm(self.stream(), unit=" frames", file=sys.stderr, disable=not sys.stderr.isatty(), leave=False)

    def stream(self):
        from phasefire.structures import MATERIALS, build
        from phasefire.workflows.structure_io import check_structure

        for path in self.paths:
            if path in MATERIALS and not Path(path).exists():
                frames = iter([build(path)])
            else:
                frames = _file_frames(path)
            for count, frame in enumerate(frames):
                if count == 0:
                    frame = check_structure(frame, path)
                if self.repeat is None:
                    self.repeat = self._choose(frame)
                if self.repeat != (1, 1, 1):  # repeat() drops the stored energy and stress
                    frame = frame.repeat(self.repeat)
                yield frame

    def _choose(self, frame) -> tuple[int, int, int]:
        from phasefire.analysis.frames import supercell_for

        need = self.needs(frame) if self.needs is not None else None
        if need is None:
            return (1, 1, 1)
        range_A, purpose = need
        repeat = supercell_for(frame.cell.array, range_A)
        if repeat != (1, 1, 1):
            heights = " × ".join(f"{h:.3g}" for h in _heights(frame.cell.array))
            text = "x".join(map(str, repeat))
            print(
                f"phasefire: note: each frame repeated {text} ({len(frame) * int(np.prod(repeat))} atoms), the smallest "
                f"supercell exact for {purpose}; cell heights {heights} Å; --supercell overrides",
                file=sys.stderr,
            )
        return repeat


def _heights(cell: np.ndarray) -> np.ndarray:
    volume = abs(np.linalg.det(cell))
    return volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)


def _file_frames(path: str):
    """The frames of one file, read one at a time; unreadable files are one line."""
    from ase.io import iread

    if not Path(path).is_file():
        raise PhasefireError(f"cannot read structure file {path}: no such file; give a POSCAR/CIF/extxyz/ASE .traj")
    frames = iread(path, index=":")
    count = 0
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except Exception as exc:  # ASE raises many types for unreadable files
            raise _open_error(path, exc) from None
        count += 1
        yield frame
    if count == 0:
        raise PhasefireError(f"cannot read structure file {path}: no frames; give a POSCAR/CIF/extxyz/ASE .traj")


def read_frames(paths: list[str]) -> list:
    """All frames of all files, in order (in memory; for the small inputs of ``eos``)."""
    return list(iter_frames(paths))


def analysis_range(args, analyses: tuple[str, ...]):
    """``needs`` of the command's analyses (``iter_frames``): the largest distance they look at
    and what for — g(r) to --rmax (default: 10 Å for a cell less than 12 Å high, else nothing to
    add), bonds to the largest --cutoff, or the 'auto' cutoff's g(r) search to 6 Å."""
    from phasefire.analysis.bonds import DEFAULT_CUTOFF_SEARCH_A, BondCutoff
    from phasefire.analysis.neighbors import shortest_cell_height
    from phasefire.analysis.trajectory import DEFAULT_R_MAX_A

    options = vars(args)

    def needs(frame):
        wanted = []
        if {"rdf", "sq"} & set(analyses):
            what = "g(r)" if "rdf" in analyses else "S(q)'s g(r)"
            if options.get("rmax") is not None:
                wanted.append((options["rmax"], f"{what} to {options['rmax']:g} Å"))
            elif 0.5 * shortest_cell_height(frame.cell.array) < SMALL_CELL_HALF_HEIGHT_A:
                wanted.append((DEFAULT_R_MAX_A, f"{what} to {DEFAULT_R_MAX_A:g} Å (the default range)"))
        if {"cn", "adf", "rings", "altbc"} & set(analyses):
            cutoff = BondCutoff.of(options.get("cutoff"))
            if cutoff.auto:
                wanted.append((DEFAULT_CUTOFF_SEARCH_A, f"the 'auto' cutoff's g(r) to {DEFAULT_CUTOFF_SEARCH_A:g} Å"))
            else:
                wanted.append((cutoff.largest_A, f"bonds up to {cutoff.largest_A:g} Å"))
        return max(wanted, key=lambda item: item[0]) if wanted else None

    return needs


def frame_source(paths: list[str], supercell: str | None = "1x1x1", needs=None) -> FrameSource:
    """A function returning a fresh stream of the frames (``FrameSource``)."""
    return FrameSource(paths, supercell, needs)


def run_pass(args, analyses: tuple[str, ...]) -> dict:
    """The analyses over the FILEs in one streaming pass, with the command's options."""
    from phasefire.analysis.bonds import BondCutoff
    from phasefire.analysis.trajectory import PassSettings, analyze_trajectory

    options = vars(args)
    settings = PassSettings(
        cutoff=BondCutoff.of(options.get("cutoff")),
        r_max_A=options.get("rmax"),
        rdf_bins=options["bins"] if args.analysis in ("rdf", "all") else 200,
        sq_bins=options["bins"] if args.analysis == "sq" else options.get("sq_bins", 500),
        q_max_inv_A=options.get("qmax", 12.0),
        lorch=not options.get("no_lorch", False),
        angle_bins=options["bins"] if args.analysis == "adf" else options.get("angle_bins", 180),
        ring_max_size=options.get("max_size", 10),
        ring_criterion=options.get("criterion", "shortest-path"),
        altbc_angle_min_deg=options.get("angle_min", 155.0),
        altbc_r_min_A=options.get("rmin", 2.0),
    )
    source = frame_source(args.files, args.supercell, analysis_range(args, analyses))
    if "rings" not in analyses or settings.ring_criterion != "shortest-path":
        return analyze_trajectory(source, analyses, settings)
    seconds = _ring_estimate(source, settings, getattr(args, "force", False))
    with analyze_rings.progress(seconds, f"rings up to {settings.ring_max_size}"):
        return analyze_trajectory(source, analyses, settings)


def _ring_estimate(source: FrameSource, settings, force: bool) -> float:
    """The shortest-path ring search's estimated seconds per frame from the first frame; a search
    far too long is refused before it starts (``analyze_rings.check``)."""
    from phasefire.analysis.frames import check_frame, species_order

    first = next(iter(source.stream()), None)
    if first is None:
        return 0.0
    check_frame(0, first, None)
    cutoff = settings.cutoff.with_first_minima([first]) if settings.cutoff.auto else settings.cutoff
    cutoffs = cutoff.matrix(species_order(first))
    check_frame(0, first, None, float(cutoffs.max()))
    result = analyze_rings.estimate(first, cutoffs, settings.ring_max_size)
    return analyze_rings.check(result, settings.ring_max_size, force)


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
    wrote_plot(path)


# ---------------------------------------------------------------- handlers


def _rdf(args) -> int:
    result = run_pass(args, ("rdf",))["rdf"]
    if args.plot:
        plt, fig, ax = _figure()
        _plot_rdf(ax, result)
        _save(plt, fig, args.plot)
    return _emit(args, result.to_dict(), _rdf_lines(result))


def _plot_rdf(ax, result) -> None:
    ax.plot(result.r, result.total, "k", label="total")
    for key, g in result.partial.items():
        ax.plot(result.r, g, lw=1, label=key)
    ax.axhline(1.0, color="grey", lw=0.5)
    ax.set(xlabel="r (Å)", ylabel="g(r)")
    ax.legend()


def _rdf_lines(result) -> list[str]:
    peak = result.first_peak
    return [
        f"frames {result.n_frames}, species {' '.join(result.species)}, "
        f"density {result.number_density:.5f} atoms/Å³",
        f"first peak r1 = {peak.r1:.4f} ± {peak.r1_error:.4f} Å ({peak.method})",
        "first minima (default CN cutoffs):",
        *(f"  {key:>8}  {value:.3f} Å" for key, value in result.first_minimum.items()),
    ]


def _sq(args) -> int:
    result = run_pass(args, ("sq",))["sq"]
    if args.plot:
        plt, fig, ax = _figure()
        _plot_sq(ax, result)
        _save(plt, fig, args.plot)
    return _emit(args, result.to_dict(), _sq_lines(result))


def _plot_sq(ax, result) -> None:
    ax.plot(result.q, result.total, "k")
    ax.axhline(1.0, color="grey", lw=0.5)
    ax.set(xlabel="q (1/Å)", ylabel="S(q), X-ray Faber–Ziman")


def _sq_lines(result) -> list[str]:
    step = max(1, int(round(0.5 / 0.01)))
    return [
        f"principal peak q1 = {result.q1:.3f} 1/Å (Lorch window {'on' if result.lorch else 'off'})",
        "   q (1/Å)    S(q)",
        *(f"  {qv:8.2f}  {sv:7.3f}" for qv, sv in zip(result.q[::step], result.total[::step])),
    ]


def _cn(args) -> int:
    result = run_pass(args, ("cn",))["cn"]
    if args.plot:
        plt, fig, ax = _figure()
        _plot_cn(ax, result)
        _save(plt, fig, args.plot)
    return _emit(args, result.to_dict(), _cn_lines(result))


def _plot_cn(ax, result) -> None:
    ax.bar(list(result.cn), list(result.cn.values()))
    ax.set(ylabel="coordination number")


def _cn_lines(result) -> list[str]:
    return [
        f"cutoffs ({result.source}): " + ", ".join(f"{k} {v:.3f} Å" for k, v in result.cutoffs.items()),
        *(f"  {key:>8}  {value:.3f}" for key, value in result.cn.items()),
        *(f"  {key:>8}  {value:.3f} (all neighbours)" for key, value in result.by_species.items()),
        f"  {'mean':>8}  {result.mean:.3f}",
    ]


def _adf(args) -> int:
    result = run_pass(args, ("adf",))["adf"]
    if args.plot:
        plt, fig, ax = _figure()
        _plot_adf(ax, result)
        _save(plt, fig, args.plot)
    return _emit(args, result.to_dict(), _adf_lines(result))


def _plot_adf(ax, result) -> None:
    ax.plot(result.angle, result.total, "k", label="total")
    for key, values in result.by_center.items():
        ax.plot(result.angle, values, lw=1, label=f"centre {key}")
    ax.set(xlabel="bond angle (degrees)", ylabel="ADF (1/degree)")
    ax.legend()


def _adf_lines(result) -> list[str]:
    return [
        f"{result.angles_per_atom:.3f} bond angles per atom",
        f"weight near 60° (50–70°): {result.weight_near_60:.4f}",
        *(f"  centre {key}: {value:.4f}" for key, value in result.weight_near_60_by_center.items()),
        f"most frequent angle: {result.angle[np.argmax(result.total)]:.1f}°",
    ]


def _rings(args) -> int:
    result = run_pass(args, ("rings",))["rings"]
    if args.plot:
        plt, fig, ax = _figure()
        _plot_rings(ax, result)
        _save(plt, fig, args.plot)
    return _emit(args, result.to_dict(), _rings_lines(result))


def _plot_rings(ax, result) -> None:
    ax.bar(list(result.fraction), list(result.fraction.values()))
    ax.set(xlabel="ring size", ylabel="fraction of rings")


def _rings_lines(result) -> list[str]:
    return [
        f"{result.criterion} rings up to {result.max_size}, mean per frame:",
        *(f"  {size:>3}  {count:10.2f}" for size, count in result.ring_size_counts.items()),
    ]


def _altbc(args) -> int:
    result = run_pass(args, ("altbc",))["altbc"]
    if args.plot:
        plt, fig, ax = _figure()
        _plot_altbc(fig, ax, result)
        _save(plt, fig, args.plot)
    return _emit(args, result.to_dict(), _altbc_lines(result))


def _plot_altbc(fig, ax, result) -> None:
    half = 0.5 * (result.r[1] - result.r[0]) if len(result.r) > 1 else 0.01
    edges = (result.r[0] - half, result.r[-1] + half)
    image = ax.imshow(result.histogram, origin="lower", extent=(*edges, *edges), cmap="viridis")
    fig.colorbar(image, ax=ax, label="pairs per atom per Å²")
    ax.set(xlabel="r1 (Å)", ylabel="r2 (Å)", title=f"ALTBC, angle > {result.angle_min_deg:g}°")


def _altbc_lines(result) -> list[str]:
    return [
        f"collinear (> {result.angle_min_deg:g}°) bond pairs per atom: {result.pairs_per_atom:.3f}",
        f"PLD <(r_long - r_short)/(r_long + r_short)> = {result.pld:.4f} ± {result.pld_error:.4f}",
    ]


def _all(args) -> int:
    from phasefire.analysis.trajectory import ANALYSES

    analyses = ANALYSES
    if args.only:
        analyses = tuple(name.strip() for name in args.only.split(",") if name.strip())
    results = run_pass(args, analyses)
    lines = {
        "rdf": _rdf_lines,
        "sq": _sq_lines,
        "cn": _cn_lines,
        "adf": _adf_lines,
        "rings": _rings_lines,
        "altbc": _altbc_lines,
    }
    if args.plot:
        plt, fig, axes = _figure()
        plt.close(fig)
        fig, axes = plt.subplots(2, 3, figsize=(13, 7), dpi=110)
        plotters = {
            "rdf": lambda ax, r: _plot_rdf(ax, r),
            "sq": lambda ax, r: _plot_sq(ax, r),
            "cn": lambda ax, r: _plot_cn(ax, r),
            "adf": lambda ax, r: _plot_adf(ax, r),
            "rings": lambda ax, r: _plot_rings(ax, r),
            "altbc": lambda ax, r: _plot_altbc(fig, ax, r),
        }
        for ax, (name, result) in zip(axes.flat, results.items()):
            plotters[name](ax, result)
        for ax in list(axes.flat)[len(results) :]:
            ax.set_axis_off()
        _save(plt, fig, args.plot)
    text = []
    for name, result in results.items():
        text += [f"[{name}]", *lines[name](result)]
    return _emit(args, {name: result.to_dict() for name, result in results.items()}, text)


# ---------------------------------------------------------------- eos


def _column(header: list[str], stem: str, path: str) -> str:
    for name in header:
        if name.strip().lower().startswith(stem):
            return name
    raise PhasefireError(f"{path} has no {stem} column; expected columns series,pressure_GPa,volume_per_atom_A3")


def _read_eos_points(token: str) -> dict[str, list[tuple[float, float]]]:
    """(pressure GPa, volume Å³/atom) points per series from one FILE argument."""
    match = re.fullmatch(r"([A-Za-z_][\w-]*)=(.+)", token)
    series, path = (match.group(1), match.group(2)) if match and not Path(token).exists() else ("amorphous", token)
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".json") and not Path(path).is_file():
        raise PhasefireError(f"cannot read equation-of-state file {path}: no such file")
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
                pressures, volumes = values["pressure_GPa"], values["volume_per_atom_A3"]
                if len(pressures) != len(volumes):
                    raise PhasefireError(f"series {name} has {len(pressures)} pressures but {len(volumes)} volumes")
                points[name] = [(float(p), float(v)) for p, v in zip(pressures, volumes)]
        else:
            return {series: [_structure_point(path)]}
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError, ValueError, PhasefireError) as exc:
        raise PhasefireError(f"cannot read equation-of-state file {path}: {exc}") from None
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
            raise PhasefireError(f"{path} has no stress; the eos command needs the stress of each frame") from None
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
        except (ValueError, PhasefireError) as exc:
            raise PhasefireError(f"series {name}: {exc}") from None
    result: dict = {
        "fits": {name: fit.to_dict() for name, fit in fits.items()},
        "data": {
            name: {"pressure_GPa": [p for p, _ in pts], "volume_per_atom_A3": [v for _, v in pts]}
            for name, pts in series.items()
        },
    }
    lines = [
        f"{name:>12}: V0 = {fit.v0:.3f} ± {fit.v0_error:.3f} Å³/atom, B0 = {fit.b0:.2f} ± {fit.b0_error:.2f} GPa, "
        f"B0' = {fit.b0_prime:.2f} ± {fit.b0_prime_error:.2f}, rms {fit.rms_residual_GPa:.3f} GPa"
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
