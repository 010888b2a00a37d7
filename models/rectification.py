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

Sources (paper: S_V^+- = r_c^+- (1 - x_V) - r_d^+- x_V, +- labelling the two electrodes; the split
per electrode and the rate laws are assumed, the supplement with the paper's own is not in the file)
------------------------------------------------------------------------------------------------------
Only in the two electrode zones (width w = 1.5 µm each, the wire ends lying on the electrodes)::

    S_V = r_c^e (1 - x_V) - r_d^e x_V     in zone e,      S_a = -S_V x_a / (x_Br + x_Cl)
    r_c = alpha |E_0|  (1/s per halide site),  r_eq(y) = r_c (1 - x_V^eq(y)) / x_V^eq(y)

a created (destroyed) vacancy removes (inserts) a halide with the local Br:Cl ratio.  alpha
(µm V^-1 s^-1) takes the paper's forward value 1.3e-5 when the positive electrode sits on the CsPbBr3
segment and its reverse value 3.8e-7 otherwise (Fig. 3 caption): the composition dependence of the
rates ("lower rate consistent with the higher vacancy formation energy of pure Cl lattices", paper)
enters only through this choice of alpha by the composition of the injecting zone.

Unit check: alpha [µm V^-1 s^-1] x E_0 [V/µm] = r_c [1/s], a per-halide-site creation rate.  At 1 V/µm,
r_c x 3600 s = 0.047 (forward) / 0.0014 (reverse) vacancies per halide site per hour, i.e. 47 and 1.4
per 10³ halide sites per hour against the caption's "roughly ... 60 and 1.6 vacancy per 10³ unit cells
per hour" (-22% / -14%; the caption's own ratio 60/1.6 = 37.5 differs from alpha_f/alpha_r = 34.2 by
10%, so its numbers are rounded).  Counting 3 halide sites per formula cell would give 140 and 4.1
per 10³ cells (2.3-2.6x off), so the caption's "unit cell" is read as a halide site.

``sources="electrochemical"`` (default; one-sided electrochemistry per electrode)
    The zone at the higher potential (the CsPbBr3 end under forward bias, the CsPbCl3 end under
    reverse) only creates vacancies, the other zone only destroys them::

        injecting zone:  r_c^e = r_c,  r_d^e = 0          (S_V = r_c (1 - x_V) > 0)
        receiving zone:  r_c^e = 0,    r_d^e = r_eq(y)    (S_V = -r_eq x_V < 0)

    The injecting zone is the one the paper calls the "cathode" (vacancy injection "at the cathode",
    source terms "suppressed when the cathode is applied to the Cl segment" in the reverse case); in
    this model's sign convention it is the positive electrode, from which the positive vacancies drift
    into the gap.  The sink coefficient r_eq destroys vacancies at rate r_c where x_V = x_V^eq (the
    caption's "creation/destruction" at equal rates); its value hardly matters (x 1e-3: forward
    -0.02%, reverse 0% on 400 cells; x 1e-6: reverse -15%; with no sink at all the vacancies pile up
    in the receiving zone beyond dilution and the integration fails).  The created vacancies charge
    the injecting zone until their own field (<= 0.7 V/µm, pointing to the contact line) pushes them
    into the gap at the full creation rate r_c w, so the front moves at v = alpha E_0 w: a vacancy flux
    J through a front moves it at speed J (the flux is shared between Br and Cl in proportion to
    their sites), hence L = alpha E_0 w t and the mobility L/(E_0 t) = alpha w.
``sources="equilibrating"`` (the earlier assumption, kept for comparison)
    Both zones create and destroy, r_c^e = r_c and r_d^e = r_eq(y): each zone relaxes to the local
    equilibrium x_V^eq at a rate proportional to the bias.

Equilibrium vacancies (assumed interpolation)
---------------------------------------------
x_V^eq(y) = x_V,Br-rich exp(-(E_f(y) - E_f,Br) / kT) with E_f(y) = y E_f,Br + (1 - y) E_f,Cl,
E_f,Br = 1.32 eV and E_f,Cl = 1.44 eV (paper), y = x_Br/(x_Br + x_Cl), and the absolute level
x_V,Br-rich = 1e-7 from the paper's "typical halide vacancy concentrations ~1e-7".

