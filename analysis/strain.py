"""Transformation strain between two phases of one compound from their anion sublattices.

The lattice correspondence maps the alpha cell vectors onto beta lattice vectors (integer
combinations of the beta Se sublattice's primitive vectors found by pymatgen's
``Lattice.find_all_mappings``); the deformation gradient F (F a_i = v_i) gives the Biot strain
U - I (F = R U, scipy's polar decomposition). Luo et al., Nat. Commun. (2025),
doi:10.1038/s41467-025-57057-5, Fig. 4e: [100]alpha || [111]beta, ~5.7 % along alpha [001].
Pure: Atoms in, numbers out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms


def _reduced(atoms: Atoms) -> str:
    from pymatgen.core import Composition

    return Composition(atoms.get_chemical_formula()).reduced_formula


def sublattice_primitive(atoms: Atoms, species: str, symprec_A: float = 0.5):
    """pymatgen primitive Lattice of the ``species`` sublattice (symmetry found within ``symprec_A``)."""
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    mine = atoms[[a.symbol == species for a in atoms]]
    if not len(mine):
        raise ValueError(f"no {species} in {atoms.get_chemical_formula()}; the strain uses the {species} sublattice")
    structure = AseAtomsAdaptor.get_structure(mine)
    primitive = SpacegroupAnalyzer(structure, symprec=symprec_A).find_primitive() or structure
    return primitive.lattice, len(primitive)


def biot_strain(alpha_cell: np.ndarray, beta_vectors: np.ndarray) -> np.ndarray:
    """Biot strain U - I (alpha's frame) of F with F a_i = v_i (rows: a_i of alpha, v_i of beta, Å)."""
    from scipy.linalg import polar

    deformation = beta_vectors.T @ np.linalg.inv(alpha_cell.T)
    _, right = polar(deformation, side="right")  # F = R U
    return right - np.eye(3)


def transformation_strain(
    alpha: Atoms,
    beta: Atoms,
    species: str = "Se",
    axis: int = 2,
    parallel: tuple[tuple[int, int, int], tuple[int, int, int]] | None = ((1, 0, 0), (1, 1, 1)),
    length_tolerance: float = 0.25,
    angle_tolerance_deg: float = 20.0,
) -> dict[str, Any]:
    """Alpha -> beta strain from the ``species`` sublattices: the minimal-strain correspondence
    (smallest Frobenius norm of the Biot strain) and the minimal-strain one obeying ``parallel``
    (alpha [uvw] || beta <hkl> of beta's cubic cell as given, any sign/permutation), each with the
    strain along alpha's cell vector ``axis`` (Biot e_axis,axis) and the length change of that vector.

    ValueError when the compositions differ or no correspondence is found within the tolerances.
    """
    if _reduced(alpha) != _reduced(beta):
        raise ValueError(
            f"alpha is {_reduced(alpha)} but beta is {_reduced(beta)}; the transformation strain needs one composition"
        )
    from pymatgen.core import Lattice

    count_alpha = sum(a.symbol == species for a in alpha)
    beta_lattice, count_beta = sublattice_primitive(beta, species)
    alpha_cell = alpha.cell.array
    alpha_lattice = Lattice(alpha_cell)
    wanted = round(count_alpha / count_beta)
    candidates = []
    seen = set()
    for _, _, scale in beta_lattice.find_all_mappings(alpha_lattice, length_tolerance, angle_tolerance_deg):
        scale = np.asarray(np.round(scale), dtype=int)
        if abs(round(np.linalg.det(scale))) != wanted or tuple(scale.ravel()) in seen:
            continue
        seen.add(tuple(scale.ravel()))
        vectors = scale @ beta_lattice.matrix
        if np.linalg.det(vectors) * np.linalg.det(alpha_cell) < 0:
            continue
        strain = biot_strain(alpha_cell, vectors)
        candidates.append((float(np.linalg.norm(strain)), vectors, strain))
    if not candidates:
        raise ValueError(
            f"no lattice correspondence within {length_tolerance:.0%} / {angle_tolerance_deg:g} deg; "
            "check that both are phases of one compound or widen the tolerances"
        )
    candidates.sort(key=lambda c: c[0])
    cubic = _conventional_cubic(beta, species)

    def describe(candidate) -> dict[str, Any]:
        norm, vectors, strain = candidate
        lengths = np.linalg.norm(vectors, axis=1)
        return {
            "strain_along_axis": float(strain[axis, axis]),
            "length_change_along_axis": float(lengths[axis] / np.linalg.norm(alpha_cell[axis]) - 1.0),
            "principal_strains": sorted(np.linalg.eigvalsh(strain).tolist()),
            "volume_change": float(abs(np.linalg.det(vectors) / np.linalg.det(alpha_cell)) - 1.0),
            "strain_norm": norm,
            "beta_vectors_A": vectors.tolist(),
            "beta_directions_cubic": None if cubic is None else [_direction(v, cubic) for v in vectors],
        }

    result = {"axis": axis, "alpha_cell_A": alpha_cell.tolist(), "minimal": describe(candidates[0])}
    result["orientation_relation"] = None
    if parallel is not None and cubic is not None:
        uvw, hkl = parallel
        target = np.asarray(uvw, dtype=float) @ alpha_cell
        for candidate in candidates:
            vector = candidate[1].T @ np.linalg.solve(alpha_cell.T, target)
            direction = np.linalg.solve(cubic.T, vector)
            if _same_family(direction, hkl):
                result["orientation_relation"] = {"parallel": [list(uvw), list(hkl)], **describe(candidate)}
                break
    return result


def _conventional_cubic(beta: Atoms, species: str) -> np.ndarray | None:
    """The conventional cubic cell (rows, Å) of the ``species`` sublattice, or None when not cubic."""
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    structure = AseAtomsAdaptor.get_structure(beta[[a.symbol == species for a in beta]])
    analyzer = SpacegroupAnalyzer(structure, symprec=0.5)
    if analyzer.get_crystal_system() != "cubic":
        return None
    conventional = analyzer.get_conventional_standard_structure().lattice.matrix
    # the conventional cell in beta's own orientation: rotate with the refined->input transformation
    dataset = analyzer.get_symmetry_dataset()
    rotation = np.asarray(dataset.std_rotation_matrix)
    return conventional @ rotation


def _direction(vector: np.ndarray, cubic: np.ndarray) -> list[float]:
    """``vector`` (Å) in units of the cubic cell: [uvw] with the smallest entry magnitude 1 when possible."""
    return [round(float(x), 3) for x in np.linalg.solve(cubic.T, vector)]


def _same_family(direction: np.ndarray, hkl) -> bool:
    """Whether ``direction`` is parallel to some signed permutation of <hkl>."""
    d = np.sort(np.abs(direction))
    h = np.sort(np.abs(np.asarray(hkl, dtype=float)))
    if np.linalg.norm(d) < 1e-9:
        return False
    return bool(np.allclose(d / np.linalg.norm(d), h / np.linalg.norm(h), atol=2e-2))


def projected_neighbour_distance_A(atoms: Atoms, species: str, zone: np.ndarray, along: np.ndarray) -> float:
    """Shortest distance (Å) between ``species`` columns seen down unit vector ``zone``, measured
    along unit vector ``along`` (the paper's projected Se-Se spacing, 3.97 -> 4.15 Å, Fig. 4b)."""
    from ase.neighborlist import neighbor_list

    mine = atoms[[a.symbol == species for a in atoms]]
    _, _, vectors = neighbor_list("ijD", mine, 8.0)
    in_plane = vectors - np.outer(vectors @ zone, zone)
    separated = np.linalg.norm(in_plane, axis=1) > 0.5
    components = np.abs(in_plane[separated] @ along)
    return float(components[components > 0.5].min())
