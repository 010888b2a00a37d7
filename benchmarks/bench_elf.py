"""Time bond-midpoint and along-bond ELF for every bond of a 20,000-atom frame on a 160³ grid.

    python benchmarks/bench_elf.py [--atoms 20000] [--grid 160] [--repeats 3]

Frame: random sequential addition stand-in for a-Sb2Se3 (0.034 atoms/Å³, 2.3 Å hard core,
seed 0), bonds < 3.2 Å. Grid: a smooth random field in [0, 1] (Gaussian-filtered noise),
written as an ELFCAR so that every reader times the same file. Timed in the same run
(medians of --repeats): phasefire's ``bond_elf`` (neighbour list + midpoint + 41 points
along every bond, one vectorised ``map_coordinates(mode="grid-wrap")`` call per channel),
the same values from a per-bond Python loop (one ``map_coordinates`` call per bond), the
raw pymatgen ``Elfcar.from_file`` read of the file (also of the same grid behind a one-atom
header: at 20,000 atoms most of pymatgen's time builds the Structure, not the grid) and
phasefire's ``read_elf`` (pymatgen plus the header/size/range checks). Target: ``bond_elf`` ≤ 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._standins import rsa_frame  # noqa: E402
from phasefire.analysis.elf import ElfGrid, bond_elf, read_elf  # noqa: E402

CUTOFF_A = 3.2
TARGET_S = 2.0


def _median_seconds(function, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def smooth_field(n: int, seed: int = 0) -> np.ndarray:
    """(n, n, n) periodic smooth random field scaled to [0, 1]."""
    from scipy.ndimage import gaussian_filter

    field = gaussian_filter(np.random.default_rng(seed).standard_normal((n, n, n)), sigma=2.0, mode="wrap")
    return (field - field.min()) / np.ptp(field)


def write_elfcar(path: Path, atoms, data: np.ndarray) -> None:
    """An ELFCAR of one block. Benchmark fixture only: pymatgen's ``write_file`` formats value
    by value in Python (tens of seconds at 160³), so the block is written here with numpy,
    10 values per line in VASP's order (first index fastest)."""
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.io.vasp import Poscar

    values = data.ravel(order="F")
    full = values[: values.size // 10 * 10].reshape(-1, 10)
    with open(path, "w") as handle:
        handle.write(Poscar(AseAtomsAdaptor.get_structure(atoms)).get_str(significant_figures=6) + "\n")
        handle.write(" ".join(str(n) for n in data.shape) + "\n")
        np.savetxt(handle, full, fmt="%.5E")
        if values.size % 10:
            np.savetxt(handle, values[full.size :][None, :], fmt="%.5E")


def per_bond_loop(grid: ElfGrid, bonds, samples: int = 41) -> tuple[np.ndarray, np.ndarray]:
    """Midpoint and maximum ELF bond by bond (one interpolation call per bond), same bonds."""
    from scipy.ndimage import map_coordinates

    data = grid.channels["total"]
    shape = np.asarray(data.shape, dtype=float)
    inverse = np.linalg.inv(grid.atoms.cell.array)
    t = np.linspace(bonds.t_min, 1 - bonds.t_min, samples)
    positions = grid.atoms.positions
    midpoint, maximum = np.empty(len(bonds.first)), np.empty(len(bonds.first))
    for index, (a, vector) in enumerate(zip(bonds.first, bonds.vector_A)):
        start = positions[a] @ inverse
        step = vector @ inverse
        points = np.vstack([start + 0.5 * step, start + t[:, None] * step])
        values = map_coordinates(data, (points * shape).T, order=1, mode="grid-wrap")
        midpoint[index], maximum[index] = values[0], values[1:].max()
    return midpoint, maximum


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=20_000)
    parser.add_argument("--grid", type=int, default=160)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    atoms = rsa_frame(args.atoms, seed=0)
    data = smooth_field(args.grid)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ELFCAR"
        write_elfcar(path, atoms, data)
        from pymatgen.io.vasp.outputs import Elfcar

        grid_only = Path(folder) / "ELFCAR.one_atom"  # the same grid behind a one-atom header
        write_elfcar(grid_only, atoms[:1], data)
        read_elf(path)  # warm-up: imports
        pymatgen_s, _ = _median_seconds(lambda: Elfcar.from_file(path), args.repeats)
        pymatgen_grid_s, _ = _median_seconds(lambda: Elfcar.from_file(grid_only), args.repeats)
        read_s, grid = _median_seconds(lambda: read_elf(path), args.repeats)
        size_mb = path.stat().st_size / 1e6
    bond_elf(grid, CUTOFF_A)  # warm-up
    vector_s, bonds = _median_seconds(lambda: bond_elf(grid, CUTOFF_A), args.repeats)
    loop_s, (midpoint, maximum) = _median_seconds(lambda: per_bond_loop(grid, bonds), 1)
    same = np.allclose(midpoint, bonds.midpoint["total"], atol=1e-12) and np.allclose(
        maximum, bonds.maximum["total"], atol=1e-12
    )
    n_bonds = len(bonds.first)
    print(f"frame: {len(atoms)} atoms, {n_bonds} bonds < {CUTOFF_A} Å; grid {args.grid}³ ({size_mb:.0f} MB ELFCAR)")
    print(f"  phasefire bond_elf (vectorised)      {vector_s:8.3f} s  (target ≤ {TARGET_S:g} s)")
    print(f"  per-bond Python loop                 {loop_s:8.3f} s  ratio {loop_s / vector_s:6.1f}x")
    print(f"  pymatgen Elfcar.from_file            {pymatgen_s:8.3f} s  ratio {pymatgen_s / vector_s:6.2f}x")
    print(f"  pymatgen, same grid, one-atom header {pymatgen_grid_s:8.3f} s  ratio {pymatgen_grid_s / vector_s:6.2f}x")
    print(f"  phasefire read_elf (pymatgen+checks) {read_s:8.3f} s")
    print(f"  loop and vectorised values agree: {same}")
    print("(2 shared CPU cores; medians of", args.repeats, "runs; the loop runs once)")
    if not same:
        raise SystemExit("per-bond loop and vectorised values differ")


if __name__ == "__main__":
    main()
