"""X-ray S(q): form factors, ideal gas, a crystal's first peak, bad species."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.data import atomic_numbers
from ase.utils.xrdebye import waasmaier

from benchmarks._standins import rsa_frame
from phasefire.analysis.rdf import radial_distribution
from phasefire.analysis.structure_factor import FORM_FACTOR_COEFFICIENTS, form_factor, xray_structure_factor
from phasefire.workflows.errors import PhasefireError


def test_form_factors_start_at_z_and_match_ase_table():
    for symbol in ("Sb", "Se", "Ag", "Cs", "Pb", "Br", "Cl", "I", "Si", "O"):
        assert symbol in FORM_FACTOR_COEFFICIENTS
        assert form_factor(symbol, np.array([0.0]))[0] == pytest.approx(atomic_numbers[symbol], abs=0.02)
    q = np.linspace(0.0, 15.0, 31)
    for symbol in ("Cl", "Ag"):
        a = np.array(waasmaier[symbol])
        s2 = (q / (4 * np.pi)) ** 2
        expected = a[10] + sum(a[2 * k] * np.exp(-a[2 * k + 1] * s2) for k in range(5))
        np.testing.assert_allclose(form_factor(symbol, q), expected, atol=1e-5)
    assert np.all(np.diff(form_factor("Sb", q)) < 0)  # decreasing with q


def test_ideal_gas_gives_one():
    rng = np.random.default_rng(0)
    box = 40.0
    atoms = Atoms(["Sb"] * 800 + ["Se"] * 1200, positions=rng.random((2000, 3)) * box, cell=[box] * 3, pbc=True)
    frames = []
    for seed in range(3):
        frame = atoms.copy()
        frame.positions = np.random.default_rng(seed).random((2000, 3)) * box
        frames.append(frame)
    sq = xray_structure_factor(radial_distribution(frames, r_max=12.0, bins=240))
    assert np.max(np.abs(sq.total[sq.q > 1.0] - 1.0)) < 0.05


def test_bcc_first_peak_at_two_pi_over_d110():
    a = 3.0
    crystal = bulk("Sb", "bcc", a=a, cubic=True) * (10, 10, 10)
    frames = []
    for seed in range(2):
        frame = crystal.copy()
        frame.rattle(0.05, seed=seed)
        frames.append(frame)
    sq = xray_structure_factor(radial_distribution(frames, r_max=14.5, bins=725))
    assert sq.q1 == pytest.approx(2 * np.pi / (a / np.sqrt(2)), rel=0.01)
    assert sq.total.max() > 5.0


def test_faber_ziman_weights_reduce_to_partials():
    atoms = rsa_frame(2000, seed=2)
    rdf = radial_distribution(atoms, r_max=10.0, bins=200)
    sq = xray_structure_factor(rdf)
    a, b = rdf.species
    fa, fb = form_factor(a, sq.q), form_factor(b, sq.q)
    ca, cb = rdf.concentrations[a], rdf.concentrations[b]
    mean_f = ca * fa + cb * fb
    expected = (
        1
        + (
            ca**2 * fa**2 * (sq.partial[f"{a}-{a}"] - 1)
            + 2 * ca * cb * fa * fb * (sq.partial[f"{a}-{b}"] - 1)
            + cb**2 * fb**2 * (sq.partial[f"{b}-{b}"] - 1)
        )
        / mean_f**2
    )
    np.testing.assert_allclose(sq.total, expected, atol=1e-12)
    # the RSA stand-in's packing gives its principal peak near 2π/(hard-core spacing)
    assert 2.3 < sq.q1 < 3.0


def test_unknown_species_is_named():
    crystal = bulk("Fe", "bcc", a=2.87, cubic=True) * (4, 4, 4)
    with pytest.raises(PhasefireError, match="'Fe'"):
        xray_structure_factor(radial_distribution(crystal, r_max=5.0, bins=50))
