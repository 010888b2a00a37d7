"""Barriers, profile and endpoint checks of a NEB path (analysis.neb)."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from phasefire.analysis.neb import barrier_profile, endpoint_problem, path_coordinate_A


def test_barriers_from_a_known_profile():
    profile = barrier_profile(np.array([-10.0, -9.8, -9.5, -9.7, -9.9]), np.array([0, 1, 2, 3, 4.0]))
    assert profile.barrier_forward_eV == pytest.approx(0.5)
    assert profile.barrier_backward_eV == pytest.approx(0.4)
    assert profile.reaction_energy_eV == pytest.approx(0.1)
    assert profile.saddle_index == 2
    assert profile.energies_eV.tolist() == pytest.approx([0, 0.2, 0.5, 0.3, 0.1])


def test_path_coordinate_uses_the_minimum_image():
    cell = np.diag([10.0, 10.0, 10.0])
    images = [Atoms("H2", positions=[[0, 0, 0], [x, 0, 0]], cell=cell, pbc=True) for x in (9.5, 0.5, 1.5)]
    assert path_coordinate_A(images).tolist() == pytest.approx([0.0, 1.0, 2.0])


def test_too_few_images_is_rejected():
    with pytest.raises(ValueError, match="at least 3 images"):
        barrier_profile(np.array([0.0, 1.0]))


def test_endpoints_relaxed_into_each_other_are_reported():
    cell = np.diag([10.0, 10.0, 10.0])
    initial = Atoms("H2", positions=[[0, 0, 0], [3, 0, 0]], cell=cell, pbc=True)
    final = Atoms("H2", positions=[[0, 0, 0], [2.6, 0, 0]], cell=cell, pbc=True)  # mover went back
    assert "relaxed into each other" in endpoint_problem(initial, final, mover=1, hop_length_A=3.0)


def test_endpoint_that_moved_to_another_site_is_reported():
    cell = np.diag([10.0, 10.0, 10.0])
    start = Atoms("H3", positions=[[0, 0, 0], [3, 0, 0], [6, 0, 0]], cell=cell, pbc=True)
    relaxed = start.copy()
    relaxed.positions[2] = [4.5, 0, 0]  # a neighbour fell towards the vacancy
    final = start.copy()
    final.positions[1] = [0, 3, 0]
    message = endpoint_problem(relaxed, final, mover=1, hop_length_A=4.24, start=start)
    assert "initial endpoint relaxed into another configuration: atom 2 (H) moved 1.50 A" in message
    assert endpoint_problem(start, final, mover=1, hop_length_A=4.24, start=start) is None


def test_other_species_may_relax_far_around_the_defect():
    cell = np.diag([10.0, 10.0, 10.0])
    start = Atoms("H2O", positions=[[0, 0, 0], [3, 0, 0], [6, 0, 0]], cell=cell, pbc=True)
    relaxed = start.copy()
    relaxed.positions[2] = [4.0, 0, 0]  # the O moves 2 A, the H sublattice stays
    final = start.copy()
    final.positions[1] = [0, 3, 0]
    assert endpoint_problem(relaxed, final, mover=1, hop_length_A=4.24, start=start) is None
