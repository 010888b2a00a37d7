"""g(r): known lattices, ASE's get_rdf, frame averaging, r1 uncertainty, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.geometry.rdf import get_rdf

from benchmarks._standins import rsa_frame
from phasefire.analysis.frames import as_frames
from phasefire.analysis.rdf import first_minimum, first_peak, radial_distribution
from phasefire.workflows.errors import PhasefireError


@pytest.mark.parametrize(
    "name, structure, a, nearest, second",
    [
        ("Cu", "fcc", 3.6, 3.6 / np.sqrt(2), 3.6),
        ("Fe", "bcc", 2.87, 2.87 * np.sqrt(3) / 2, 2.87),
        ("Si", "diamond", 5.43, 5.43 * np.sqrt(3) / 4, 5.43 / np.sqrt(2)),
    ],
)
def test_first_peak_and_minimum_of_crystals(name, structure, a, nearest, second):
    crystal = bulk(name, structure, a=a, cubic=True) * (6, 6, 6)
    rdf = radial_distribution(crystal, r_max=7.0, bins=350)
    bin_width = rdf.bin_width
    assert abs(rdf.first_peak.r1 - nearest) <= bin_width
    assert rdf.first_peak.r1_error == pytest.approx(bin_width / np.sqrt(12))
    # the empty gap between the first two shells: its middle
    assert rdf.first_minimum[f"{name}-{name}"] == pytest.approx(0.5 * (nearest + second), abs=bin_width)


def test_matches_ase_get_rdf_total_and_partials():
    atoms = rsa_frame(400, seed=3)
    rdf = radial_distribution(atoms, r_max=6.0, bins=60)
    g, r = get_rdf(atoms, 6.0, 60)
    np.testing.assert_allclose(rdf.r, r)
    np.testing.assert_allclose(rdf.total, g, atol=1e-10)
    a, b = rdf.species
    for first, second in [(a, a), (a, b), (b, b)]:
        g_ab = get_rdf(atoms, 6.0, 60, elements=[first, second], no_dists=True)
        np.testing.assert_allclose(rdf.partial[f"{first}-{second}"], g_ab, atol=1e-10)


def test_total_is_concentration_weighted_sum_and_tends_to_one():
    atoms = rsa_frame(3000, seed=1)
    rdf = radial_distribution(atoms, r_max=10.0, bins=200)
    c = rdf.concentrations
    a, b = rdf.species
    weighted = (
        c[a] ** 2 * rdf.partial[f"{a}-{a}"]
        + 2 * c[a] * c[b] * rdf.partial[f"{a}-{b}"]
        + c[b] ** 2 * rdf.partial[f"{b}-{b}"]
    )
    np.testing.assert_allclose(weighted, rdf.total, rtol=1e-3, atol=2e-3)  # like pairs: N_a² vs N_a(N_a-1)
    assert np.mean(rdf.total[rdf.r > 8.0]) == pytest.approx(1.0, abs=0.01)
    assert np.all(rdf.total[rdf.r < 2.3] == 0.0)  # hard core
    assert rdf.number_density == pytest.approx(0.034, rel=1e-9)


def test_frames_are_averaged_and_r1_error_reflects_their_spread():
    base = bulk("Cu", "fcc", a=3.6, cubic=True) * (6, 6, 6)
    frames = []
    for seed in range(4):
        frame = base.copy()
        frame.rattle(0.08, seed=seed)
        frames.append(frame)
    rdf = radial_distribution(frames, r_max=7.0, bins=350)
    singles = [radial_distribution(f, r_max=7.0, bins=350) for f in frames]
    np.testing.assert_allclose(rdf.total, np.mean([s.total for s in singles], axis=0))
    r1s = [s.first_peak.r1 for s in singles]
    assert rdf.first_peak.r1_error >= np.std(r1s, ddof=1) / 2 - 1e-12
    assert rdf.first_peak.r1 == pytest.approx(3.6 / np.sqrt(2), abs=0.01)
    assert 0 < rdf.first_peak.r1_error < 0.01


def test_gaussian_peak_fit_recovers_centre():
    r = np.arange(0.01, 6.0, 0.02)
    g = 3.0 * np.exp(-((r - 2.873) ** 2) / (2 * 0.12**2)) + 1.0 * (r > 3.5)
    peak = first_peak(r, g)
    assert peak.r1 == pytest.approx(2.873, abs=1e-3)
    assert peak.method == "fit covariance"
    assert first_minimum(r, np.zeros_like(r)) != first_minimum(r, np.zeros_like(r))  # NaN


def test_bad_input():
    atoms = rsa_frame(300, seed=0)
    open_cell = atoms.copy()
    open_cell.pbc = False
    with pytest.raises(PhasefireError, match="not periodic"):
        radial_distribution(open_cell, r_max=3.0)
    flat = atoms.copy()
    flat.cell[2] = 0.0
    with pytest.raises(PhasefireError, match="zero-volume"):
        radial_distribution(flat, r_max=3.0)
    with pytest.raises(PhasefireError, match="half the shortest cell height"):
        radial_distribution(atoms, r_max=20.0)
    with pytest.raises(PhasefireError, match="no atom pairs"):
        radial_distribution(atoms, r_max=1.0, bins=10)
    with pytest.raises(PhasefireError, match="frame 1 has 299 atoms"):
        radial_distribution([atoms, atoms[:-1]], r_max=3.0)
    swapped = atoms.copy()
    swapped.symbols[0] = "Se" if swapped.symbols[0] == "Sb" else "Sb"
    with pytest.raises(PhasefireError, match="frame 1 has different species"):
        as_frames([atoms, swapped])
    with pytest.raises(PhasefireError, match="no frames"):
        as_frames([])
    with pytest.raises(PhasefireError, match="no atoms"):
        as_frames(Atoms(cell=[5, 5, 5], pbc=True))
