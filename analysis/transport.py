"""Ionic transport from NEB barriers: hop rate, diffusion coefficient, Nernst-Einstein mobility,
and the Vineyard attempt frequency from harmonic frequencies.

    hop rate           Gamma = nu exp(-Ea / kB T)                       (1/s)
    diffusion          D = (1 / 6 N) sum_k n_k Gamma_k a_k^2             (cm^2/s)
    mobility           mu = |q| D / (kB T)                               (cm^2 V^-1 s^-1)
    Vineyard prefactor nu* = prod_{i=1}^{3N-3} nu_i(initial) / prod_{j=1}^{3N-4} nu_j(saddle)

D is an uncorrelated random walk over the hop network: N mobile sites per cell, n_k directed
hops of kind k starting in the cell, each of length a_k. For one hop kind on equivalent sites
(z = n/N neighbours) it is the familiar D = z Gamma a^2 / 6 (isotropic 3D lattice); for hops
between inequivalent sites it weights both directions equally (an estimate: site occupations
are not solved for). Correlation factors are not included (D is the defect's diffusivity).
G. H. Vineyard, J. Phys. Chem. Solids 3, 121 (1957): Gamma-point frequencies of the supercell,
three translations removed from both sets and the one imaginary mode from the saddle's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BOLTZMANN_eV_per_K = 8.617333262e-5
DEFAULT_ATTEMPT_FREQUENCY_HZ = 1e13
ANGSTROM2_TO_CM2 = 1e-16
THZ = 1e12


def _positive(name: str, value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return float(value)


def hop_rate_per_s(
    barrier_eV: float, temperature_K: float, attempt_frequency_Hz: float = DEFAULT_ATTEMPT_FREQUENCY_HZ
) -> float:
    """Transition-state-theory hop rate nu exp(-Ea/kB T) (1/s); Ea in eV, T in K, nu in Hz."""
    if not (math.isfinite(barrier_eV) and barrier_eV >= 0):
        raise ValueError(f"barrier must be a finite energy >= 0 eV, got {barrier_eV}")
    kT = BOLTZMANN_eV_per_K * _positive("temperature_K", temperature_K)
    return _positive("attempt_frequency_Hz", attempt_frequency_Hz) * math.exp(-barrier_eV / kT)


@dataclass(frozen=True)
class HopKind:
    """One kind of hop in the network: rates in both directions (1/s), length (Å), directed hops
    of this kind starting in one unit cell."""

    rate_forward_per_s: float
    rate_backward_per_s: float
    length_A: float
    directed_per_cell: int


def diffusion_coefficient_cm2_per_s(hops: list[HopKind], sites_per_cell: int) -> float:
    """D = (1 / 6 N) sum_k n_k (Gamma_f,k + Gamma_b,k)/2 a_k^2 in cm^2/s (module docstring)."""
    if not hops:
        raise ValueError("no hops: the diffusion coefficient needs at least one hop kind")
    _positive("sites_per_cell", sites_per_cell)
    total = sum(
        h.directed_per_cell * 0.5 * (h.rate_forward_per_s + h.rate_backward_per_s) * h.length_A**2 for h in hops
    )
    return total / (6.0 * sites_per_cell) * ANGSTROM2_TO_CM2


def nernst_einstein_mobility_cm2_per_V_s(
    diffusion_cm2_per_s: float, temperature_K: float, charge: float = 1.0
) -> float:
    """mu = |q| D / (kB T) (cm^2 V^-1 s^-1); charge in units of e, D in cm^2/s."""
    if not (math.isfinite(diffusion_cm2_per_s) and diffusion_cm2_per_s >= 0):
        raise ValueError(f"diffusion coefficient must be finite and >= 0, got {diffusion_cm2_per_s}")
    thermal_voltage_V = BOLTZMANN_eV_per_K * _positive("temperature_K", temperature_K)
    return abs(charge) * diffusion_cm2_per_s / thermal_voltage_V


def vineyard_attempt_frequency_Hz(
    initial_THz: np.ndarray, saddle_THz: np.ndarray, tolerance_THz: float = 0.05
) -> float:
    """Vineyard prefactor (Hz) from Gamma-point frequencies (THz, imaginary ones negative, as
    phonopy gives them) of the initial state and the saddle of the same supercell.

    The three modes of smallest |nu| in each set are taken as the translations; the initial
    state must then have no imaginary mode and the saddle exactly one (below -tolerance_THz).
    """
    initial = np.sort(np.asarray(initial_THz, dtype=float))
    saddle = np.sort(np.asarray(saddle_THz, dtype=float))
    if initial.shape != saddle.shape or initial.size < 4:
        raise ValueError(f"need the same number (>= 4) of modes in both states, got {initial.size} and {saddle.size}")
    initial = initial[np.argsort(np.abs(initial))[3:]]
    saddle = saddle[np.argsort(np.abs(saddle))[3:]]
    if (initial < tolerance_THz).any():
        raise ValueError(
            f"the initial state has {int((initial < tolerance_THz).sum())} soft or imaginary mode(s); it is not a minimum"
        )
    imaginary = saddle < -tolerance_THz
    if imaginary.sum() != 1:
        raise ValueError(f"the saddle has {int(imaginary.sum())} imaginary modes; a first-order saddle has exactly 1")
    real = saddle[~imaginary]
    if (real < tolerance_THz).any():
        raise ValueError("the saddle has soft modes besides the translations; converge the NEB further")
    return float(np.exp(np.log(initial).sum() - np.log(real).sum()) * THZ)
