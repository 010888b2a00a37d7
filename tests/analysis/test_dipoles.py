"""Local dipoles: a hand-built displaced cage, the cited alpha-Ag2Se, vortices, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from phasefire.analysis.dipoles import abrahams_polarization_uC_cm2, dipole_analysis, field_comparison, local_dipoles
from phasefire.structures import build


def cage(shift_A):
    """One Se in a regular Ag4 tetrahedron (Ag-Se 2.6 A) in a 10 A box, Se moved by ``shift_A``."""
    corners = np.array([(1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)]) * 2.6 / np.sqrt(3)
    centre = np.array([5.0, 5.0, 5.0])
    return Atoms(["Se"] + ["Ag"] * 4, positions=[centre + shift_A, *(centre + corners)], cell=[10] * 3, pbc=True)


def test_dipole_of_a_displaced_cage_is_the_displacement():
    shift = np.array([0.1, -0.2, 0.3])
    _, dipoles = local_dipoles(cage(shift))
    np.testing.assert_allclose(dipoles[0], shift, atol=1e-12)
    result = dipole_analysis(cage(shift), projection=(1, 0, 0), direction=(0, 0, 1))
    assert result["dipoles"][0]["magnitude_pm"] == pytest.approx(100 * np.linalg.norm(shift))
    assert result["mean_projected_magnitude_pm"] == pytest.approx(100 * np.hypot(0.2, 0.3))
    along = result["families"]["along"]
    assert along["count"] == 1 and along["mean_abs_angle_deg"] == pytest.approx(np.degrees(np.arctan2(0.2, 0.3)))


def test_dipole_uses_minimum_image_across_the_cell_boundary():
    atoms = cage(np.array([0.05, 0.0, 0.0]))
    atoms.positions += 4.0  # cage straddles the boundary after wrapping
    atoms.wrap()
    _, dipoles = local_dipoles(atoms)
    np.testing.assert_allclose(dipoles[0], [0.05, 0.0, 0.0], atol=1e-12)


def test_cited_alpha_ag2se_dipoles_are_antiparallel_and_form_alternating_vortices():
    """Four Se, one magnitude (P2_12_12_1 makes them equivalent): |d| = 79.9 pm, net zero, one
    clockwise and one anticlockwise vortex per [100]-projected cell (paper Fig. 2e)."""
    atoms = build("ag2se-alpha")
    result = dipole_analysis(atoms, projection=(1, 0, 0), direction=(0, 0, 1))
    magnitudes = [d["magnitude_pm"] for d in result["dipoles"]]
    np.testing.assert_allclose(magnitudes, magnitudes[0])
    assert result["mean_magnitude_pm"] == pytest.approx(79.87, abs=0.05)
    np.testing.assert_allclose(result["net_dipole_pm"], 0.0, atol=1e-9)
    assert result["delta_z_pm"] == pytest.approx(0.0, abs=1e-9)
    assert result["families"]["along"]["count"] == result["families"]["against"]["count"] == 2
    vortices = result["vortices"]
    assert (vortices["anticlockwise_vortices"], vortices["clockwise_vortices"]) == (1, 1)
    bigger = dipole_analysis(atoms.repeat((1, 2, 2)), projection=(1, 0, 0))["vortices"]
    assert (bigger["anticlockwise_vortices"], bigger["clockwise_vortices"]) == (4, 4)


def test_abrahams_estimate_of_the_papers_displacement():
    """258 x (-0.14 A) = -36 uC/cm^2: the paper's 'dz = -14 pm -> 3.6 uC/cm^2' is off by 10x."""
    assert abrahams_polarization_uC_cm2(-0.14) == pytest.approx(-36.12)


def test_field_comparison_of_identical_structures_is_zero():
    atoms = build("ag2se-alpha")
    result = field_comparison(atoms, atoms, atoms, (0, 1, 1), projection=(1, 0, 0))
    for sign in ("+E", "-E"):
        for family in ("along", "against"):
            assert result["change"][sign][family]["magnitude_change_pm"] == pytest.approx(0.0)


def test_se_with_too_few_ag_is_rejected():
    atoms = cage(np.zeros(3))
    del atoms[4]
    with pytest.raises(ValueError, match="Se 0 has 3 Ag within 3.5 A, fewer than --neighbors 4"):
        local_dipoles(atoms)


def test_zero_projection_is_rejected():
    with pytest.raises(ValueError, match=r"direction \(0.0, 0.0, 0.0\) is not a non-zero 3-vector"):
        dipole_analysis(cage(np.zeros(3)), projection=(0, 0, 0))
