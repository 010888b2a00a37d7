"""Birch–Murnaghan fits and the density crossover."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from phasefire.analysis.eos import birch_murnaghan_pressure, density_crossover, fit_birch_murnaghan
from phasefire.workflows.errors import PhasefireError


def test_recovers_known_parameters():
    volume = np.linspace(20.0, 32.0, 12)
    fit = fit_birch_murnaghan(birch_murnaghan_pressure(volume, 33.0, 30.0, 5.5), volume)
    assert (fit.v0, fit.b0, fit.b0_prime) == pytest.approx((33.0, 30.0, 5.5), rel=1e-8)
    noisy = birch_murnaghan_pressure(volume, 33.0, 30.0, 5.5) + np.random.default_rng(0).normal(0, 0.05, 12)
    fit = fit_birch_murnaghan(noisy, volume)
    assert fit.b0 == pytest.approx(30.0, abs=3 * fit.b0_error + 1e-9)
    assert fit.b0_prime == pytest.approx(5.5, abs=3 * fit.b0_prime_error + 1e-9)
    assert fit.volume(10.0) == pytest.approx(
        brentq(lambda v: birch_murnaghan_pressure(v, *[fit.v0, fit.b0, fit.b0_prime]) - 10, 15, 33)
    )


def test_crossover_of_two_known_curves():
    v_am, v_cr = np.linspace(22, 38, 10), np.linspace(22, 33, 10)
    amorphous = fit_birch_murnaghan(birch_murnaghan_pressure(v_am, 39.0, 12.0, 6.0), v_am)
    crystal = fit_birch_murnaghan(birch_murnaghan_pressure(v_cr, 33.5, 35.0, 4.5), v_cr)
    pressure = density_crossover(amorphous, crystal)
    # independent root: both analytic curves at one volume give the same pressure
    v_star = brentq(
        lambda v: birch_murnaghan_pressure(v, 39.0, 12.0, 6.0) - birch_murnaghan_pressure(v, 33.5, 35.0, 4.5), 22, 33
    )
    assert pressure == pytest.approx(birch_murnaghan_pressure(v_star, 39.0, 12.0, 6.0), rel=1e-6)
    assert amorphous.volume(pressure - 1) > crystal.volume(pressure - 1)
    assert amorphous.volume(pressure + 1) < crystal.volume(pressure + 1)


def test_errors():
    v = np.linspace(22, 33, 8)
    crystal = fit_birch_murnaghan(birch_murnaghan_pressure(v, 33.5, 35.0, 4.5), v)
    stiffer = fit_birch_murnaghan(birch_murnaghan_pressure(v, 36.0, 40.0, 4.5), v)
    with pytest.raises(PhasefireError, match="do not cross .* crystal is denser throughout"):
        density_crossover(stiffer, crystal)
    with pytest.raises(PhasefireError, match="at least 4 distinct volumes"):
        fit_birch_murnaghan([1.0, 2.0, 3.0], [30.0, 29.0, 28.0])
    with pytest.raises(PhasefireError, match="do not overlap"):
        density_crossover(stiffer, crystal, pressure_range_GPa=(5.0, 5.0))


def test_volume_inverts_pressure_on_the_falling_branch_even_for_unusual_b0_prime():
    from phasefire.analysis.eos import BirchMurnaghanFit

    for b0_prime in (2.0, 4.0, 9.0):
        fit = BirchMurnaghanFit(30.0, 20.0, b0_prime, 0, 0, 0, 0, (0.0, 60.0))
        for volume in (18.0, 24.0, 29.5, 30.0):
            assert fit.volume(float(fit.pressure(volume))) == pytest.approx(volume, abs=1e-8)
