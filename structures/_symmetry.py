"""Build crystals from space-group symmetry and Wyckoff coordinates (pymatgen)."""

from __future__ import annotations

from ase import Atoms
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor


def from_wyckoff(
    space_group: str | int,
    lattice: Lattice,
    sites: list[tuple[str, tuple[float, float, float]]],
) -> Atoms:
    """Expand asymmetric-unit sites [(element, (x, y, z)), ...] with the space group's operators."""
    species = [element for element, _ in sites]
    coords = [xyz for _, xyz in sites]
    structure = Structure.from_spacegroup(space_group, lattice, species, coords, tol=1e-3)
    return AseAtomsAdaptor.get_atoms(structure.get_sorted_structure())
