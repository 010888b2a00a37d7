"""Hop rate, diffusion coefficient, Nernst-Einstein mobility and Vineyard prefactor, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from phasefire.analysis.transport import (
    BOLTZMANN_eV_per_K,
    HopKind,
    diffusion_coefficient_cm2_per_s,
    hop_rate_per_s,
    nernst_einstein_mobility_cm2_per_V_s,
    vineyard_attempt_frequency_Hz,
)  # fmt: skip


def test_hop_rate_is_arrhenius_with_default_prefactor():
    kT = BOLTZMANN_eV_per_K * 300
    assert hop_rate_per_s(0.25, 300) == pytest.approx(1e13 * math.exp(-0.25 / kT))
    assert hop_rate_per_s(0.25, 300) == pytest.approx(6.3e8, rel=0.01)  # 0.25 eV at room temperature
    assert hop_rate_per_s(0.0, 300, 2e12) == 2e12


def test_single_hop_network_gives_z_gamma_a2_over_6():
    # cubic halide sublattice: 3 sites, 8 neighbours each, a/sqrt(2) = 4.0 Å, 1e9 hops/s
    kind = HopKind(1e9, 1e9, 4.0, 24)
    assert diffusion_coefficient_cm2_per_s([kind], 3) == pytest.approx(8 * 1e9 * 16e-16 / 6)


def test_inequivalent_ends_weight_both_directions():
    kind = HopKind(3e9, 1e9, 2.0, 8)
    assert diffusion_coefficient_cm2_per_s([kind], 8) == pytest.approx(8 * 2e9 * 4e-16 / 48)


def test_nernst_einstein_mobility():
    # mu = q D / kT: 1e-6 cm²/s at 300 K, singly charged -> 3.868e-5 cm²/V/s; doubly charged twice that
    assert nernst_einstein_mobility_cm2_per_V_s(1e-6, 300) == pytest.approx(1e-6 / 0.025852, rel=1e-4)
    assert nernst_einstein_mobility_cm2_per_V_s(1e-6, 300, -2) == pytest.approx(2e-6 / 0.025852, rel=1e-4)


def test_vineyard_prefactor_is_ratio_of_frequency_products():
    initial = np.array([0.0, 0.001, -0.001, 2.0, 4.0, 6.0])
    saddle = np.array([0.0, 0.002, -0.002, -3.0, 4.0, 3.0])
    assert vineyard_attempt_frequency_Hz(initial, saddle) == pytest.approx(2 * 4 * 6 / (4 * 3) * 1e12)


@pytest.mark.parametrize(
    "initial, saddle, message",
    [([0, 0, 0, -1.0, 2, 3], [0, 0, 0, -1.0, 2, 3], "not a minimum"),
     ([0, 0, 0, 1.0, 2, 3], [0, 0, 0, 1.0, 2, 3], "0 imaginary"),
     ([0, 0, 0, 1.0, 2, 3], [0, 0, 0, -1.0, -2, 3], "2 imaginary")],
)  # fmt: skip
def test_vineyard_rejects_wrong_stationary_points(initial, saddle, message):
    with pytest.raises(ValueError, match=message):
        vineyard_attempt_frequency_Hz(np.array(initial), np.array(saddle))


@pytest.mark.parametrize("barrier, temperature", [(-0.1, 300), (0.2, 0), (float("nan"), 300)])
def test_bad_rate_input_is_rejected(barrier, temperature):
    with pytest.raises(ValueError):
        hop_rate_per_s(barrier, temperature)
