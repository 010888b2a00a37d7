"""Transformation strain: a known lattice pair, the cited Ag2Se phases, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from phasefire.analysis.strain import biot_strain, transformation_strain
from phasefire.structures import build


def test_biot_strain_of_a_rotated_stretch():
    """F = R diag(1.05, 1, 0.98): U - I = diag(0.05, 0, -0.02) whatever the rotation."""
    cell = np.diag([4.0, 5.0, 6.0])
    angle = np.radians(30)
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    stretched = (rotation @ np.diag([1.05, 1.0, 0.98]) @ cell.T).T
    np.testing.assert_allclose(biot_strain(cell, stretched), np.diag([0.05, 0.0, -0.02]), atol=1e-12)


def test_tetragonal_to_cubic_pair_is_found_by_search():
    """Se on a body-centred tetragonal cell (a = 4, c = 4.4) -> bcc (a = 4.1): c shrinks by 4.1/4.4 - 1."""
    alpha = Atoms("Se2Ag4", scaled_positions=[(0, 0, 0), (0.5, 0.5, 0.5)] + [(0.25, 0.5, 0), (0.75, 0.5, 0),
                  (0.25, 0, 0.5), (0.75, 0, 0.5)], cell=[4.0, 4.0, 4.4], pbc=True)  # fmt: skip
    beta = alpha.copy()
    beta.set_cell([4.1, 4.1, 4.1], scale_atoms=True)
    result = transformation_strain(alpha, beta, parallel=None)
    assert result["minimal"]["strain_along_axis"] == pytest.approx(4.1 / 4.4 - 1, abs=1e-9)
    assert sorted(result["minimal"]["principal_strains"]) == pytest.approx([4.1 / 4.4 - 1, 0.025, 0.025])


def test_cited_alpha_to_bcc_beta_strain_is_the_papers():
    """[100]alpha || [111]beta comes out of the search; alpha [001] stretches by 5.85 % (paper ~5.7 %)."""
    result = transformation_strain(build("ag2se-alpha"), build("ag2se-beta"))
    minimal, related = result["minimal"], result["orientation_relation"]
    assert related is not None and related["strain_norm"] == pytest.approx(minimal["strain_norm"])
    assert minimal["strain_along_axis"] == pytest.approx(0.0585, abs=5e-4)
    assert minimal["volume_change"] == pytest.approx(4.98**3 * 2 / (4.3357 * 7.07 * 7.774) - 1, abs=1e-9)
    a_direction = np.abs(minimal["beta_directions_cubic"][0])
    np.testing.assert_allclose(a_direction, a_direction[0])  # a <111> direction


def test_different_compositions_are_rejected():
    with pytest.raises(ValueError, match="alpha is Ag2Se but beta is AgSe"):
        transformation_strain(build("ag2se-alpha"), Atoms("AgSe", scaled_positions=[(0, 0, 0), (0.5, 0.5, 0.5)],
                                                         cell=[3, 3, 3], pbc=True))  # fmt: skip
