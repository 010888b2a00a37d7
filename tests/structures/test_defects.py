"""Vacancy-hop enumeration and NEB endpoints (structures.defects)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from phasefire.structures import build
from phasefire.structures.defects import (
    distinct_hops,
    minimum_image_distance_A,
    supercell_repeats,
    vacancy_hop_endpoints,
)  # fmt: skip


def hop_fingerprint(atoms, start, end, shift, decimals=2):
    """Symmetry-invariant signature of a hop: its length and the sorted distances from its midpoint
    to every atom within 6 Å (labelled by element), in the unit cell's periodic crystal."""
    cell = atoms.cell.array
    a = atoms.positions[start]
    b = atoms.positions[end] + np.dot(shift, cell)
    middle = (a + b) / 2
    shifts = np.array([[i, j, k] for i in range(-3, 4) for j in range(-3, 4) for k in range(-3, 4)]) @ cell
    positions = (atoms.positions[:, None, :] + shifts[None]).reshape(-1, 3)
    symbols = np.repeat(atoms.get_chemical_symbols(), len(shifts))
    distance = np.linalg.norm(positions - middle, axis=1)
    near = distance < 6.0
    return (round(float(np.linalg.norm(b - a)), decimals),
            tuple(sorted(zip(symbols[near], np.round(distance[near], decimals)))))  # fmt: skip


def brute_force_count(atoms, species, tolerance=0.1):
    """Distinct hops by fingerprint over every same-species pair in the first shell (no symmetry)."""
    sites = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == species]
    pairs = []
    for i in sites:
        for j in sites:
            for shift in np.ndindex(5, 5, 5):
                shift = np.array(shift) - 2
                d = np.linalg.norm(atoms.positions[j] + shift @ atoms.cell.array - atoms.positions[i])
                if d > 1e-6:
                    pairs.append((d, i, j, shift))
    shortest = min(p[0] for p in pairs)
    shell = [p for p in pairs if p[0] <= shortest * (1 + tolerance)]
    return len({hop_fingerprint(atoms, i, j, s) for _, i, j, s in shell}), len(shell)


@pytest.mark.parametrize("name, halide", [("cspbbr3-cubic", "Br"), ("cspbcl3-cubic", "Cl")])
def test_cubic_halide_vacancy_has_one_hop_of_a_over_root2(name, halide):
    atoms = build(name)
    (hop,) = distinct_hops(atoms, halide)
    a = atoms.cell.lengths()[0]
    assert hop.length_A == pytest.approx(a / math.sqrt(2), abs=1e-6)
    assert hop.directed_per_cell == 3 * 8  # 3 halide sites, 8 halide neighbours each


@pytest.mark.parametrize(
    "name, species", [("ag2se-alpha", "Ag"), ("ag2se-alpha", "Se"), ("cspbbr3-ortho", "Br"), ("cspbcl3-ortho", "Cl")]
)
def test_distinct_hops_match_a_brute_force_enumeration(name, species):
    atoms = build(name)
    hops = distinct_hops(atoms, species)
    distinct, directed = brute_force_count(atoms, species)
    assert len(hops) == distinct
    assert sum(h.directed_per_cell for h in hops) == directed
    assert {"ag2se-alpha": {"Ag": 5, "Se": 3}}.get(name, {}).get(species, len(hops)) == len(hops)


@pytest.mark.parametrize("name", ["cspbbr3-cubic", "cspbcl3-ortho", "ag2se-alpha"])
def test_supercell_keeps_defect_images_9_A_apart(name):
    atoms = build(name)
    repeats = supercell_repeats(atoms)
    assert minimum_image_distance_A(atoms.repeat(repeats)) >= 9.0
    smaller = [max(1, n - 1) if k == int(np.argmax(repeats)) else n for k, n in enumerate(repeats)]
    if tuple(smaller) != repeats:
        assert minimum_image_distance_A(atoms.repeat(smaller)) < 9.0  # the smallest such supercell


def test_endpoints_differ_only_by_the_mover_over_one_hop():
    atoms = build("ag2se-alpha")
    hop = distinct_hops(atoms, "Se")[0]
    initial, final = vacancy_hop_endpoints(atoms, hop, supercell_repeats(atoms))
    assert len(initial) == len(final) == 12 * 12 - 1
    moved = np.linalg.norm(final.positions - initial.positions, axis=1)
    assert np.flatnonzero(moved > 1e-9).tolist() == [initial.info["mover"]]
    assert moved.max() == pytest.approx(hop.length_A)
    assert initial.get_chemical_formula() == "Ag96Se47"


def test_too_small_supercell_is_one_clear_error():
    atoms = build("cspbbr3-cubic")
    hop = distinct_hops(atoms, "Br")[0]
    with pytest.raises(ValueError, match="supercell too small: defect images are 5.87 A apart"):
        vacancy_hop_endpoints(atoms, hop, (1, 1, 1))


def test_species_not_in_structure_is_rejected():
    with pytest.raises(ValueError, match="no I in"):
        distinct_hops(build("cspbbr3-cubic"), "I")
