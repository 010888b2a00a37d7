"""Reaction-drift-diffusion-Poisson model of ionic rectification in a CsPbBr3-CsPbCl3 nanowire.

Kong, Obliger, ..., Limmer & Yang, "Solid-state ionic rectification in perovskite nanowire
heterostructures" (the perovskite paper, /work/shared/papers/001_a2633a2ea94fd90f.txt).
Pure numpy/scipy; every length in µm, time in s, potential in V, field in V/µm, energy in eV.

Model (paper, main text)
------------------------
Site fractions on the halide sublattice: x_V, x_Br and x_Cl = 1 - x_Br - x_V (site conservation).
Along the wire coordinate z (µm)::

    dx_a/dt = -dJ_a/dz + S_a          a = Br, Cl         (paper Eq. 1; its "+dJ/dz" is the
    dx_V/dt = +d(J_Br + J_Cl)/dz + S_V                    opposite flux sign convention)
    J_a = sum_b L_ab (X_b - X_V - e E),  X_b = -kT d ln x_b / dz,   J_V = -(J_Br + J_Cl)
    eps d2phi/dz2 = -rho,  rho = e c_s (x_V - x_V^eq(z, t=0)),  eps = 25 eps0,  c_s = 3/a^3, a = 5.8 Å

The fixed background x_V^eq(z, 0) stands for the immobile cation vacancies (paper).

Onsager coefficients (assumed: the supplement with the paper's exact expressions is not in the file)
------------------------------------------------------------------------------------------------
Self-consistent random-alloy form of Moleko, Allnatt & Allnatt, Phil. Mag. A 59, 141 (1989) for
vacancy-mediated exchange in a binary A-B alloy with few vacancies, with c_a = x_a/(x_Br + x_Cl),
vacancy-atom exchange frequencies w_a, relative frequencies omega_a = w_a/w_Br and M0 = 2 f0/(1 - f0)
(f0: tracer correlation factor of the pure lattice)::

    kT L_ab = x_V D_V l_ab,      D_V = z w_Br lambda^2 / 6   (vacancy diffusivity in CsPbBr3, µm²/s)
    l_ab = c_a omega_a f_a delta_ab + 2 (c_a omega_a f_a)(c_b omega_b f_b) / (M0 sum_k c_k omega_k f_k)
    f_a = M0 H / (2 omega_a + M0 H),  with H the root of  sum_k c_k omega_k / (2 omega_k + M0 H) = 1/(M0 + 2)

In a pure lattice this reduces to kT L = x_V D_V (no collective correlation) and f_a = f0.

Sources (paper Eq. for S_V; composition split and rate laws assumed)
-------------------------------------------------------------------
Only in the two electrode contact zones (width 1.5 µm each, at the wire ends)::

    S_V = r_c (1 - x_V) - r_d x_V,        S_a = -S_V x_a / (x_Br + x_Cl)
    r_c = alpha |E_0|  (1/s),             r_d = r_c (1 - x_V^eq(y)) / x_V^eq(y)

so each contact relaxes towards the local equilibrium x_V^eq at a rate proportional to the bias
field E_0 (V/µm) ("linearized reversible reactions that depend on the local halide composition and
field", paper), and a created (destroyed) vacancy removes (inserts) a halide with the local Br:Cl
ratio.  alpha (µm V^-1 s^-1) takes the paper's forward value 1.3e-5 when the positive electrode
sits on the CsPbBr3 segment and its reverse value 3.8e-7 otherwise (Fig. 3 caption).

Equilibrium vacancies (assumed interpolation)
---------------------------------------------
x_V^eq(y) = x_V,Br-rich exp(-(E_f(y) - E_f,Br) / kT) with E_f(y) = y E_f,Br + (1 - y) E_f,Cl,
E_f,Br = 1.32 eV and E_f,Cl = 1.44 eV (paper), y = x_Br/(x_Br + x_Cl), and the absolute level
x_V,Br-rich = 1e-7 from the paper's "typical halide vacancy concentrations ~1e-7".

Boundary conditions
-------------------
No flux of any species at both wire ends; the electrostatic potential is imposed at the outer edges of
the contact zones (the wire ends), +E_0 L/2 on the CsPbBr3 end and -E_0 L/2 on the CsPbCl3 end, so
that the applied field reaches the contact zones where vacancies are made.  The paper's zero-field
condition is not used: with the potential imposed at the inner contact lines and zero field at the
wire ends, the charge left behind by departing vacancies would pull them back into the contact zone
(psi convex with zero slope at the end), so sources there could not feed a current (argument, not run).

Numerics
--------
Finite volumes on N cells; Scharfetter-Gummel fluxes (exact for the exponential profiles of
drift-diffusion, positivity preserving) with the effective potential psi - ln x_b for each term of
J_a, psi = e phi / kT.  Poisson's equation is enforced by a fast relaxation
d psi/dt = nu (dz²/2) [psi_zz + kappa² (x_V - x_V^eq)] whose slowest mode (1e8 /s) is five orders of
magnitude faster than dielectric relaxation, so with the stiff BDF integrator psi is quasi-static;
this keeps the Jacobian banded.  scipy ``solve_ivp(method="BDF")`` gets a sparse finite-difference
Jacobian built in 9 right-hand-side calls (cells three apart perturbed together).  Per-cell source
integrals are carried as extra states, so the halide budget N_a(t) - N_a(0) = integral of S_a is
checked to round-off (``halide_sites_relative_error``; BDF preserves linear invariants).

Results with the defaults (1,000 cells, 4 h; ~2 s per run)
---------------------------------------------------------
Forward +4 V/µm: front moves 1.03 µm towards CsPbBr3, linearly in time; reverse -4 V/µm: -0.026 µm
(slightly towards CsPbCl3).  Forward migration length is linear in bias over 1.5-4 V/µm (R² > 0.999)
and its slope gives a halide mobility of 1.7e-13 cm² V^-1 s^-1 (paper: 1.7e-13).  The rectification
ratio at ±4 V/µm is ~39, not the paper's ~20: both polarities are limited by vacancy injection
(mobility ~ alpha_fwd x contact width), so the ratio stays near alpha_fwd/alpha_rev = 34.

Geometry and parameters not in the paper (assumed, documented in ``RectificationParameters``):
wire length 10 µm with the front in the middle, end compositions x_Br = 0.99 / 0.11 (mid-point
0.55, the paper's front definition), D_V, the Cl/Br jump-frequency ratio and f0.  In the
injection-limited regime the forward length changes by -11% / +8% for D_V = 10 / 100 µm²/s.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields, replace
from typing import Callable

import numpy as np
from scipy import sparse
from scipy.integrate import solve_ivp

BOLTZMANN_eV_per_K = 8.617333262e-5
ELEMENTARY_CHARGE_C = 1.602176634e-19
VACUUM_PERMITTIVITY_F_per_m = 8.8541878128e-12
SECONDS_PER_HOUR = 3600.0
UM2_TO_CM2 = 1e-8

#: smallest finite-difference step scale for (u, x_Br, psi) in the Jacobian
JACOBIAN_STEP_FLOOR = np.array([1e-3, 1e-3, 1e-2])

#: slowest relaxation rate of the Poisson pseudo-dynamics (1/s); dielectric relaxation is ~1e3 /s
POISSON_RELAXATION_RATE_per_s = 1e8


@dataclass(frozen=True)
class RectificationParameters:
    """Model parameters; defaults reproduce the paper (paper values marked, the rest assumed).

    wire_length_um: wire between the outer electrode edges (assumed 10 µm; wires are up to 20 µm).
    contact_width_um: electrode contact zone at each end where sources act (paper: 1.5 µm).
    front_position_um: initial Br/Cl step position, measured from the CsPbBr3 end (assumed: middle).
    x_br_bromide_segment, x_br_chloride_segment: initial x_Br on either side of the step (assumed;
        their mid-point is the paper's front composition 0.55).
    front_composition: x_Br defining the front (paper: 0.55).
    lattice_constant_angstrom: a, halide site density c_s = 3/a³ (paper: 5.8 Å).
    relative_permittivity: eps/eps0 (paper: 25).
    temperature_K: T (room temperature, 300 K).
    formation_energy_br_eV, formation_energy_cl_eV: halide-vacancy formation energy in pure
        CsPbBr3 / CsPbCl3 (paper: 1.32 / 1.44 eV).
    vacancy_fraction_br_rich: x_V^eq in CsPbBr3, per halide site (paper: "~1e-7").
    vacancy_diffusivity_um2_per_s: D_V in CsPbBr3 (assumed 20 µm²/s = ``parameters_from_barrier(0.30)``,
        a typical computed halide-vacancy barrier).
    chloride_jump_ratio: w_Cl / w_Br vacancy exchange frequency ratio (assumed 1: no Cl barrier is given;
        0.5 changes the forward migration length by -5%).
    correlation_factor: tracer correlation factor f0 of the pure halide sublattice (assumed: simple
        cubic value 0.6531).
    source_coefficient_forward_um_per_V_s: alpha with the positive electrode on CsPbBr3 (paper 1.3e-5).
    source_coefficient_reverse_um_per_V_s: alpha with the positive electrode on CsPbCl3 (paper 3.8e-7).
    """

    wire_length_um: float = 10.0
    contact_width_um: float = 1.5
    front_position_um: float = 5.0
    x_br_bromide_segment: float = 0.99
    x_br_chloride_segment: float = 0.11
    front_composition: float = 0.55
    lattice_constant_angstrom: float = 5.8
    relative_permittivity: float = 25.0
    temperature_K: float = 300.0
    formation_energy_br_eV: float = 1.32
    formation_energy_cl_eV: float = 1.44
    vacancy_fraction_br_rich: float = 1e-7
    vacancy_diffusivity_um2_per_s: float = 20.0
    chloride_jump_ratio: float = 1.0
    correlation_factor: float = 0.6531
    source_coefficient_forward_um_per_V_s: float = 1.3e-5
    source_coefficient_reverse_um_per_V_s: float = 3.8e-7

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not math.isfinite(value):
                raise ValueError(f"{item.name} = {value} is not finite; give a finite number")
        positive = (
            "wire_length_um", "contact_width_um", "lattice_constant_angstrom", "relative_permittivity",
            "temperature_K", "vacancy_fraction_br_rich", "vacancy_diffusivity_um2_per_s",
            "chloride_jump_ratio",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} = {getattr(self, name)} must be > 0; give a positive value")
        for name in ("source_coefficient_forward_um_per_V_s", "source_coefficient_reverse_um_per_V_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} = {getattr(self, name)} is negative; vacancy rates must be >= 0")
        for name in ("x_br_bromide_segment", "x_br_chloride_segment", "front_composition"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise ValueError(f"{name} = {value} is not a site fraction in (0, 1); give one")
        if not self.x_br_chloride_segment < self.front_composition < self.x_br_bromide_segment:
            raise ValueError(
                f"front_composition {self.front_composition} must lie between the segment compositions "
                f"{self.x_br_chloride_segment} and {self.x_br_bromide_segment}"
            )
        if self.vacancy_fraction_br_rich >= 1e-2:
            raise ValueError(
                f"vacancy_fraction_br_rich = {self.vacancy_fraction_br_rich} is not dilute; the "
                "Moleko-Allnatt coefficients need x_V < 1e-2"
            )
        if self.x_br_bromide_segment + self.vacancy_fraction_br_rich >= 1:
            raise ValueError("x_br_bromide_segment + vacancy fraction >= 1 leaves no chloride; lower x_br")
        if not 0 < self.correlation_factor < 1:
            raise ValueError(f"correlation_factor = {self.correlation_factor} must be in (0, 1)")
        if not 2 * self.contact_width_um < self.wire_length_um:
            raise ValueError("the two contact zones overlap; make contact_width_um < wire_length_um / 2")
        if not self.contact_width_um < self.front_position_um < self.wire_length_um - self.contact_width_um:
            raise ValueError("front_position_um must lie between the contact zones")

    @property
    def thermal_voltage_V(self) -> float:
        """kT/e in V."""
        return BOLTZMANN_eV_per_K * self.temperature_K

    @property
    def site_density_per_m3(self) -> float:
        """Halide site density c_s = 3/a³ (m^-3)."""
        return 3.0 / (self.lattice_constant_angstrom * 1e-10) ** 3

    @property
    def inverse_debye_length_sq_per_um2(self) -> float:
        """kappa² = e² c_s / (eps kT) per unit site fraction (µm^-2): psi'' = -kappa² (x_V - x_V^eq)."""
        eps = self.relative_permittivity * VACUUM_PERMITTIVITY_F_per_m
        per_m2 = ELEMENTARY_CHARGE_C * self.site_density_per_m3 / (eps * self.thermal_voltage_V)
        return per_m2 * 1e-12

    @property
    def debye_length_um(self) -> float:
        """Screening length of the Br-rich equilibrium vacancies (µm)."""
        return 1.0 / math.sqrt(self.inverse_debye_length_sq_per_um2 * self.vacancy_fraction_br_rich)

    def equilibrium_vacancy_fraction(self, bromide_share: np.ndarray) -> np.ndarray:
        """x_V^eq for halide composition y = x_Br/(x_Br + x_Cl), linear E_f(y) (see module doc)."""
        excess_eV = (1.0 - bromide_share) * (self.formation_energy_cl_eV - self.formation_energy_br_eV)
        return self.vacancy_fraction_br_rich * np.exp(-excess_eV / self.thermal_voltage_V)

    def source_coefficient_um_per_V_s(self, bias_V_per_um: float) -> float:
        """alpha for this polarity: forward (positive electrode on CsPbBr3) for bias > 0."""
        if bias_V_per_um >= 0:
            return self.source_coefficient_forward_um_per_V_s
        return self.source_coefficient_reverse_um_per_V_s


def parameters_from_barrier(
    barrier_eV: float,
    attempt_frequency_Hz: float = 1e13,
    temperature_K: float = 300.0,
    chloride_barrier_eV: float | None = None,
    coordination: int = 8,
    hop_distance_angstrom: float | None = None,
    **overrides: float,
) -> RectificationParameters:
    """Model parameters from a NEB halide-vacancy hop barrier (the multiscale link).

    D_V = Gamma lambda² / 6 with Gamma = coordination * nu * exp(-Ea / kT) (1/s): barrier_eV (Ea, eV) is
    the Br-vacancy exchange barrier in CsPbBr3, attempt_frequency_Hz (nu), the 8 halide neighbours of a
    halide site in ABX3 at hop_distance_angstrom lambda = a/sqrt(2) (default).  chloride_barrier_eV, when
    given, sets chloride_jump_ratio = exp(-(Ea_Cl - Ea_Br)/kT).  Other fields via ``overrides``.
    """
    values = {"barrier_eV": barrier_eV, "attempt_frequency_Hz": attempt_frequency_Hz,
              "temperature_K": temperature_K}
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} = {value} must be a positive finite number")
    base = RectificationParameters(temperature_K=temperature_K, **overrides)
    kT = base.thermal_voltage_V
    hop_um = (hop_distance_angstrom or base.lattice_constant_angstrom / math.sqrt(2.0)) * 1e-4
    jump_rate_per_s = coordination * attempt_frequency_Hz * math.exp(-barrier_eV / kT)
    updates = {"vacancy_diffusivity_um2_per_s": jump_rate_per_s * hop_um**2 / 6.0}
    if chloride_barrier_eV is not None:
        updates["chloride_jump_ratio"] = math.exp(-(chloride_barrier_eV - barrier_eV) / kT)
    return replace(base, **updates)


def onsager_coefficients(bromide_share: np.ndarray, chloride_jump_ratio: float,
                         correlation_factor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduced Moleko-Allnatt-Allnatt coefficients (l_BrBr, l_BrCl, l_ClCl), kT L_ab = x_V D_V l_ab.

    bromide_share: c_Br = x_Br/(x_Br + x_Cl); exchange frequencies relative to w_Br (module doc).
    """
    c_br = np.clip(bromide_share, 0.0, 1.0)
    c_cl = 1.0 - c_br
    w_br, w_cl = 1.0, chloride_jump_ratio
    m0 = 2.0 * correlation_factor / (1.0 - correlation_factor)
    mean_w = c_br * w_br + c_cl * w_cl
    # s = M0 H solves s² + p s - 2 M0 w_Br w_Cl = 0 (the self-consistency condition, cleared)
    p = 2.0 * (w_br + w_cl) - (m0 + 2.0) * mean_w
    s = 0.5 * (-p + np.sqrt(p * p + 8.0 * m0 * w_br * w_cl))
    g_br = c_br * w_br * s / (2.0 * w_br + s)
    g_cl = c_cl * w_cl * s / (2.0 * w_cl + s)
    collective = 2.0 / (m0 * (g_br + g_cl))
    return g_br + collective * g_br**2, collective * g_br * g_cl, g_cl + collective * g_cl**2


def _bernoulli(x: np.ndarray) -> np.ndarray:
    """B(x) = x / (exp(x) - 1), overflow-free."""
    out = np.ones_like(x)
    positive = x > 1e-8
    negative = x < -1e-8
    xp = x[positive]
    out[positive] = xp * np.exp(-xp) / -np.expm1(-xp)
    xn = x[negative]
    out[negative] = xn / np.expm1(xn)
    small = ~(positive | negative)
    out[small] = 1.0 - 0.5 * x[small]
    return out


def _check_profile(name: str, values: np.ndarray) -> None:
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains non-finite values; give finite site fractions")
    if np.any(values < 0):
        raise ValueError(f"{name} has negative site fractions (min {values.min():.3g}); give values >= 0")


@dataclass
class RectificationResult:
    """One biased run.  Lengths in µm, times in s; profiles are (n_times, n_cells) arrays."""

    bias_V_per_um: float
    z_um: np.ndarray
    times_s: np.ndarray
    x_br: np.ndarray
    x_v: np.ndarray
    potential_V: np.ndarray
    front_um: np.ndarray
    halide_sites_relative_error: float
    wall_time_s: float
    stats: dict = field(default_factory=dict)

    @property
    def migration_length_um(self) -> float:
        """Front displacement towards the CsPbBr3 end after the whole run (µm)."""
        return float(self.front_um[0] - self.front_um[-1])


class WireModel:
    """Discretised right-hand side; state = [u, x_Br, psi] per cell (interleaved) + source integrals.

    u = x_V / x_V,Br-rich (order-one vacancy variable), psi = e phi / kT.  ``rhs`` (1/s) and
    ``jacobian`` are what ``simulate`` integrates; the benchmark integrates ``rhs`` with RK45.
    """

    def __init__(self, params: RectificationParameters, bias_V_per_um: float, grid_points: int,
                 initial_x_br: np.ndarray | None) -> None:
        p = params
        n = grid_points
        self.params, self.n = p, n
        self.dz = p.wire_length_um / n
        self.z = (np.arange(n) + 0.5) * self.dz
        self.contact_cells = int(round(p.contact_width_um / self.dz))
        if self.contact_cells < 1 or self.dz > p.debye_length_um:
            needed = int(math.ceil(p.wire_length_um / min(p.contact_width_um, p.debye_length_um)))
            raise ValueError(
                f"grid of {n} points (dz = {self.dz:.3g} µm) does not resolve the contact width or the "
                f"Debye length {p.debye_length_um:.3g} µm; use at least {needed} grid points"
            )
        if initial_x_br is None:
            initial_x_br = np.where(self.z < p.front_position_um, p.x_br_bromide_segment,
                                    p.x_br_chloride_segment)
        initial_x_br = np.asarray(initial_x_br, dtype=float)
        if initial_x_br.shape != (n,):
            raise ValueError(f"initial x_Br has shape {initial_x_br.shape}; give {n} values, one per cell")
        _check_profile("initial x_Br", initial_x_br)
        self.x_scale = p.vacancy_fraction_br_rich
        self.x_v0 = p.equilibrium_vacancy_fraction(initial_x_br)
        if np.any(initial_x_br + self.x_v0 >= 1):
            raise ValueError("initial x_Br + x_V >= 1 somewhere leaves negative chloride; lower x_Br")
        self.initial_x_br = initial_x_br
        kT = p.thermal_voltage_V
        self.psi_left = 0.5 * bias_V_per_um * p.wire_length_um / kT
        self.psi_right = -self.psi_left
        rate_per_s = p.source_coefficient_um_per_V_s(bias_V_per_um) * abs(bias_V_per_um)
        self.creation_rate_per_s = rate_per_s
        nc = self.contact_cells
        self.source_cells = np.concatenate([np.arange(nc), np.arange(n - nc, n)])
        self.kappa2 = p.inverse_debye_length_sq_per_um2 * self.x_scale
        slowest_mode = self.dz**2 * math.pi**2 / (2.0 * p.wire_length_um**2)
        self.poisson_rate = POISSON_RELAXATION_RATE_per_s / slowest_mode
        self.diffusivity = p.vacancy_diffusivity_um2_per_s
        self._rows, self._cols = self._sparsity()
        cell, variable = np.divmod(self._cols, 3)
        self._column_group = 3 * (cell % 3) + variable

    # -- state layout ---------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return 3 * self.n + 2 * self.source_cells.size

    def initial_state(self) -> np.ndarray:
        y = np.zeros(self.size)
        cells = y[: 3 * self.n].reshape(self.n, 3)
        cells[:, 0] = self.x_v0 / self.x_scale
        cells[:, 1] = self.initial_x_br
        # Laplace solution for rho = 0: linear between the imposed end potentials
        cells[:, 2] = self.psi_left + (self.psi_right - self.psi_left) * self.z / self.params.wire_length_um
        return y

    def unpack(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cells = y[: 3 * self.n].reshape(self.n, 3)
        return cells[:, 0] * self.x_scale, cells[:, 1], cells[:, 2]

    def _sparsity(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of the Jacobian non-zeros: neighbour cells only, source integrals local."""
        n, idx = self.n, np.arange(self.n)
        rows, cols = [], []
        for shift in (-1, 0, 1):
            i = idx[(idx + shift >= 0) & (idx + shift < n)]
            j = i + shift
            for row_var in (0, 1):          # u and x_Br rows see u, x_Br, psi of neighbours
                for col_var in (0, 1, 2):
                    rows.append(3 * i + row_var)
                    cols.append(3 * j + col_var)
            rows.append(3 * i + 2)          # psi rows: Laplacian of psi
            cols.append(3 * j + 2)
        rows.append(3 * idx + 2)            # ... plus the local charge
        cols.append(3 * idx)
        m = self.source_cells.size
        for offset in (0, m):               # source integrals see the local u, x_Br
            for col_var in (0, 1):
                rows.append(3 * n + offset + np.arange(m))
                cols.append(3 * self.source_cells + col_var)
        return np.concatenate(rows), np.concatenate(cols)

    def jacobian(self, t: float, y: np.ndarray) -> sparse.csc_matrix:
        """Sparse finite-difference Jacobian in 9 right-hand-side calls: cells three apart share a
        perturbation (fluxes couple nearest neighbours only); source integrals are never perturbed
        (no equation depends on them)."""
        f0 = self.rhs(t, y)
        n3 = 3 * self.n
        step = np.zeros(self.size)
        step[:n3] = 1.5e-8 * np.maximum(np.abs(y[:n3]), np.tile(JACOBIAN_STEP_FLOOR, self.n))
        changes = np.empty((9, self.size))
        for group in range(9):
            perturbed = y.copy()
            columns = 3 * np.arange(group // 3, self.n, 3) + group % 3
            perturbed[columns] += step[columns]
            changes[group] = self.rhs(t, perturbed) - f0
        data = changes[self._column_group, self._rows] / step[self._cols]
        return sparse.csc_matrix((data, (self._rows, self._cols)), shape=(self.size, self.size))

    # -- physics --------------------------------------------------------------------------------
    def sources(self, x_v: np.ndarray, x_br: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(S_V, S_Br) in the contact cells (1/s)."""
        cells = self.source_cells
        xv, xbr = x_v[cells], x_br[cells]
        share = xbr / np.maximum(1.0 - xv, 1e-300)
        x_eq = self.params.equilibrium_vacancy_fraction(share)
        r_c = self.creation_rate_per_s
        s_v = r_c * (1.0 - xv) - r_c * (1.0 - x_eq) / x_eq * xv
        return s_v, -share * s_v

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        p, n, dz = self.params, self.n, self.dz
        x_v, x_br, psi = self.unpack(y)
        x_cl = 1.0 - x_br - x_v
        tiny = 1e-12
        log_br = np.log(np.maximum(x_br, tiny))
        log_cl = np.log(np.maximum(x_cl, tiny))
        share = x_br / np.maximum(x_br + x_cl, tiny)
        l_bb, l_bc, l_cc = onsager_coefficients(0.5 * (share[1:] + share[:-1]), p.chloride_jump_ratio,
                                                p.correlation_factor)
        d_psi = np.diff(psi)
        scale = self.diffusivity / dz
        # g_b = dx_V/dz + x_V d(psi - ln x_b)/dz at interior faces, Scharfetter-Gummel
        d_br = d_psi - np.diff(log_br)
        d_cl = d_psi - np.diff(log_cl)
        g_br = scale * (_bernoulli(-d_br) * x_v[1:] - _bernoulli(d_br) * x_v[:-1])
        g_cl = scale * (_bernoulli(-d_cl) * x_v[1:] - _bernoulli(d_cl) * x_v[:-1])
        flux_br = np.zeros(n + 1)
        flux_cl = np.zeros(n + 1)
        flux_br[1:-1] = l_bb * g_br + l_bc * g_cl
        flux_cl[1:-1] = l_bc * g_br + l_cc * g_cl
        div_br = np.diff(flux_br) / dz
        div_cl = np.diff(flux_cl) / dz
        dx_br = -div_br
        dx_v = div_br + div_cl
        s_v, s_br = self.sources(x_v, x_br)
        dx_v[self.source_cells] += s_v
        dx_br[self.source_cells] += s_br
        # Poisson relaxation with the potential imposed at both wire ends (ghost faces)
        lap = np.empty(n)
        lap[1:-1] = psi[:-2] - 2.0 * psi[1:-1] + psi[2:]
        lap[0] = 2.0 * self.psi_left - 3.0 * psi[0] + psi[1]
        lap[-1] = psi[-2] - 3.0 * psi[-1] + 2.0 * self.psi_right
        residual = lap + dz * dz * self.kappa2 * (x_v - self.x_v0) / self.x_scale
        out = np.empty(self.size)
        cells = out[: 3 * n].reshape(n, 3)
        cells[:, 0] = dx_v / self.x_scale
        cells[:, 1] = dx_br
        cells[:, 2] = 0.5 * self.poisson_rate * residual
        m = self.source_cells.size
        out[3 * n: 3 * n + m] = s_br * dz
        out[3 * n + m:] = s_v * dz
        return out

    def budget_error(self, y0: np.ndarray, y1: np.ndarray) -> float:
        """|Delta N_Br - int S_Br| + |Delta N_V - int S_V| over the run, per halide site."""
        m = self.source_cells.size
        x_v0, x_br0, _ = self.unpack(y0)
        x_v1, x_br1, _ = self.unpack(y1)
        source_br = y1[3 * self.n: 3 * self.n + m].sum()
        source_v = y1[3 * self.n + m:].sum()
        error_br = abs((x_br1 - x_br0).sum() * self.dz - source_br)
        error_v = abs((x_v1 - x_v0).sum() * self.dz - source_v)
        return float((error_br + error_v) / self.params.wire_length_um)


def front_position_um(z_um: np.ndarray, x_br: np.ndarray, composition: float = 0.55) -> float:
    """First position from the CsPbBr3 end where x_Br falls through ``composition`` (linear interp.)."""
    above = x_br >= composition
    crossings = np.flatnonzero(above[:-1] & ~above[1:])
    if crossings.size == 0:
        raise ValueError(f"no x_Br = {composition} front in the profile; check the initial compositions")
    i = crossings[0]
    weight = (x_br[i] - composition) / (x_br[i] - x_br[i + 1])
    return float(z_um[i] + weight * (z_um[i + 1] - z_um[i]))


def _reporting(rhs: Callable, t_end: float, progress: Callable[[float], None]) -> Callable:
    """rhs that also calls progress(t / t_end) at every further 1% of simulated time."""
    reported = [0.0]

    def reporting_rhs(t: float, y: np.ndarray) -> np.ndarray:
        if t / t_end >= reported[0] + 0.01:
            reported[0] = min(t / t_end, 1.0)
            progress(reported[0])
        return rhs(t, y)

    return reporting_rhs


def simulate(
    bias_V_per_um: float,
    hours: float = 4.0,
    grid_points: int = 1000,
    params: RectificationParameters | None = None,
    snapshots: int = 9,
    initial_x_br: np.ndarray | None = None,
    method: str = "BDF",
    rtol: float = 1e-6,
    progress: Callable[[float], None] | None = None,
) -> RectificationResult:
    """Bias the wire at ``bias_V_per_um`` (V/µm; > 0 forward = positive electrode on CsPbBr3) for
    ``hours`` (h) on ``grid_points`` cells; ``snapshots`` equally spaced profiles are kept.
    ``progress`` is called with the completed fraction of the run (0..1)."""
    params = params or RectificationParameters()
    for name, value in (("bias_V_per_um", bias_V_per_um), ("hours", hours)):
        if not math.isfinite(value):
            raise ValueError(f"{name} = {value} is not finite; give a number")
    if hours <= 0:
        raise ValueError(f"hours = {hours} must be > 0")
    if grid_points < 10:
        raise ValueError(f"grid_points = {grid_points} is too coarse; use at least 10")
    model = WireModel(params, bias_V_per_um, int(grid_points), initial_x_br)
    t_end = hours * SECONDS_PER_HOUR
    times = np.linspace(0.0, t_end, max(int(snapshots), 2))

    fun = model.rhs if progress is None else _reporting(model.rhs, t_end, progress)
    y0 = model.initial_state()
    atol = np.empty(model.size)
    atol[: 3 * model.n].reshape(model.n, 3)[:] = (1e-6, 1e-9, 1e-4)
    atol[3 * model.n:] = 1e-12
    start = time.perf_counter()
    solution = solve_ivp(fun, (0.0, t_end), y0, method=method, t_eval=times, rtol=rtol, atol=atol,
                         jac=model.jacobian)
    wall = time.perf_counter() - start
    if not solution.success:
        raise ValueError(f"integration failed ({solution.message}); the parameters are numerically unstable: "
                         "check them or refine the grid")
    if progress is not None:
        progress(1.0)
    states = solution.y.T
    unpacked = [model.unpack(y) for y in states]
    x_v = np.array([u[0] for u in unpacked])
    x_br = np.array([u[1] for u in unpacked])
    potential = np.array([u[2] for u in unpacked]) * params.thermal_voltage_V
    fronts = np.array([front_position_um(model.z, xb, params.front_composition) for xb in x_br])
    return RectificationResult(
        bias_V_per_um=float(bias_V_per_um), z_um=model.z, times_s=solution.t, x_br=x_br, x_v=x_v,
        potential_V=potential, front_um=fronts,
        halide_sites_relative_error=model.budget_error(states[0], states[-1]), wall_time_s=wall,
        stats={"nfev": int(solution.nfev), "njev": int(solution.njev), "nlu": int(solution.nlu),
               "unknowns": model.size},
    )


def rectification_ratio(migration_forward_um: float, migration_reverse_um: float) -> float:
    """|L_forward| / |L_reverse| at equal and opposite bias (paper: ~20 at ±4 V/µm)."""
    if migration_reverse_um == 0:
        return math.inf
    return abs(migration_forward_um) / abs(migration_reverse_um)


def halide_mobility_cm2_per_V_s(biases_V_per_um: np.ndarray, migration_lengths_um: np.ndarray,
                                hours: float) -> float:
    """Mobility from the slope of migration length vs forward bias: mu = (dL/dE) / t (cm² V^-1 s^-1).

    With a single bias this is L / (E t), the paper's definition (1.7e-13 cm²/V/s)."""
    bias = np.atleast_1d(np.asarray(biases_V_per_um, dtype=float))
    length = np.atleast_1d(np.asarray(migration_lengths_um, dtype=float))
    if bias.size == 1:
        slope = length[0] / bias[0]
    else:
        slope = np.polyfit(bias, length, 1)[0]
    return float(slope / (hours * SECONDS_PER_HOUR) * UM2_TO_CM2)


def linear_fit_r2(x: np.ndarray, y: np.ndarray) -> float:
    """Coefficient of determination of a straight-line fit y(x)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    fit = np.polyval(np.polyfit(x, y, 1), x)
    return float(1.0 - np.sum((y - fit) ** 2) / np.sum((y - y.mean()) ** 2))
