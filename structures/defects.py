"""Point-defect hops for NEB: symmetry-distinct nearest-neighbour vacancy hops and their endpoints.

A vacancy hop exchanges a vacancy on site A with an atom of the same species on a
nearest-neighbour site B: the initial image has A empty and the mover on B, the final image has
the mover on A (B empty). Hops are grouped into orbits with the crystal's space-group operations
(pymatgen SpacegroupAnalyzer); supercells are diagonal repeats whose periodic images of the
defect are at least ``min_image_distance_A`` apart. Pure: nothing here reads or writes files.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

#: default smallest distance between a defect and its periodic images, Å
MIN_IMAGE_DISTANCE_A = 9.0
#: the nearest-neighbour shell: same-species distances up to (1 + tolerance) x the shortest one
SHELL_TOLERANCE = 0.1
DEFECTS = ("vacancy",)


@dataclass(frozen=True)
class Hop:
    """One symmetry-distinct hop between same-species sites of the unit cell.

    species: the mobile element; start_site / end_site: indices in the unit cell (the vacancy
    starts on start_site, the mover comes from end_site); end_shift: lattice translation of the
    end site (unit-cell vectors); vector_A: Cartesian start -> end vector (Å); length_A: |vector|;
    start_label / end_label: symmetry-distinct site labels (e.g. 'Ag1', 'Ag2');
    directed_per_cell: directed hops of this orbit starting in one unit cell (sums to the
    coordination number x the number of species sites over all orbits).
    """

    species: str
    start_site: int
    end_site: int
    end_shift: tuple[int, int, int]
    vector_A: tuple[float, float, float]
    length_A: float
    start_label: str
    end_label: str
    directed_per_cell: int

    @property
    def label(self) -> str:
        return f"{self.start_label}-{self.end_label} {self.length_A:.3f} A"


def site_labels(atoms: Atoms, symprec: float = 1e-3) -> list[str]:
    """A label per site naming its symmetry orbit: element + running number ('Ag1', 'Ag2', 'Se1')."""
    structure = AseAtomsAdaptor.get_structure(atoms)
    equivalent = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetry_dataset().equivalent_atoms
    labels, counters, orbit_label = [], {}, {}
    for index, orbit in enumerate(equivalent):
        if orbit not in orbit_label:
            element = atoms[index].symbol
            counters[element] = counters.get(element, 0) + 1
            orbit_label[orbit] = f"{element}{counters[element]}"
        labels.append(orbit_label[orbit])
    return labels


def _neighbour_hops(
    atoms: Atoms, species: str, shell_tolerance: float
) -> list[tuple[int, int, tuple[int, int, int], float]]:
    """All directed same-species hops (start, end, shift, length) from sites in the unit cell
    within the nearest-neighbour shell."""
    structure = AseAtomsAdaptor.get_structure(atoms)
    sites = [i for i, atom in enumerate(atoms) if atom.symbol == species]
    if not sites:
        raise ValueError(f"no {species} in {atoms.get_chemical_formula()}; choose one of its elements")
    neighbours = structure.get_neighbor_list(r=12.0, sites=[structure[i] for i in sites])
    centre, point, shift, distance = neighbours
    candidates = [
        (sites[c], int(p), tuple(int(round(x)) for x in s), float(d))
        for c, p, s, d in zip(centre, point, shift, distance)
        if atoms[int(p)].symbol == species and d > 1e-6
    ]
    if not candidates:
        raise ValueError(f"no {species}-{species} neighbour within 12 A; the hop would be meaningless")
    shortest = min(d for *_, d in candidates)
    return [c for c in candidates if c[3] <= shortest * (1.0 + shell_tolerance)]


def distinct_hops(
    atoms: Atoms, species: str, shell_tolerance: float = SHELL_TOLERANCE, symprec: float = 1e-3
) -> list[Hop]:
    """Symmetry-distinct nearest-neighbour hops of ``species``, shortest first.

    Two directed hops are equivalent when a space-group operation maps one onto the other or
    onto its reverse (the same path walked backwards), up to a lattice translation.
    """
    structure = AseAtomsAdaptor.get_structure(atoms)
    operations = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetry_operations(cartesian=False)
    fractional = structure.frac_coords
    labels = site_labels(atoms, symprec)
    orbits: list[tuple[np.ndarray, np.ndarray, list]] = []  # (start, end) of the representative, members
    tolerance = 10 * symprec
    for start, end, shift, length in _neighbour_hops(atoms, species, shell_tolerance):
        a, b = fractional[start], fractional[end] + shift
        for rep_a, rep_b, members in orbits:
            if any(_same_pair(op.operate(a), op.operate(b), rep_a, rep_b, tolerance) for op in operations):
                members.append((start, end, shift, length))
                break
        else:
            orbits.append((a, b, [(start, end, shift, length)]))
    hops = []
    for _, _, members in orbits:
        start, end, shift, length = members[0]
        vector = atoms.cell.cartesian_positions(fractional[end] + shift - fractional[start])
        hops.append(Hop(
            species=species, start_site=start, end_site=end, end_shift=shift,
            vector_A=tuple(float(x) for x in vector), length_A=length,
            start_label=labels[start], end_label=labels[end], directed_per_cell=len(members),
        ))  # fmt: skip
    return sorted(hops, key=lambda hop: (round(hop.length_A, 4), hop.start_label, hop.end_label))


def _same_pair(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, tolerance: float) -> bool:
    """Whether segment (a, b) equals (c, d) or (d, c) up to one common lattice translation."""
    for first, second in ((c, d), (d, c)):
        translation = np.round(a - first)
        if np.abs(a - first - translation).max() < tolerance and np.abs(b - second - translation).max() < tolerance:
            return True
    return False


def minimum_image_distance_A(atoms: Atoms) -> float:
    """Shortest non-zero lattice vector of the cell (Å): the distance between a defect and its
    nearest periodic image."""
    cell = atoms.cell.array
    return float(min(
        np.linalg.norm(np.dot(n, cell))
        for n in itertools.product(range(-2, 3), repeat=3) if any(n)
    ))  # fmt: skip


def supercell_repeats(atoms: Atoms, min_image_distance_A: float = MIN_IMAGE_DISTANCE_A) -> tuple[int, int, int]:
    """Smallest diagonal repeats whose cell is at least ``min_image_distance_A`` (Å) wide along
    every axis (perpendicular widths), so every periodic image is at least that far."""
    if not math.isfinite(min_image_distance_A) or min_image_distance_A <= 0:
        raise ValueError(f"min_image_distance_A must be positive, got {min_image_distance_A}")
    cell = atoms.cell.array
    volume = abs(np.linalg.det(cell))
    widths = [volume / np.linalg.norm(np.cross(cell[(i + 1) % 3], cell[(i + 2) % 3])) for i in range(3)]
    return tuple(max(1, math.ceil(min_image_distance_A / w - 1e-9)) for w in widths)  # type: ignore[return-value]


def check_supercell(supercell: Atoms, hop: Hop, min_image_distance_A: float = MIN_IMAGE_DISTANCE_A) -> None:
    """Raise ValueError when periodic images of the defect are closer than ``min_image_distance_A``
    or the hop spans half the cell (it would meet its own image)."""
    distance = minimum_image_distance_A(supercell)
    if distance < min_image_distance_A - 1e-6:
        raise ValueError(
            f"supercell too small: defect images are {distance:.2f} A apart (< {min_image_distance_A:g} A); "
            "use larger repeats or lower min_image_distance_A"
        )
    if hop.length_A >= distance / 2:
        raise ValueError(
            f"hop {hop.label} is longer than half the image distance {distance:.2f} A; enlarge the supercell"
        )


def vacancy_hop_endpoints(
    atoms: Atoms, hop: Hop, repeats: tuple[int, int, int], min_image_distance_A: float = MIN_IMAGE_DISTANCE_A
) -> tuple[Atoms, Atoms]:
    """Initial and final images of a vacancy hop in the ``repeats`` supercell of ``atoms``.

    Both have the same atoms in the same order; only the mover differs: on the end site in the
    initial image, on the start site (the vacancy's first position) in the final one. Positions
    are unwrapped, so linear or IDPP interpolation needs no minimum-image convention.
    """
    supercell = atoms.repeat(repeats)
    check_supercell(supercell, hop, min_image_distance_A)
    start = atoms.positions[hop.start_site]
    mover = _index_at(supercell, start + np.asarray(hop.vector_A))
    vacancy = _index_at(supercell, start)
    initial = supercell.copy()
    initial.positions[mover] = start + np.asarray(hop.vector_A)
    del initial[vacancy]
    final = initial.copy()
    final.positions[mover - (mover > vacancy)] = start
    for image in (initial, final):
        image.info = {"hop": hop.label, "mover": int(mover - (mover > vacancy))}
    return initial, final


def _index_at(supercell: Atoms, position: np.ndarray) -> int:
    """Index of the atom sitting at ``position`` (Å), periodic images included."""
    delta = supercell.get_scaled_positions() - np.linalg.solve(supercell.cell.array.T, position)
    delta -= np.round(delta)
    distances = np.linalg.norm(delta @ supercell.cell.array, axis=1)
    index = int(np.argmin(distances))
    if distances[index] > 1e-3:
        raise ValueError(f"no atom at {position} in the supercell (nearest {distances[index]:.3g} A away)")
    return index