Geometry and boundary conditions (paper: "No flow and zero electric field boundary conditions are
enforced. Voltage values are imposed at the contact lines between the wire and the electrodes.")
------------------------------------------------------------------------------------------------------
The wire [0, L] lies over both electrodes: electrode zones [0, w] (CsPbBr3 end) and [L - w, L]
(CsPbCl3 end), w = 1.5 µm, the Br/Cl front initially in the gap between them.  ``boundary="contacts"``
(default, the paper): no flow of any species and zero field dphi/dz = 0 at both wire ends; phi is
imposed on the two contact lines z = w and z = L - w (interior Dirichlet faces),
phi = +E_0 (L - 2w)/2 on the CsPbBr3 side and -E_0 (L - 2w)/2 on the CsPbCl3 side, so the mean field
in the gap is E_0.  The Dirichlet lines split Poisson's equation into three independent problems: the
field inside an electrode zone comes only from that zone's own space charge (the metal screens the
applied field there).  ``boundary="wire-ends"`` (an earlier variant, kept for comparison) imposes
+-E_0 L/2 on the wire ends instead, so the applied field also crosses the electrode zones.

Numerics
--------
Finite volumes on N cells (the contact lines on cell faces); Scharfetter-Gummel fluxes (exact for the
exponential profiles of drift-diffusion, positivity preserving) with the effective potential
psi - ln x_b for each term of J_a, psi = e phi / kT.  Poisson's equation is solved exactly at every
right-hand-side evaluation (tridiagonal operator with the Dirichlet faces at half a cell, pre-factorised
banded Cholesky), so the model is an ODE in u = x_V/x_V,Br-rich and x_Br only (2N + 2 unknowns).  Its
Jacobian J = F_y + F_psi dpsi/dy is dense (the Poisson solve couples all cells of a sub-domain) but
F_y = df/dy|psi and F_psi = df/dpsi|y are banded (sparse finite differences, 9 right-hand-side calls);
``BorderedBDF`` (scipy's BDF with its LU hooks replaced) factorises the sparse bordered system
[[I - c F_y, -c F_psi], [dz² kappa² P_u, A]], whose Schur complement is exactly I - c J, so Newton
uses the exact Jacobian at sparse cost.  Two integrals of the sources are carried as extra states, so
the halide budget N_a(t) - N_a(0) = integral of S_a is checked to round-off
(``halide_sites_relative_error``; BDF preserves linear invariants).

Results (1,000 cells, 4 h, paper's boundary conditions ``contacts``; 2-4 s per run on one core)
-------------------------------------------------------------------------------------------------
``electrochemical`` (default): forward 0.424, 0.563, 0.702, 0.842, 0.982, 1.122 µm at 1.5, 2, ..., 4
V/µm, linear in time (R² > 0.99999) and in E_0 (R² 0.999998, slope 0.279 µm per V/µm, intercept
0.004 µm; sqrt(E_0) fit R² 0.995): L = alpha E_0 w t (1.123 µm at 4 V/µm).  Mobility L/(E_0 t) =
1.95e-13 cm² V^-1 s^-1 at 4 V/µm (= alpha w; slope of the sweep 1.94e-13; paper 1.7e-13, +15%).
Reverse -0.0115, -0.0154, -0.0232, -0.0313 µm at -1.5, -2, -3, -4 V/µm (towards CsPbCl3; also
~ alpha_r E_0 w t); ratio at ±4 V/µm 35.8
(37.5 / 35.8 / 34.8 on 400 / 1,000 / 2,000 cells, tending to alpha_f/alpha_r = 34.2; paper ~20: the
ratio is set by the two alpha values of the caption, not by the dynamics).  The injecting zone holds
x_V ~ 1.35 x_V^eq, the gap 0.2-0.5 x_V^eq (the "otherwise depleted zone" of Fig. 3a made conducting by
the injection).  ``wire-ends`` gives the same numbers (1.122 / -0.0312 µm): with one-sided sources the
result no longer depends on where the voltages are imposed.  Caveat: a slow vacancy diffusivity needs a
much larger space charge to push the created vacancies out (``parameters_from_barrier(0.40)``, D_V =
0.43 µm²/s, 400 cells: L = 1.10 µm but x_V reaches 0.024 in the injecting zone, beyond the dilute
range of the Onsager coefficients, and the run takes ~25 s instead of ~1 s; 0.50 eV: 1.08 µm, ~40 s).
``equilibrating``: forward 0.062, 0.075, 0.087, 0.098, 0.108, 0.118 µm at 1.5, 2, ..., 4 V/µm,
proportional to sqrt(E_0) (R² 0.9998), mobility 2.0e-14 cm² V^-1 s^-1 (about 1/8 of the paper), reverse
-0.0019 µm, ratio 60 (46-67 between 2,000 and 200 cells).  Cause: with phi fixed on the contact lines
and zero field at the wire ends the electrode zones are field-free, the fast destruction r_eq (~500 /s)
pins x_V at x_V^eq over 90% of the anode zone, and vacancies are created only in a reaction-diffusion
layer sqrt(D_V x_V^eq / r_c) ~ 0.2 µm at the contact line: injection ~ sqrt(D_V r_c x_V^eq) =
8e-6 µm/s, 11% of the zone's capacity r_c w = 7.8e-5 µm/s, hence L ~ sqrt(E_0).  With ``wire-ends``
the equilibrating law gives forward 1.03 µm, mobility 1.76e-13, ratio 39.

Geometry and parameters not in the paper (assumed, documented in ``RectificationParameters``):
wire length 10 µm with the front in the middle, end compositions x_Br = 0.99 / 0.11 (mid-point
0.55, the paper's front definition), D_V, the Cl/Br jump-frequency ratio and f0, and the rate laws
r_c, r_d above (the supplement with the paper's own is not in the file).  With the default sources the
forward length and the mobility depend essentially on alpha, w and t only (400 cells, 4 V/µm: D_V x4
-0.02%, x_V,Br-rich x4 +2.6%, w/2 -50%), the ratio on alpha_f/alpha_r.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace

import numpy as np
from scipy import sparse
from scipy.integrate import BDF, solve_ivp
from scipy.linalg import cho_solve_banded, cholesky_banded
from scipy.sparse.linalg import splu

BOLTZMANN_eV_per_K = 8.617333262e-5
ELEMENTARY_CHARGE_C = 1.602176634e-19
VACUUM_PERMITTIVITY_F_per_m = 8.8541878128e-12
SECONDS_PER_HOUR = 3600.0
UM2_TO_CM2 = 1e-8

#: smallest finite-difference step scale for (u, x_Br, psi) in the Jacobian
JACOBIAN_STEP_FLOOR = np.array([1e-3, 1e-3, 1e-2])


@dataclass(frozen=True)
class RectificationParameters:
    """Model parameters; defaults reproduce the paper (paper values marked, the rest assumed).

    wire_length_um: whole wire, lying over both electrodes (assumed 10 µm; wires are up to 20 µm).
    contact_width_um: electrode zone under each wire end where sources act (paper: 1.5 µm); its inner
        edge is the contact line where the voltage is imposed (``boundary="contacts"``).
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
    source_coefficient_forward_um_per_V_s: alpha with the positive electrode on CsPbBr3 (paper 1.3e-5);
        the creation rate is r_c = alpha |E_0| per halide site (1/s).
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
            "wire_length_um",
            "contact_width_um",
            "lattice_constant_angstrom",
            "relative_permittivity",
            "temperature_K",
            "vacancy_fraction_br_rich",
            "vacancy_diffusivity_um2_per_s",
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
    values = {"barrier_eV": barrier_eV, "attempt_frequency_Hz": attempt_frequency_Hz, "temperature_K": temperature_K}
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


def onsager_coefficients(
    bromide_share: np.ndarray, chloride_jump_ratio: float, correlation_factor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


#: where the electrode voltages are imposed (``WireModel``/``simulate`` ``boundary``)
BOUNDARIES = ("contacts", "wire-ends")
#: electrode source laws (``WireModel``/``simulate`` ``sources``; module doc)
SOURCE_LAWS = ("electrochemical", "equilibrating")


class WireModel:
    """Discretised reduced ODE; state = [u, x_Br] per cell (interleaved) + the two source integrals.

    u = x_V / x_V,Br-rich (order-one vacancy variable); psi = e phi / kT is not a state: ``potential``
    solves the discrete Poisson equation exactly (pre-factorised banded Cholesky) at every call of
    ``rhs`` (1/s).  ``boundary="contacts"`` (the paper): phi imposed on the two contact-line faces,
    zero field at the wire ends; ``"wire-ends"``: phi imposed on the end faces (earlier variant).
    ``sources``: "electrochemical" (one-sided per electrode, default) or "equilibrating" (module doc).
    ``jacobian`` returns the sparse fixed-potential part F_y and keeps the sparse dF/dpsi for
    ``BorderedBDF``, which solves the exact Newton systems with Poisson as a sparse border.
    """

    def __init__(
        self,
        params: RectificationParameters,
        bias_V_per_um: float,
        grid_points: int,
        initial_x_br: np.ndarray | None,
        boundary: str = "contacts",
        sources: str = "electrochemical",
    ) -> None:
        p = params
        n = grid_points
        if boundary not in BOUNDARIES:
            raise ValueError(f"boundary = {boundary!r} is not one of {', '.join(BOUNDARIES)}")
        if sources not in SOURCE_LAWS:
            raise ValueError(f"sources = {sources!r} is not one of {', '.join(SOURCE_LAWS)}")
        self.params, self.n, self.boundary, self.source_law = p, n, boundary, sources
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
            initial_x_br = np.where(self.z < p.front_position_um, p.x_br_bromide_segment, p.x_br_chloride_segment)
        initial_x_br = np.asarray(initial_x_br, dtype=float)
        if initial_x_br.shape != (n,):
            raise ValueError(f"initial x_Br has shape {initial_x_br.shape}; give {n} values, one per cell")
        _check_profile("initial x_Br", initial_x_br)
        self.x_scale = p.vacancy_fraction_br_rich
        self.x_v0 = p.equilibrium_vacancy_fraction(initial_x_br)
        if np.any(initial_x_br + self.x_v0 >= 1):
            raise ValueError("initial x_Br + x_V >= 1 somewhere leaves negative chloride; lower x_Br")
        self.initial_x_br = initial_x_br
        self.u0 = self.x_v0 / self.x_scale
        nc = self.contact_cells
        self.source_cells = np.concatenate([np.arange(nc), np.arange(n - nc, n)])
        self.creation_rate_per_s = p.source_coefficient_um_per_V_s(bias_V_per_um) * abs(bias_V_per_um)
        # S_V = r_c [a (1 - x_V) - b (1 - x_eq)/x_eq x_V] per source cell (module doc): a switches
        # creation, b destruction on.  "equilibrating": a = b = 1 in both zones; "electrochemical": the
        # zone at the higher potential (CsPbBr3 end for bias > 0) only creates, the other only destroys.
        injecting = np.arange(nc) if bias_V_per_um >= 0 else np.arange(nc, 2 * nc)
        if sources == "equilibrating":
            self.creation_on = np.ones(2 * nc)
            self.destruction_on = np.ones(2 * nc)
        else:
            self.creation_on = np.zeros(2 * nc)
            self.creation_on[injecting] = 1.0
            self.destruction_on = 1.0 - self.creation_on
        self.kappa2 = p.inverse_debye_length_sq_per_um2 * self.x_scale
        self.diffusivity = p.vacancy_diffusivity_um2_per_s
        # Dirichlet faces (face j lies between cells j-1 and j) and their potentials (kT/e units)
        faces = (nc, n - nc) if boundary == "contacts" else (0, n)
        self.dirichlet_faces = faces
        self.dirichlet_z_um = (faces[0] * self.dz, faces[1] * self.dz)
        half_drop = 0.5 * bias_V_per_um * (faces[1] - faces[0]) * self.dz / p.thermal_voltage_V
        self.psi_contacts = (half_drop, -half_drop)
        self._build_poisson()
        self._build_jacobian_pattern()

    # -- Poisson ----------------------------------------------------------------------------------
    def _build_poisson(self) -> None:
        """Finite-volume Laplacian A (n x n, symmetric negative definite) with psi imposed on the
        Dirichlet faces (half-cell distance), zero flux elsewhere at the ends; A psi + b_D = -dz² k² (u - u0)."""
        n = self.n
        coupling = np.ones(n + 1)  # coupling across face j; the end faces never couple
        coupling[[0, n]] = 0.0
        dirichlet = np.zeros(n + 1)
        boundary_term = np.zeros(n)
        for face, psi_d in zip(self.dirichlet_faces, self.psi_contacts):
            coupling[face] = 0.0
            dirichlet[face] = 2.0
            for cell in (face - 1, face):
                if 0 <= cell < n:
                    boundary_term[cell] += 2.0 * psi_d
        self.poisson_diag = -(coupling[:-1] + coupling[1:] + dirichlet[:-1] + dirichlet[1:])
        self.poisson_off = coupling[1:-1]
        self.poisson_boundary = boundary_term
        upper = np.zeros((2, n))  # -A in upper banded storage for the Cholesky factor
        upper[0, 1:] = -self.poisson_off
        upper[1] = -self.poisson_diag
        self._poisson_factor = cholesky_banded(upper)
        self.poisson_matrix = sparse.diags(
            [self.poisson_off, self.poisson_diag, self.poisson_off], [-1, 0, 1], format="csc"
        )

    def potential(self, y: np.ndarray) -> np.ndarray:
        """psi = e phi / kT per cell for state y: the exact discrete Poisson solution."""
        u = y[: 2 * self.n : 2]
        source = self.dz**2 * self.kappa2 * (u - self.u0) + self.poisson_boundary
        return cho_solve_banded((self._poisson_factor, False), source)

    # -- state layout ---------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return 2 * self.n + 2

    def initial_state(self) -> np.ndarray:
        y = np.zeros(self.size)
        y[: 2 * self.n : 2] = self.u0
        y[1 : 2 * self.n : 2] = self.initial_x_br
        return y

    def unpack(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x_V, x_Br, psi) per cell."""
        return y[: 2 * self.n : 2] * self.x_scale, y[1 : 2 * self.n : 2], self.potential(y)

    # -- physics --------------------------------------------------------------------------------
    def sources(self, x_v: np.ndarray, x_br: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(S_V, S_Br) in the electrode cells (1/s): S_V = r_c [a (1 - x_V) - b (1 - x_eq)/x_eq x_V]."""
        cells = self.source_cells
        xv, xbr = x_v[cells], x_br[cells]
        share = xbr / np.maximum(1.0 - xv, 1e-300)
        x_eq = self.params.equilibrium_vacancy_fraction(share)
        r_c = self.creation_rate_per_s
        s_v = r_c * (self.creation_on * (1.0 - xv) - self.destruction_on * (1.0 - x_eq) / x_eq * xv)
        return s_v, -share * s_v

    def _rhs_at(self, y: np.ndarray, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dy/dt, S_V, S_Br) at the potential psi (not necessarily the Poisson solution of y)."""
        p, n, dz = self.params, self.n, self.dz
        x_v = y[: 2 * n : 2] * self.x_scale
        x_br = y[1 : 2 * n : 2]
        x_cl = 1.0 - x_br - x_v
        tiny = 1e-12
        log_br = np.log(np.maximum(x_br, tiny))
        log_cl = np.log(np.maximum(x_cl, tiny))
        share = x_br / np.maximum(x_br + x_cl, tiny)
        l_bb, l_bc, l_cc = onsager_coefficients(
            0.5 * (share[1:] + share[:-1]), p.chloride_jump_ratio, p.correlation_factor
        )
        d_psi = np.diff(psi)
        scale = self.diffusivity / dz
        # g_b = dx_V/dz + x_V d(psi - ln x_b)/dz at interior faces, Scharfetter-Gummel
        d_br = d_psi - np.diff(log_br)
        d_cl = d_psi - np.diff(log_cl)
        g_br = scale * (_bernoulli(-d_br) * x_v[1:] - _bernoulli(d_br) * x_v[:-1])
        g_cl = scale * (_bernoulli(-d_cl) * x_v[1:] - _bernoulli(d_cl) * x_v[:-1])
        flux_br = np.zeros(n + 1)  # no flow through the wire ends
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
        out = np.empty(self.size)
        out[: 2 * n : 2] = dx_v / self.x_scale
        out[1 : 2 * n : 2] = dx_br
        out[2 * n] = s_br.sum() * dz
        out[2 * n + 1] = s_v.sum() * dz
        return out, s_v, s_br

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        return self._rhs_at(y, self.potential(y))[0]

    # -- Jacobian -------------------------------------------------------------------------------
    def _build_jacobian_pattern(self) -> None:
        """Non-zeros of F_y = df/dy|psi (neighbour cells, source cells into the two integrals) and
        of F_psi = df/dpsi|y (neighbour cells)."""
        n, idx = self.n, np.arange(self.n)
        rows, cols, prow, pcol = [], [], [], []
        for shift in (-1, 0, 1):
            i = idx[(idx + shift >= 0) & (idx + shift < n)]
            j = i + shift
            for row_var in (0, 1):
                for col_var in (0, 1):
                    rows.append(2 * i + row_var)
                    cols.append(2 * j + col_var)
                prow.append(2 * i + row_var)
                pcol.append(j)
        self._rows, self._cols = np.concatenate(rows), np.concatenate(cols)
        self._prows, self._pcols = np.concatenate(prow), np.concatenate(pcol)
        cell, variable = np.divmod(self._cols, 2)
        self._group = 2 * (cell % 3) + variable
        self._pgroup = self._pcols % 3
        # the Newton border: Poisson rows  A w + dz² k² d_u = 0
        coupling = sparse.csc_matrix((np.full(n, self.dz**2 * self.kappa2), (idx, 2 * idx)), shape=(n, self.size))
        self._border_bottom = sparse.hstack([coupling, self.poisson_matrix], format="csc")
        self._F_psi = None
        self._diag_ref = (0, 1.0)
        self.newton_factorizations = 0

    def _derivatives(self, y: np.ndarray) -> tuple[sparse.csc_matrix, sparse.csc_matrix]:
        """(F_y, F_psi) by grouped finite differences: 6 calls for F_y (cells three apart share a
        perturbation; the source integrals use the per-cell source changes) and 3 for F_psi."""
        n, n2 = self.n, 2 * self.n
        psi = self.potential(y)
        f0, sv0, sbr0 = self._rhs_at(y, psi)
        step = 1.5e-8 * np.maximum(np.abs(y[:n2]), np.tile(JACOBIAN_STEP_FLOOR[:2], n))
        changes = np.empty((6, self.size))
        src_changes = np.zeros((2, n2))  # d(S_Br dz), d(S_V dz) per state column
        src_cols = np.concatenate([2 * self.source_cells, 2 * self.source_cells + 1])
        for group in range(6):
            perturbed = y.copy()
            columns = 2 * np.arange(group // 2, n, 3) + group % 2
            perturbed[columns] += step[columns]
            f1, sv1, sbr1 = self._rhs_at(perturbed, psi)
            changes[group] = f1 - f0
            mine = self.source_cells % 3 == group // 2
            cols = 2 * self.source_cells[mine] + group % 2
            src_changes[0, cols] = (sbr1 - sbr0)[mine] * self.dz / step[cols]
            src_changes[1, cols] = (sv1 - sv0)[mine] * self.dz / step[cols]
        data = changes[self._group, self._rows] / step[self._cols]
        rows = np.concatenate([self._rows, np.full(src_cols.size, n2), np.full(src_cols.size, n2 + 1)])
        cols = np.concatenate([self._cols, src_cols, src_cols])
        data = np.concatenate([data, src_changes[0, src_cols], src_changes[1, src_cols]])
        f_y = sparse.csc_matrix((data, (rows, cols)), shape=(self.size, self.size))
        psi_step = 1.5e-8 * np.maximum(np.abs(psi), JACOBIAN_STEP_FLOOR[2])
        pchanges = np.empty((3, self.size))
        for group in range(3):
            shifted = psi.copy()
            shifted[group::3] += psi_step[group::3]
            pchanges[group] = self._rhs_at(y, shifted)[0] - f0
        pdata = pchanges[self._pgroup, self._prows] / psi_step[self._pcols]
        f_psi = sparse.csc_matrix((pdata, (self._prows, self._pcols)), shape=(self.size, n))
        return f_y, f_psi

    def jacobian(self, t: float, y: np.ndarray) -> sparse.csc_matrix:
        """F_y (sparse); F_psi is kept for ``newton_factor``.  The full Jacobian F_y + F_psi dpsi/dy
        is dense (``dense_jacobian``) because the Poisson solve couples every cell."""
        f_y, f_psi = self._derivatives(y)
        diagonal = f_y.diagonal()
        k = int(np.argmax(np.abs(diagonal)))
        self._F_psi, self._diag_ref = f_psi, (k, diagonal[k])
        return f_y

    def dense_jacobian(self, t: float, y: np.ndarray) -> np.ndarray:
        """Exact (finite-difference) Jacobian of ``rhs``: F_y + F_psi dpsi/dy (dense; for Radau/LSODA)."""
        f_y, f_psi = self._derivatives(y)
        n = self.n
        unit = np.zeros((n, n))
        unit[np.arange(n), np.arange(n)] = self.dz**2 * self.kappa2
        dpsi_du = cho_solve_banded((self._poisson_factor, False), unit)  # (-A)^-1 dz² k²
        full = f_y.toarray()
        full[:, : 2 * n : 2] += f_psi @ dpsi_du
        return full

    def newton_factor(self, newton_matrix: sparse.csc_matrix):
        """Sparse LU of the bordered Newton system [[I - c F_y, -c F_psi], [dz² k² P_u, A]], whose
        Schur complement is I - c (F_y + F_psi dpsi/dy) = I - c J with the exact dense J.  c is read
        back from the largest diagonal entry of F_y (newton_matrix = I - c F_y)."""
        k, f_kk = self._diag_ref
        c = (1.0 - newton_matrix[k, k]) / f_kk
        self.newton_factorizations += 1
        top = sparse.hstack([newton_matrix, -c * self._F_psi], format="csc")
        return splu(sparse.vstack([top, self._border_bottom], format="csc"))

    def newton_solve(self, factor, rhs: np.ndarray) -> np.ndarray:
        return factor.solve(np.concatenate([rhs, np.zeros(self.n)]))[: self.size]

    def budget_error(self, y0: np.ndarray, y1: np.ndarray) -> float:
        """|Delta N_Br - int S_Br| + |Delta N_V - int S_V| over the run, per halide site."""
        n = self.n
        d_br = (y1[1 : 2 * n : 2] - y0[1 : 2 * n : 2]).sum() * self.dz - (y1[2 * n] - y0[2 * n])
        d_v = (y1[: 2 * n : 2] - y0[: 2 * n : 2]).sum() * self.x_scale * self.dz - (y1[2 * n + 1] - y0[2 * n + 1])
        return float((abs(d_br) + abs(d_v)) / self.params.wire_length_um)


class BorderedBDF(BDF):
    """scipy's BDF whose Newton systems use the exact Jacobian through ``WireModel.newton_factor``
    (pass ``model=`` through ``solve_ivp``); ``jac`` must be ``model.jacobian``."""

    def __init__(self, fun, t0, y0, t_bound, model: WireModel | None = None, **options):
        super().__init__(fun, t0, y0, t_bound, **options)
        self.lu = model.newton_factor
        self.solve_lu = model.newton_solve


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
    boundary: str = "contacts",
    sources: str = "electrochemical",
) -> RectificationResult:
    """Bias the wire at ``bias_V_per_um`` (V/µm; > 0 forward = positive electrode on CsPbBr3) for
    ``hours`` (h) on ``grid_points`` cells; ``snapshots`` equally spaced profiles are kept.
    ``boundary``: "contacts" (the paper: voltages on the contact lines, zero field and no flow at the
    wire ends) or "wire-ends" (voltages on the wire ends).  ``sources``: "electrochemical" (the zone at
    the higher potential only creates vacancies, the other only destroys them) or "equilibrating" (both
    zones relax to x_V^eq); see the module doc.  ``method``: "BDF" (exact Newton systems
    through the sparse Poisson border, ``BorderedBDF``) or any other ``solve_ivp`` implicit method,
    which then gets the dense exact Jacobian (slow).  ``progress`` is called with the completed
    fraction of the run (0..1)."""
    params = params or RectificationParameters()
    for name, value in (("bias_V_per_um", bias_V_per_um), ("hours", hours)):
        if not math.isfinite(value):
            raise ValueError(f"{name} = {value} is not finite; give a number")
    if hours <= 0:
        raise ValueError(f"hours = {hours} must be > 0")
    if grid_points < 10:
        raise ValueError(f"grid_points = {grid_points} is too coarse; use at least 10")
    model = WireModel(params, bias_V_per_um, int(grid_points), initial_x_br, boundary, sources)
    t_end = hours * SECONDS_PER_HOUR
    times = np.linspace(0.0, t_end, max(int(snapshots), 2))

    fun = model.rhs if progress is None else _reporting(model.rhs, t_end, progress)
    y0 = model.initial_state()
    atol = np.empty(model.size)
    atol[: 2 * model.n : 2] = 1e-6
    atol[1 : 2 * model.n : 2] = 1e-9
    atol[2 * model.n :] = 1e-12
    if method == "BDF":
        options = {"method": BorderedBDF, "jac": model.jacobian, "model": model}
    else:
        options = {"method": method, "jac": model.dense_jacobian}
    start = time.perf_counter()
    solution = solve_ivp(fun, (0.0, t_end), y0, t_eval=times, rtol=rtol, atol=atol, **options)
    wall = time.perf_counter() - start
    if not solution.success:
        raise ValueError(
            f"integration failed ({solution.message}); the parameters are numerically unstable: "
            "check them or refine the grid"
        )
    if progress is not None:
        progress(1.0)
    states = solution.y.T
    unpacked = [model.unpack(y) for y in states]
    x_v = np.array([u[0] for u in unpacked])
    x_br = np.array([u[1] for u in unpacked])
    potential = np.array([u[2] for u in unpacked]) * params.thermal_voltage_V
    fronts = np.array([front_position_um(model.z, xb, params.front_composition) for xb in x_br])
    return RectificationResult(
        bias_V_per_um=float(bias_V_per_um),
        z_um=model.z,
        times_s=solution.t,
        x_br=x_br,
        x_v=x_v,
        potential_V=potential,
        front_um=fronts,
        halide_sites_relative_error=model.budget_error(states[0], states[-1]),
        wall_time_s=wall,
        stats={
            "nfev": int(solution.nfev),
            "njev": int(solution.njev),
            "nlu": int(solution.nlu) or model.newton_factorizations,
            "unknowns": model.size,
            "boundary": boundary,
            "sources": sources,
            "dirichlet_z_um": [float(z) for z in model.dirichlet_z_um],
        },
    )


def rectification_ratio(migration_forward_um: float, migration_reverse_um: float) -> float:
    """|L_forward| / |L_reverse| at equal and opposite bias (paper: ~20 at ±4 V/µm)."""
    if migration_reverse_um == 0:
        return math.inf
    return abs(migration_forward_um) / abs(migration_reverse_um)


def halide_mobility_cm2_per_V_s(biases_V_per_um: np.ndarray, migration_lengths_um: np.ndarray, hours: float) -> float:
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
