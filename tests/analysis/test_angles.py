"""Bond-angle distribution: lattices, matscipy, a brute-force loop, bad input."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from ase.build import bulk
from matscipy.angle_distribution import angle_distribution
from matscipy.neighbours import neighbour_list as matscipy_neighbour_list

from benchmarks._standins import rsa_frame
from phasefire.analysis.angles import bond_angle_distribution
from phasefire.workflows.errors import PhasefireError


def test_fcc_angles_per_atom():
    result = bond_angle_distribution(bulk("Cu", "fcc", a=3.6, cubic=True) * (4, 4, 4), cutoff=3.0, bins=360)
    angles = result.angle[result.counts > 0]
    per_atom = result.counts[result.counts > 0] / 256
    # 12 neighbours: 66 angles per atom, 24 at 60°, 12 at 90°, 24 at 120°, 6 at 180°
    assert result.angles_per_atom == pytest.approx(66.0)
    np.testing.assert_allclose(angles, [59.75, 60.25, 89.75, 90.25, 119.75, 120.25, 179.75])
    expected = {60: 24, 90: 12, 120: 24, 180: 6}
    for centre, count in expected.items():
        assert per_atom[np.abs(angles - centre) < 1].sum() == pytest.approx(count)
    assert result.weight_near_60 == pytest.approx(24 / 66)
    assert np.sum(result.total) * (180 / 360) == pytest.approx(1.0)


def test_diamond_tetrahedral_angle():
    result = bond_angle_distribution(bulk("Si", "diamond", a=5.43, cubic=True) * (3, 3, 3), cutoff=2.6)
    assert result.angles_per_atom == pytest.approx(6.0)
    assert result.angle[np.argmax(result.counts)] == pytest.approx(109.5)  # 109.47° in the 109–110° bin
    assert result.weight_near_60 == 0.0


def test_matches_matscipy_which_counts_each_angle_twice():
    atoms = rsa_frame(3000, seed=5)
    result = bond_angle_distribution(atoms, cutoff=3.2, bins=180)
    i, j, dr = matscipy_neighbour_list("ijD", atoms, 3.2)
    np.testing.assert_array_equal(angle_distribution(i, j, dr, 180), 2 * result.counts)


def test_per_centre_and_per_pair_cutoffs_match_brute_force_loop():
    atoms = rsa_frame(200, seed=6)
    cutoffs = {"Sb-Sb": 3.4, "Sb-Se": 3.1, "Se-Se": 2.9}
    result = bond_angle_distribution(atoms, cutoff=cutoffs, bins=36)
    symbols = atoms.get_chemical_symbols()
    vectors = atoms.get_all_distances(mic=True, vector=True)
    expected = {"Sb": np.zeros(36), "Se": np.zeros(36)}
    for centre in range(len(atoms)):
        bonded = [
            k
            for k in range(len(atoms))
            if k != centre
            and np.linalg.norm(vectors[centre, k])
            < cutoffs.get(f"{symbols[centre]}-{symbols[k]}", cutoffs.get(f"{symbols[k]}-{symbols[centre]}"))
        ]
        for a, b in combinations(bonded, 2):
            u, v = vectors[centre, a], vectors[centre, b]
            angle = np.degrees(np.arccos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v), -1, 1)))
            expected[symbols[centre]][min(int(angle / 5), 35)] += 1
    total = expected["Sb"] + expected["Se"]
    np.testing.assert_array_equal(result.counts, total)
    for species in ("Sb", "Se"):
        np.testing.assert_allclose(result.by_center[species], expected[species] / (expected[species].sum() * 5))


def test_bad_input():
    atoms = rsa_frame(300, seed=0)
    with pytest.raises(PhasefireError, match="no bond angles"):
        bond_angle_distribution(atoms, cutoff=2.2)
    with pytest.raises(PhasefireError, match="half the shortest cell height"):
        bond_angle_distribution(atoms, cutoff=30.0)
    with pytest.raises(PhasefireError, match="positive"):
        bond_angle_distribution(atoms, cutoff={"Sb-Sb": 3.0, "Sb-Se": -1.0, "Se-Se": 3.0})
