"""Electron localization function (ELF) on a periodic grid: bonds, planes, histograms, fractions.

The ELF (Becke and Edgecombe, J. Chem. Phys. 92, 5397 (1990)) lies in [0, 1]: near 1 where
electrons are paired and localized (covalent bonds, lone pairs), 0.5 for a homogeneous
electron gas, small between ionic shells. The Sb2Se3 paper (Fig. 5c-d) reads bonding from
it: localized at low density (amorphous, 0 GPa), delocalized at high density (~35 GPa).

Grid convention (VASP's ELFCAR, GPAW's uniform grid and cube files alike): value
``channel[i, j, k]`` belongs to the point ``origin + (i/n1) a1 + (j/n2) a2 + (k/n3) a3``
(origin 0 for ELFCAR and GPAW). Values between grid points are trilinear (``order=1``,
keeps ELF in [0, 1]) periodic interpolations by ``scipy.ndimage.map_coordinates`` with
``mode="grid-wrap"``, vectorised over all requested points.

Channels: an ELFCAR of a spin-polarised run holds two blocks, the ELF of the spin-up and
of the spin-down electrons (``spin_up``, ``spin_down``; pymatgen's ``Elfcar`` keys), not
total/difference as in a CHGCAR; a non-spin-polarised ELFCAR, GPAW's ELF and a cube file
hold one grid (``total``).

Reading uses pymatgen's ``VolumetricData.parse_file``/``Elfcar`` (ELFCAR, plain or gzipped,
and the same format written by ``phasefire.workflows.engines.gpaw``), ASE's cube reader, and
GPAW itself for a .gpw restart file saved with its wave functions (``mode="all"``).
Bad input raises ``PhasefireError`` with one line naming the problem and the fix.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from scipy.ndimage import map_coordinates

from phasefire.analysis.frames import pair_label, species_codes, species_order
from phasefire.analysis.neighbors import check_periodic_cell, neighbor_list
from phasefire.workflows.errors import PhasefireError

#: ELF above this marks localized (paired) electrons
LOCALIZED_MIN = 0.7
#: ELF in this range is electron-gas-like (0.5 = homogeneous electron gas)
ELECTRON_GAS_RANGE = (0.4, 0.6)
#: tolerance on the [0, 1] range (VASP prints 5 significant digits)
RANGE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class ElfGrid:
    """ELF channels (``spin_up``/``spin_down`` or ``total``) on one periodic grid of ``atoms``' cell.

    channels: name -> array (n1, n2, n3); origin_A: Cartesian position (Å) of grid point (0, 0, 0);
    source_format: "ELFCAR" (VASP or phasefire's GPAW output), "cube" or "gpw".
    """

    atoms: Atoms
    channels: dict[str, np.ndarray]
    origin_A: np.ndarray = field(default_factory=lambda: np.zeros(3))
    source_format: str = "ELFCAR"

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(next(iter(self.channels.values())).shape)

    def fractional(self, points_A: np.ndarray) -> np.ndarray:
        """Cartesian points (..., 3) in Å -> fractional coordinates relative to the grid origin."""
        return (np.asarray(points_A) - self.origin_A) @ np.linalg.inv(self.atoms.cell.array)

    def sample(self, name: str, fractional: np.ndarray, order: int = 1) -> np.ndarray:
        """Channel ``name`` at fractional points (..., 3): periodic interpolation, shape (...)."""
        data = self.channels[name]
        shape = np.asarray(data.shape, dtype=float)
        coordinates = (np.asarray(fractional).reshape(-1, 3) * shape).T
        values = map_coordinates(data, coordinates, order=order, mode="grid-wrap")
        return values.reshape(np.shape(fractional)[:-1])


# ---------------------------------------------------------------- reading


def read_elf(path: str | Path) -> ElfGrid:
    """ELF grid and structure from an ELFCAR (plain or .gz; also phasefire's GPAW ELFCAR), a
    cube file (.cube, .cube.gz) or a GPAW .gpw saved with wave functions. Raises PhasefireError for unreadable, truncated, inconsistent
    or non-ELF files (a CHGCAR, a LOCPOT)."""
    path = Path(path)
    if not path.is_file():
        raise PhasefireError(f"no such file: {path}; give an ELFCAR, a phasefire GPAW ELFCAR or a cube file")
    name = path.name.lower()
    if name.endswith(".gpw"):
        grid = _read_gpw(path)
    elif name.endswith((".cube", ".cube.gz", ".cub")):
        grid = _read_cube(path)
    else:
        grid = _read_vasp(path)
    _check_elf_range(path, grid)
    return grid


def _gzip_problem(path: Path, exc: Exception) -> PhasefireError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return PhasefireError(f"{path} is a truncated or corrupt gzip file ({reason}); copy or compress it again")


def _read_vasp(path: Path) -> ElfGrid:
    from pymatgen.io.vasp.outputs import Elfcar, VolumetricData

    try:
        poscar, data, data_aug = VolumetricData.parse_file(path)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _gzip_problem(path, exc) from None
    except UnicodeDecodeError:
        raise PhasefireError(f"{path} is not a text ELFCAR (binary content); give an ELFCAR or a cube file") from None
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if match := re.fullmatch(r"Expected (\d+) values, got (\d+)", reason):
            raise PhasefireError(
                f"{path} is truncated: its grid header announces {match[1]} values but only {match[2]} follow; "
                "copy the ELFCAR again from the run folder"
            ) from None
        raise PhasefireError(f"cannot read {path} as an ELFCAR ({reason}); give a VASP ELFCAR or a cube file") from None
    if any(data_aug.values()):
        raise PhasefireError(
            f"{path} looks like a CHGCAR, not an ELFCAR: it has PAW augmentation occupancies and values up to "
            f"{max(float(v.max()) for v in data.values()):.4g} (ρ·V, ≫ 1); give the ELFCAR (LELF = .TRUE.)"
        )
    _check_grid_sizes(path)
    elfcar = Elfcar(poscar, data)
    keys = ("spin_up", "spin_down") if "spin_up" in list(elfcar.data.keys()) else ("total",)  # pymatgen names
    channels = {key: np.asarray(elfcar.data[key], dtype=float) for key in keys}
    structure = elfcar.structure  # to Atoms directly: AseAtomsAdaptor takes ~0.9 s at 20,000 atoms
    atoms = Atoms(
        numbers=structure.atomic_numbers,
        cell=structure.lattice.matrix,
        scaled_positions=structure.frac_coords,
        pbc=True,
    )
    return ElfGrid(atoms=atoms, channels=channels, source_format="ELFCAR")


#: a grid-size line of a VASP volumetric file: three integers, nothing else (a leading newline
#: as literal prefix lets the regex engine skip from line to line: 0.09 s instead of 0.66 s at 160³)
_GRID_HEADER = re.compile(rb"\n[ \t]*(\d+)[ \t]+(\d+)[ \t]+(\d+)[ \t]*(?=\r?\n|\Z)")


def _check_grid_sizes(path: Path) -> None:
    """Each grid block holds exactly the n1·n2·n3 values its header announces.

    pymatgen's parser reads n1·n2·n3 numbers after each header without checking where the
    block ends: a header larger than its block silently swallows the next header, a smaller
    one silently drops the rest. No library checks this, so it is counted here by hand
    (lines × values per line, without converting the numbers).
    """
    from monty.io import zopen

    try:
        with zopen(path, mode="rb") as handle:
            text = handle.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _gzip_problem(path, exc) from None
    blank = re.search(rb"\n[ \t]*\r?\n", text)  # the structure header ends at the first blank line
    headers = list(_GRID_HEADER.finditer(text, blank.end() - 1 if blank else 0))
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        augmentation = text.find(b"augmentation", header.end(), end)
        start, stop = header.end(), end if augmentation < 0 else augmentation
        while start < stop and text[start] in b" \t\r\n":  # positions, not copies of a 50 MB block
            start += 1
        while stop > start and text[stop - 1] in b" \t\r\n":
            stop -= 1
        found = 0
        if stop > start:  # every line but the last holds as many values as the first
            n_lines = text.count(b"\n", start, stop) + 1
            first_end = text.find(b"\n", start, stop)
            first = text[start : stop if first_end < 0 else first_end]
            last = text[text.rfind(b"\n", start, stop) + 1 : stop]
            found = len(first.split()) * (n_lines - 1) + len(last.split()) if n_lines > 1 else len(first.split())
        expected = int(header[1]) * int(header[2]) * int(header[3])
        if found != expected:
            size = "×".join(header.group(i).decode() for i in (1, 2, 3))
            raise PhasefireError(
                f"{path}: grid block {index + 1} has {found} values but its header says {size} = {expected}; "
                "the grid size disagrees with its header: copy or write the file again"
            )


def _read_cube(path: Path) -> ElfGrid:
    from ase.io.cube import read_cube

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt") as handle:
            content = read_cube(handle)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _gzip_problem(path, exc) from None
    except ValueError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "reshape" in reason:
            raise PhasefireError(
                f"{path}: the number of grid values disagrees with the grid size in its header ({reason}); "
                "copy or write the cube file again"
            ) from None
        raise PhasefireError(f"cannot read cube file {path} ({reason}); give a Gaussian-format cube file") from None
    except (IndexError, KeyError, UnicodeDecodeError) as exc:
        raise PhasefireError(f"cannot read cube file {path} ({type(exc).__name__}: {exc})") from None
    atoms = content["atoms"]
    atoms.pbc = True
    return ElfGrid(
        atoms=atoms,
        channels={"total": np.ascontiguousarray(content["data"], dtype=float)},
        origin_A=np.asarray(content["origin"], dtype=float),
        source_format="cube",
    )


def _read_gpw(path: Path) -> ElfGrid:
    """The ELF of a GPAW restart file written with its wave functions (``calc.write(path, mode="all")``)."""
    from phasefire.workflows.engines.gpaw import elf_grid, require_gpaw

    require_gpaw()
    from gpaw import GPAW

    try:
        calculator = GPAW(str(path), txt=None)
    except Exception as exc:  # GPAW raises many types for unreadable files
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PhasefireError(f"cannot read GPAW file {path} ({reason}); give a .gpw written by GPAW") from None
    try:
        values = elf_grid(calculator)
    except AttributeError:  # the wave functions were not stored
        raise PhasefireError(
            f"{path} holds no wave functions, which the ELF needs; write it with calc.write(path, mode='all') "
            "or give the ELFCAR that the gpaw engine writes"
        ) from None
    return ElfGrid(atoms=calculator.get_atoms(), channels={"total": values}, source_format="gpw")


def _check_elf_range(path: Path, grid: ElfGrid) -> None:
    """ELF lies in [0, 1]; say what a grid outside it looks like instead."""
    shapes = {name: data.shape for name, data in grid.channels.items()}
    if len(set(shapes.values())) > 1:
        raise PhasefireError(f"{path}: its grids differ in size {shapes}; the grid size disagrees with its header")
    for name, data in grid.channels.items():
        if not np.all(np.isfinite(data)):
            raise PhasefireError(f"{path}: the {name} grid holds NaN or infinite values; not an ELF grid")
        low, high, mean = float(data.min()), float(data.max()), float(data.mean())
        if high > 1 + RANGE_TOLERANCE:
            raise PhasefireError(
                f"{path} looks like a CHGCAR/AECCAR (values up to {high:.4g} ≫ 1, mean {mean:.4g}: ρ·V), "
                "not ELF in [0, 1]; give the ELFCAR (LELF = .TRUE.)"
            )
        if low < -RANGE_TOLERANCE:
            raise PhasefireError(
                f"{path} has negative values (down to {low:.4g}): it looks like a LOCPOT or a magnetisation "
                "density, not ELF in [0, 1]; give the ELFCAR"
            )


# ---------------------------------------------------------------- grid statistics


def channel_means(grid: ElfGrid) -> dict[str, float]:
    """Mean ELF over the cell of each channel (every grid point is the same volume)."""
    return {name: float(data.mean()) for name, data in grid.channels.items()}


def volume_fractions(grid: ElfGrid) -> dict[str, dict[str, float]]:
    """Fractions of the cell volume with ELF > 0.7 ("localized") and 0.4 <= ELF <= 0.6
    ("electron_gas"), per channel."""
    low, high = ELECTRON_GAS_RANGE
    return {
        "localized": {name: float(np.mean(data > LOCALIZED_MIN)) for name, data in grid.channels.items()},
        "electron_gas": {name: float(np.mean((data >= low) & (data <= high))) for name, data in grid.channels.items()},
    }


def histogram(grid: ElfGrid, bins: int = 20) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Bin edges over [0, 1] and, per channel, the volume fraction in each bin."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    return edges, {
        name: np.histogram(np.clip(data, 0.0, 1.0), bins=edges)[0] / data.size for name, data in grid.channels.items()
    }


# ---------------------------------------------------------------- bonds


@dataclass(frozen=True)
class BondElf:
    """ELF along every bond (each bond once), oriented from the atom of the first species in
    its pair label (species in alphabetical order: "Sb-Se" from Sb, "Br-Pb" from Br).

    first, second: atom indices; vector_A: from ``first`` to the bonded image of ``second``
    (Å); pair: pair label per bond; length_A: bond lengths;
    midpoint: channel -> ELF at the bond midpoint; maximum: channel -> largest ELF sampled
    along the bond between t_min and 1 - t_min of its length; maximum_position: channel ->
    where it lies (fraction of the length from ``first``).
    """

    first: np.ndarray
    second: np.ndarray
    vector_A: np.ndarray
    pair: np.ndarray
    length_A: np.ndarray
    midpoint: dict[str, np.ndarray]
    maximum: dict[str, np.ndarray]
    maximum_position: dict[str, np.ndarray]
    cutoff_A: float
    t_min: float

    def pair_statistics(self, bins: int = 20) -> dict[str, dict]:
        """Per species pair: bond count, lengths and the distributions (mean, std, min, max,
        histogram over [0, 1]) of midpoint and maximum ELF per channel, and the mean position
        of the maximum (fraction of the bond from the first species; for like pairs from the
        nearer atom, so at most 0.5)."""
        edges = np.linspace(0.0, 1.0, bins + 1)

        def summary(values: np.ndarray) -> dict:
            return {
                "mean": float(values.mean()),
                "std": float(values.std()),
                "min": float(values.min()),
                "max": float(values.max()),
                "histogram": np.histogram(np.clip(values, 0, 1), bins=edges)[0].tolist(),
            }

        result = {}
        for label in sorted(set(self.pair.tolist())):
            mask = self.pair == label
            a, b = label.split("-")
            result[label] = {
                "n_bonds": int(mask.sum()),
                "length_A": {
                    "mean": float(self.length_A[mask].mean()),
                    "min": float(self.length_A[mask].min()),
                    "max": float(self.length_A[mask].max()),
                },
                "midpoint": {name: summary(values[mask]) for name, values in self.midpoint.items()},
                "max_along_bond": {name: summary(values[mask]) for name, values in self.maximum.items()},
                "max_position": {
                    name: float(np.mean(np.minimum(t[mask], 1 - t[mask]) if a == b else t[mask]))
                    for name, t in self.maximum_position.items()
                },
            }
        return result


def bond_elf(grid: ElfGrid, cutoff_A: float = 3.2, samples: int = 41, t_min: float = 0.1) -> BondElf:
    """ELF at the midpoint and its maximum along every bond shorter than ``cutoff_A`` (Å).

    The maximum is taken over ``samples`` evenly spaced points from ``t_min`` to ``1 - t_min``
    of the bond length (the atoms' core regions, where a valence/pseudo ELF means little,
    are left out); all bonds and points are interpolated in one vectorised call per channel.
    """
    atoms = grid.atoms
    check_periodic_cell(atoms)
    if not np.isfinite(cutoff_A) or cutoff_A <= 0:
        raise PhasefireError(f"bond cutoff must be a positive distance in Å, got {cutoff_A}")
    if not 0 <= t_min < 0.5 or samples < 2:
        raise PhasefireError(f"need 0 <= t_min < 0.5 and at least 2 samples, got t_min={t_min}, samples={samples}")
    species = tuple(sorted(species_order(atoms)))
    codes = species_codes(atoms, species)
    pairs = neighbor_list(atoms, cutoff_A, check=False)  # vesin handles cells smaller than 2 × cutoff
    i, j, vector = pairs.i, pairs.j, pairs.vector
    # each bond once: the full list holds (i, j, D) and (j, i, -D); keep the one leaving the
    # lower species code (ties: lower index; self-images: the first non-zero component > 0)
    ci, cj = codes[i], codes[j]
    first_nonzero = vector[np.arange(len(vector)), np.argmax(np.abs(vector) > 1e-9, axis=1)] if len(vector) else []
    keep = (ci < cj) | ((ci == cj) & ((i < j) | ((i == j) & (np.asarray(first_nonzero) > 0))))
    i, j, vector = i[keep], j[keep], vector[keep]
    length = np.linalg.norm(vector, axis=1)
    table = np.array([[pair_label(a, b) for b in species] for a in species], dtype=object)
    labels = table[codes[i], codes[j]]
    start = grid.fractional(atoms.positions[i])  # (bonds, 3)
    step = vector @ np.linalg.inv(atoms.cell.array)  # bond vectors in fractional coordinates
    t = np.linspace(t_min, 1 - t_min, samples)
    along = start[:, None, :] + t[None, :, None] * step[:, None, :]  # (bonds, samples, 3)
    middle = start + 0.5 * step
    midpoint, maximum, position = {}, {}, {}
    for name in grid.channels:
        midpoint[name] = grid.sample(name, middle)
        values = grid.sample(name, along) if len(i) else np.zeros((0, samples))
        best = np.argmax(values, axis=1) if len(i) else np.zeros(0, dtype=int)
        maximum[name] = values[np.arange(len(i)), best] if len(i) else np.zeros(0)
        position[name] = t[best]
    return BondElf(
        first=i,
        second=j,
        vector_A=vector,
        pair=labels,
        length_A=length,
        midpoint=midpoint,
        maximum=maximum,
        maximum_position=position,
        cutoff_A=float(cutoff_A),
        t_min=float(t_min),
    )


# ---------------------------------------------------------------- plane


@dataclass(frozen=True)
class ElfPlane:
    """ELF on the plane through atoms ``atom_indices`` (i, j, k): in-plane axes u along i -> j
    and v perpendicular to it towards k, origin at atom i; u_A, v_A: sample coordinates (Å);
    values: channel -> (len(v_A), len(u_A)); labels: (text, u_A, v_A) of atoms within
    ``label_distance_A`` of the plane inside the window (chosen atoms first)."""

    atom_indices: tuple[int, int, int]
    u_A: np.ndarray
    v_A: np.ndarray
    values: dict[str, np.ndarray]
    labels: list[tuple[str, float, float]]


def elf_plane(
    grid: ElfGrid,
    atom_indices: tuple[int, int, int],
    spacing_A: float = 0.05,
    margin_A: float = 2.0,
    label_distance_A: float = 0.5,
) -> ElfPlane:
    """ELF on the plane through three atoms (0-based indices; nearest periodic images of j and
    k seen from i), sampled every ``spacing_A`` Å over the three atoms' extent plus ``margin_A``."""
    atoms = grid.atoms
    n_atoms = len(atoms)
    indices = tuple(int(index) for index in atom_indices)
    if len(indices) != 3:
        raise PhasefireError(f"a plane needs three atom indices I,J,K, got {len(indices)}")
    bad = [index for index in indices if not 0 <= index < n_atoms]
    if bad:
        raise PhasefireError(
            f"atom index {bad[0]} is out of range: the structure has {n_atoms} atoms (indices 0 to {n_atoms - 1})"
        )
    if len(set(indices)) < 3:
        raise PhasefireError(f"plane atoms {indices} repeat an atom; give three different atoms")
    from ase.geometry import find_mic

    i, j, k = indices
    (d_ij, d_ik), _ = find_mic(atoms.positions[[j, k]] - atoms.positions[i], atoms.cell, pbc=True)
    normal = np.cross(d_ij, d_ik)
    sine = np.linalg.norm(normal) / (np.linalg.norm(d_ij) * np.linalg.norm(d_ik))
    if sine < np.sin(np.radians(1.0)):
        raise PhasefireError(
            f"atoms {i}, {j}, {k} are collinear (angle {np.degrees(np.arcsin(min(sine, 1.0))):.2f}° from a line): "
            "they span no plane; choose three atoms not on one line"
        )
    e_u = d_ij / np.linalg.norm(d_ij)
    e_n = normal / np.linalg.norm(normal)
    e_v = np.cross(e_n, e_u)
    corners = np.array([[0.0, 0.0], [d_ij @ e_u, d_ij @ e_v], [d_ik @ e_u, d_ik @ e_v]])
    low, high = corners.min(axis=0) - margin_A, corners.max(axis=0) + margin_A
    u = np.arange(low[0], high[0] + 1e-9, spacing_A)
    v = np.arange(low[1], high[1] + 1e-9, spacing_A)
    points = atoms.positions[i] + u[None, :, None] * e_u + v[:, None, None] * e_v  # (nv, nu, 3)
    fractional = grid.fractional(points)
    values = {name: grid.sample(name, fractional) for name in grid.channels}
    return ElfPlane(indices, u, v, values, _plane_labels(atoms, indices, e_u, e_v, e_n, low, high, label_distance_A))


def _plane_labels(atoms, indices, e_u, e_v, e_n, low, high, distance_A) -> list[tuple[str, float, float]]:
    """Atoms (and their images one cell away) near the plane and inside its window."""
    symbols = atoms.get_chemical_symbols()
    shifts = np.array(np.meshgrid(*[(-1, 0, 1)] * 3, indexing="ij")).reshape(3, -1).T @ atoms.cell.array
    relative = atoms.positions[None, :, :] + shifts[:, None, :] - atoms.positions[indices[0]]  # (27, N, 3)
    u, v, w = relative @ e_u, relative @ e_v, relative @ e_n
    inside = (np.abs(w) < distance_A) & (u >= low[0]) & (u <= high[0]) & (v >= low[1]) & (v <= high[1])
    chosen = [(f"{symbols[a]}{a}", *_in_plane(atoms, indices[0], a, e_u, e_v)) for a in indices]
    seen = {(text, round(pu, 2), round(pv, 2)) for text, pu, pv in chosen}
    labels = list(chosen)
    for shift, atom in zip(*np.nonzero(inside)):
        entry = (f"{symbols[atom]}{atom}", float(u[shift, atom]), float(v[shift, atom]))
        if (entry[0], round(entry[1], 2), round(entry[2], 2)) not in seen:
            seen.add((entry[0], round(entry[1], 2), round(entry[2], 2)))
            labels.append(entry)
    return labels


def _in_plane(atoms, origin, atom, e_u, e_v) -> tuple[float, float]:
    from ase.geometry import find_mic

    (vector,), _ = find_mic(atoms.positions[[atom]] - atoms.positions[origin], atoms.cell, pbc=True)
    return float(vector @ e_u), float(vector @ e_v)
