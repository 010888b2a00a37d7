"""Reaction-drift-diffusion-Poisson model of ionic rectification in a CsPbBr3-CsPbCl3 nanowire.

Kong, Obliger, ..., Limmer & Yang, "Solid-state ionic rectification in perovskite nanowire
heterostructures" (the perovskite paper, /work/shared/papers/001_a2633a2ea94fd90f.txt).  numpy/scipy
only; lengths in µm, time in s, potential in V, field in V/µm, energies in eV.

Equations (paper, main text)
----------------------------
Site fractions on the halide sublattice x_V, x_Br, x_Cl = 1 - x_Br - x_V (site conservation); bromide
share y = x_Br / (x_Br + x_Cl).  Along the wire coordinate z::

    dx_a/dt = -dJ_a/dz + S_a  (a = Br, Cl),   dx_V/dt = +d(J_Br + J_Cl)/dz + S_V   (paper Eq. 1 with
    J_a = sum_b L_ab (X_b - X_V - e E)                                            the opposite flux sign)
    X_b = -kT d ln x_b/dz,   X_V = -d mu_V/dz,   mu_V = kT ln x_V + E_f(y)
    eps d2phi/dz2 = -rho,  rho = e c_s (x_V - x_V^eq(z, 0)),  eps = 25 eps0,  c_s = 3/a^3,  a = 5.8 Å

E_f(y) = y E_f,Br + (1 - y) E_f,Cl interpolates the vacancy formation free energy between pure
CsPbBr3 (1.32 eV) and CsPbCl3 (1.44 eV) (paper, its ref. 21).  It sits in the vacancy chemical
potential, so the equilibrium (J = 0, E = 0) vacancy fraction is
x_V^eq(y) = x_V,Br-rich exp(-(E_f(y) - E_f,Br)/kT) and the initial step of x_V^eq across the front is
held by chemistry, not by space charge.  (Its Gibbs-Duhem partner in the halide chemical potentials
is of order x_V E_f ~ 1e-7 eV and is left out.)  The absolute level x_V,Br-rich = 1e-7 is the
paper's "typical halide vacancy concentrations ~1e-7"; the fixed background x_V^eq(z, 0) stands for
the immobile cation vacancies.

Onsager coefficients: Moleko, Allnatt & Allnatt, Phil. Mag. A 59, 141 (1989), self-consistent
random-alloy form for vacancy-mediated interdiffusion (paper's ref. 32; the supplement with the
paper's own expressions is not in the file).  With c_a = x_a/(x_Br + x_Cl), vacancy exchange
frequencies w_a, omega_a = w_a/w_Br and M0 = 2 f0/(1 - f0) (f0: tracer correlation factor)::

    kT L_ab = x_V D_V l_ab,   D_V = z w_Br lambda^2 / 6   (vacancy diffusivity in CsPbBr3, µm²/s)
    l_ab = c_a omega_a f_a delta_ab + 2 (c_a omega_a f_a)(c_b omega_b f_b) / (M0 sum_k c_k omega_k f_k)
    f_a = M0 H / (2 omega_a + M0 H),   sum_k c_k omega_k / (2 omega_k + M0 H) = 1/(M0 + 2)

so that J_a = D_V sum_b l_ab g_b with g_b = dx_V/dz + x_V d(psi + E_f/kT - ln x_b)/dz, psi = e phi/kT.
For omega = 1 the interdiffusion coefficient is exactly f0 D_V x_V (the erf test).

Electrode sources (paper: S_V = r_c (1 - x_V) - r_d x_V, "linearized reversible reactions at the
electrode that depend on the local halide composition and electric field"; the supplement with the
paper's rate laws is not in the file, so the law below is ours).  Only in the two electrode zones
(width w = 1.5 µm, the wire ends lying on the electrodes); a created (destroyed) vacancy removes
(inserts) a halide with the local Br:Cl ratio, S_a = -S_V x_a/(x_Br + x_Cl).

``sources="formation-energy"`` (default; one rate constant k, µm V^-1 s^-1, fitted at +2 V/µm)::

    both zones:                 r_c = k |E_0| exp(-(E_f(y) - E_f,Br)/kT)   (creation costs E_f(y))
    zone at the lower potential r_d = k |E_0| / x_V,Br-rich               (positive vacancies are
                                                                          filled at the negative one)

  The negative electrode thus relaxes to local equilibrium (r_c/r_d = x_V^eq(y)); the positive one
  (the paper's "cathode" that injects) only creates.  The same law injects exp(0.12 eV y_Cl/kT) = 57
  times fewer vacancies at a Cl-rich (x_Br = 0.11) zone than at a Br-rich one: under reverse bias the
  injecting zone sits on CsPbCl3, so the asymmetry comes from the formation energies.
``sources="caption-alpha"`` (the earlier law, for comparison): the positive zone creates at
  r_c = alpha |E_0| with alpha = 1.3e-5 (forward) or 3.8e-7 (reverse) µm V^-1 s^-1 imposed from the
  Fig. 3 caption, the negative one destroys at r_d = r_c (1 - x_V^eq)/x_V^eq.
``sources="none"``: no electrode reactions (Fig. 3 dashed lines; paper Fig. S10).

Geometry and boundary conditions (paper: "No flow and zero electric field boundary conditions are
enforced. Voltage values are imposed at the contact lines between the wire and the electrodes.")
The wire [0, L] lies over both electrodes: zones [0, w] (CsPbBr3 end) and [L - w, L] (CsPbCl3 end),
the front in the gap.  ``boundary="contacts"`` (the paper): no flux and dphi/dz = 0 at the wire ends,
phi = +-E_0 (L - 2w)/2 on the contact lines z = w and L - w (interior Dirichlet faces), so the mean
field in the gap is E_0; bias > 0 (forward) puts the positive potential on CsPbBr3.
``boundary="wire-ends"`` (variant) imposes +-E_0 L/2 on the wire ends instead.

Numerics: finite volumes on N cells (contact lines on faces); Scharfetter-Gummel fluxes with the
effective potential psi + E_f/kT - ln x_b (exact for exponential profiles, positivity preserving);
Poisson solved exactly at every right-hand side (pre-factorised banded Cholesky), so the ODE is in
u = x_V/x_V,Br-rich and x_Br (2N + 2 unknowns).  Its Jacobian J = F_y + F_psi dpsi/dy is dense, but
F_y and F_psi are banded (grouped finite differences); ``BorderedBDF`` (scipy's BDF with its LU hooks
replaced) factorises the sparse bordered system [[I - c F_y, -c F_psi], [dz² kappa² P_u, A]] whose
Schur complement is exactly I - c J.  Two source integrals are extra states so the halide budget is
checked to round-off (``halide_sites_relative_error``).

Results and the comparison with the paper: ``phasefire.models.rectification_study`` and
``phasefire model rectification --sweep``.
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

from phasefire.analysis.transport import HopKind, diffusion_coefficient_cm2_per_s, hop_rate_per_s
from phasefire.workflows.errors import PhasefireError

BOLTZMANN_eV_per_K = 8.617333262e-5
ELEMENTARY_CHARGE_C = 1.602176634e-19
VACUUM_PERMITTIVITY_F_per_m = 8.8541878128e-12
SECONDS_PER_HOUR = 3600.0
UM2_TO_CM2 = 1e-8
CM2_TO_UM2 = 1e8
#: plausible range of a halide-vacancy formation energy (eV); outside it the unit is wrong (meV, J)
FORMATION_ENERGY_RANGE_eV = (0.1, 10.0)

#: cells per Debye length (of the Br-rich equilibrium vacancies) the grid must have: coarser grids
#: cannot follow the depletion layers under reverse bias (200 cells, dz = Debye length / 3: 440 Jacobians
#: and ~10x the run time of 250 cells)
CELLS_PER_DEBYE_LENGTH = 3.5

#: smallest finite-difference step scale for (u, x_Br, psi) in the Jacobian
JACOBIAN_STEP_FLOOR = np.array([1e-3, 1e-3, 1e-2])

#: where the electrode voltages are imposed (``WireModel``/``simulate`` ``boundary``)
BOUNDARIES = ("contacts", "wire-ends")
#: electrode source laws (``WireModel``/``simulate`` ``sources``; module doc)
SOURCE_LAWS = ("formation-energy", "caption-alpha", "none")


@dataclass(frozen=True)
class RectificationParameters:
    """Model parameters; paper values marked, the rest assumed.

    wire_length_um: whole wire, lying over both electrodes (assumed 10 µm; wires are up to 20 µm).
    contact_width_um: electrode zone under each wire end where sources act (paper: 1.5 µm).
    front_position_um: initial Br/Cl step, from the CsPbBr3 end (assumed: middle).
    x_br_bromide_segment, x_br_chloride_segment: initial x_Br either side of the step (assumed; their
        mid-point is the paper's front composition 0.55).
    front_composition: x_Br defining the front (paper: 0.55).
    lattice_constant_angstrom: a, halide site density c_s = 3/a³ (paper: 5.8 Å).
    relative_permittivity: eps/eps0 (paper: 25).
    temperature_K: T (300 K).
    formation_energy_br_eV, formation_energy_cl_eV: vacancy formation energy in pure CsPbBr3 /
        CsPbCl3 (paper: 1.32 / 1.44 eV).
    vacancy_fraction_br_rich: x_V^eq in CsPbBr3 per halide site (paper: "~1e-7").
    vacancy_diffusivity_um2_per_s: D_V in CsPbBr3 (assumed 20 µm²/s = ``parameters_from_barrier(0.30)``).
    chloride_jump_ratio: w_Cl / w_Br (assumed 1: no Cl barrier given).
    correlation_factor: tracer correlation factor f0 (assumed simple cubic 0.6531).
    rate_constant_um_per_V_s: k of the "formation-energy" sources, r = k |E_0| per halide site (1/s);
        the default 1.19e-5 is ``rectification_study.fit_rate_constant`` at +2 V/µm, 4 h, 1000 cells
        (1.1875e-5; 1.229e-5 on 250 cells over 1 h).
    source_coefficient_forward_um_per_V_s, source_coefficient_reverse_um_per_V_s: the Fig. 3 caption's
        alpha (1.3e-5 / 3.8e-7), used only by ``sources="caption-alpha"``.
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
    rate_constant_um_per_V_s: float = 1.19e-5
    source_coefficient_forward_um_per_V_s: float = 1.3e-5
    source_coefficient_reverse_um_per_V_s: float = 3.8e-7

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not math.isfinite(value):
                raise PhasefireError(f"{item.name} = {value} is not finite; give a finite number")
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
                raise PhasefireError(f"{name} = {getattr(self, name)} must be > 0; give a positive value")
        for name in (
            "rate_constant_um_per_V_s",
            "source_coefficient_forward_um_per_V_s",
            "source_coefficient_reverse_um_per_V_s",
        ):
            if getattr(self, name) < 0:
                raise PhasefireError(f"{name} = {getattr(self, name)} is negative; vacancy rates must be >= 0")
        low, high = FORMATION_ENERGY_RANGE_eV
        for name in ("formation_energy_br_eV", "formation_energy_cl_eV"):
            value = getattr(self, name)
            if not low <= value <= high:
                raise PhasefireError(
                    f"{name} = {value:g} is outside {low:g}-{high:g} eV, the range of vacancy formation "
                    "energies; give it in eV (the paper: 1.32 Br, 1.44 Cl)"
                )
        for name in ("x_br_bromide_segment", "x_br_chloride_segment", "front_composition"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise PhasefireError(f"{name} = {value} is not a site fraction in (0, 1); give one")
        if not self.x_br_chloride_segment < self.front_composition < self.x_br_bromide_segment:
            raise PhasefireError(
                f"front_composition {self.front_composition} must lie between the segment compositions "
                f"{self.x_br_chloride_segment} and {self.x_br_bromide_segment}"
            )
        if self.vacancy_fraction_br_rich >= 1e-2:
            raise PhasefireError(
                f"vacancy_fraction_br_rich = {self.vacancy_fraction_br_rich} is not dilute; the "
                "Moleko-Allnatt coefficients need x_V < 1e-2"
            )
        if self.x_br_bromide_segment + self.vacancy_fraction_br_rich >= 1:
            raise PhasefireError("x_br_bromide_segment + vacancy fraction >= 1 leaves no chloride; lower x_br")
        if not 0 < self.correlation_factor < 1:
            raise PhasefireError(f"correlation_factor = {self.correlation_factor} must be in (0, 1)")
        if not 2 * self.contact_width_um < self.wire_length_um:
            raise PhasefireError("the two contact zones overlap; make contact_width_um < wire_length_um / 2")
        if not self.contact_width_um < self.front_position_um < self.wire_length_um - self.contact_width_um:
            raise PhasefireError("front_position_um must lie between the contact zones; move it into the gap")

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
        """Screening length sqrt(eps kT / (e² c_s x_V)) of the Br-rich equilibrium vacancies (µm)."""
        return 1.0 / math.sqrt(self.inverse_debye_length_sq_per_um2 * self.vacancy_fraction_br_rich)

    def formation_excess_over_kT(self, bromide_share: np.ndarray) -> np.ndarray:
        """(E_f(y) - E_f,Br)/kT with E_f linear in the bromide share y (dimensionless)."""
        excess_eV = (1.0 - bromide_share) * (self.formation_energy_cl_eV - self.formation_energy_br_eV)
        return excess_eV / self.thermal_voltage_V

    def equilibrium_vacancy_fraction(self, bromide_share: np.ndarray) -> np.ndarray:
        """x_V^eq(y) = x_V,Br-rich exp(-(E_f(y) - E_f,Br)/kT) per halide site."""
        return self.vacancy_fraction_br_rich * np.exp(-self.formation_excess_over_kT(bromide_share))

    def caption_alpha_um_per_V_s(self, bias_V_per_um: float) -> float:
        """The caption's alpha for this polarity (``sources="caption-alpha"`` only)."""
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

    D_V from ``phasefire.analysis.transport``: hop rate Gamma = nu exp(-Ea/kT) (``hop_rate_per_s``) and
    D = (1/6N) sum n Gamma lambda² (``diffusion_coefficient_cm2_per_s``) over the ``coordination``
    (8) halide neighbours at lambda = a/sqrt(2) of each of the N = 3 halide sites of the ABX3 cell, i.e.
    D_V = 8 Gamma lambda²/6.  chloride_barrier_eV, when given, sets the Cl/Br jump ratio
    Gamma_Cl/Gamma_Br.  Bad numbers raise PhasefireError.
    """
    base = RectificationParameters(temperature_K=temperature_K, **overrides)
    try:
        rate_br = hop_rate_per_s(barrier_eV, temperature_K, attempt_frequency_Hz)
        rate_cl = (
            None
            if chloride_barrier_eV is None
            else hop_rate_per_s(chloride_barrier_eV, temperature_K, attempt_frequency_Hz)
        )
    except ValueError as exc:
        raise PhasefireError(f"{exc}; give the NEB barrier in eV and the attempt frequency in Hz") from None
    hop_A = hop_distance_angstrom or base.lattice_constant_angstrom / math.sqrt(2.0)
    halide_sites = 3
    hop = HopKind(rate_br, rate_br, hop_A, directed_per_cell=coordination * halide_sites)
    updates = {"vacancy_diffusivity_um2_per_s": diffusion_coefficient_cm2_per_s([hop], halide_sites) * CM2_TO_UM2}
    if rate_cl is not None:
        updates["chloride_jump_ratio"] = rate_cl / rate_br
    return replace(base, **updates)


def onsager_coefficients(
    bromide_share: np.ndarray, chloride_jump_ratio: float, correlation_factor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduced Onsager coefficients (l_BrBr, l_BrCl, l_ClCl) of vacancy-mediated interdiffusion,
    kT L_ab = x_V D_V l_ab, after L. K. Moleko, A. R. Allnatt and E. L. Allnatt, Phil. Mag. A 59, 141
    (1989) (self-consistent random-alloy form, dilute vacancies)::

        l_ab = c_a w_a f_a delta_ab + 2 (c_a w_a f_a)(c_b w_b f_b) / (M0 sum_k c_k w_k f_k)
        f_a  = M0 H / (2 w_a + M0 H),   sum_k c_k w_k / (2 w_k + M0 H) = 1 / (M0 + 2),   M0 = 2 f0/(1 - f0)

    bromide_share: c_Br = x_Br/(x_Br + x_Cl); w_Br = 1, w_Cl = chloride_jump_ratio; correlation_factor:
    f0.  For w_Cl = w_Br: l_BrCl = (1 - f0) c_Br c_Cl and the interdiffusivity is f0 D_V x_V.
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
        raise PhasefireError(f"{name} contains non-finite values; give finite site fractions")
    if np.any(values < 0):
        raise PhasefireError(f"{name} has negative site fractions (min {values.min():.3g}); give values >= 0")


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
        """Signed front displacement after the whole run (µm): > 0 into the CsPbBr3 segment (the paper's
        migration length), < 0 towards CsPbCl3."""
        return float(self.front_um[0] - self.front_um[-1])


class WireModel:
    """Discretised reduced ODE; state = [u, x_Br] per cell (interleaved) + the two source integrals.

    u = x_V / x_V,Br-rich (order-one vacancy variable); psi = e phi / kT is not a state: ``potential``
    solves the discrete Poisson equation exactly (pre-factorised banded Cholesky) at every call of
    ``rhs`` (1/s).  ``boundary="contacts"`` (the paper): phi imposed on the two contact-line faces,
    zero field at the wire ends; ``"wire-ends"``: phi imposed on the end faces (earlier variant).
    ``sources``: one of ``SOURCE_LAWS`` (module doc).
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
        sources: str = "formation-energy",
    ) -> None:
        p = params
        n = grid_points
        if boundary not in BOUNDARIES:
            raise PhasefireError(f"boundary = {boundary!r} is not one of {', '.join(BOUNDARIES)}")
        if sources not in SOURCE_LAWS:
            raise PhasefireError(f"sources = {sources!r} is not one of {', '.join(SOURCE_LAWS)}")
        self.params, self.n, self.boundary, self.source_law = p, n, boundary, sources
        self.dz = p.wire_length_um / n
        self.z = (np.arange(n) + 0.5) * self.dz
        self.contact_cells = int(round(p.contact_width_um / self.dz))
        resolution_um = min(p.contact_width_um, p.debye_length_um / CELLS_PER_DEBYE_LENGTH)
        if self.dz > resolution_um * (1 + 1e-12):
            needed = int(math.ceil(p.wire_length_um / resolution_um))
            raise PhasefireError(
                f"grid of {n} cells (dz = {self.dz:.3g} µm) is too coarse for the Debye length "
                f"{p.debye_length_um:.3g} µm ({CELLS_PER_DEBYE_LENGTH} cells per Debye length needed); "
                f"use --grid {needed} or more"
            )
        if initial_x_br is None:
            initial_x_br = np.where(self.z < p.front_position_um, p.x_br_bromide_segment, p.x_br_chloride_segment)
        initial_x_br = np.asarray(initial_x_br, dtype=float)
        if initial_x_br.shape != (n,):
            raise PhasefireError(f"initial x_Br has shape {initial_x_br.shape}; give {n} values, one per cell")
        _check_profile("initial x_Br", initial_x_br)
        self.x_scale = p.vacancy_fraction_br_rich
        self.x_v0 = p.equilibrium_vacancy_fraction(initial_x_br)
        if np.any(initial_x_br + self.x_v0 >= 1):
            raise PhasefireError("initial x_Br + x_V >= 1 somewhere leaves negative chloride; lower x_Br")
        self.initial_x_br = initial_x_br
        self.u0 = self.x_v0 / self.x_scale
        nc = self.contact_cells
        self.source_cells = np.concatenate([np.arange(nc), np.arange(n - nc, n)])
        # S_V = r [a_e Theta(y) (1 - x_V) - b_e B(y) x_V] per source cell (module doc); a_e, b_e switch
        # creation and destruction on per zone.  The zone at the higher potential (CsPbBr3 end for
        # bias > 0) is the injecting one.
        injecting = np.zeros(2 * nc, dtype=bool)
        injecting[:nc] = bias_V_per_um >= 0
        injecting[nc:] = bias_V_per_um < 0
        if sources == "formation-energy":
            self.rate_per_s = p.rate_constant_um_per_V_s * abs(bias_V_per_um)
            self.creation_on = np.ones(2 * nc)
        elif sources == "caption-alpha":
            self.rate_per_s = p.caption_alpha_um_per_V_s(bias_V_per_um) * abs(bias_V_per_um)
            self.creation_on = injecting.astype(float)
        else:
            self.rate_per_s = 0.0
            self.creation_on = np.zeros(2 * nc)
        self.destruction_on = (~injecting).astype(float)
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
        """(S_V, S_Br) in the electrode cells (1/s), module doc.  "formation-energy":
        S_V = k|E0| [a exp(-(E_f(y) - E_f,Br)/kT) (1 - x_V) - b x_V / x_V,Br-rich]; "caption-alpha":
        S_V = alpha|E0| [a (1 - x_V) - b (1 - x_eq)/x_eq x_V]."""
        cells = self.source_cells
        xv, xbr = x_v[cells], x_br[cells]
        share = xbr / np.maximum(1.0 - xv, 1e-300)
        p = self.params
        if self.source_law == "formation-energy":
            creation = np.exp(-p.formation_excess_over_kT(share))
            destruction = 1.0 / p.vacancy_fraction_br_rich
        else:
            x_eq = p.equilibrium_vacancy_fraction(share)
            creation = 1.0
            destruction = (1.0 - x_eq) / x_eq
        s_v = self.rate_per_s * (self.creation_on * creation * (1.0 - xv) - self.destruction_on * destruction * xv)
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
        # vacancy chemical potential mu_V = kT ln x_V + E_f(y): E_f/kT joins the effective potential
        formation = p.formation_excess_over_kT(np.clip(share, 0.0, 1.0))
        l_bb, l_bc, l_cc = onsager_coefficients(
            0.5 * (share[1:] + share[:-1]), p.chloride_jump_ratio, p.correlation_factor
        )
        d_psi = np.diff(psi) + np.diff(formation)
        scale = self.diffusivity / dz
        # g_b = dx_V/dz + x_V d(psi + E_f/kT - ln x_b)/dz at interior faces, Scharfetter-Gummel
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
        raise PhasefireError(f"no x_Br = {composition} front in the profile; check the initial compositions")
    i = crossings[0]
    weight = (x_br[i] - composition) / (x_br[i] - x_br[i + 1])
    return float(z_um[i] + weight * (z_um[i + 1] - z_um[i]))


def _front_or_nan(z_um: np.ndarray, x_br: np.ndarray, composition: float) -> float:
    """Front position, NaN for a profile without a front (uniform composition, e.g. the Debye test)."""
    try:
        return front_position_um(z_um, x_br, composition)
    except PhasefireError:
        return math.nan


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
    method: str = "bordered-BDF",
    rtol: float = 1e-6,
    progress: Callable[[float], None] | None = None,
    boundary: str = "contacts",
    sources: str = "formation-energy",
) -> RectificationResult:
    """Bias the wire at ``bias_V_per_um`` (V/µm; > 0 forward = positive electrode on CsPbBr3) for
    ``hours`` (h) on ``grid_points`` cells; ``snapshots`` equally spaced profiles are kept.
    ``boundary``: "contacts" (the paper: voltages on the contact lines, zero field and no flow at the
    wire ends) or "wire-ends" (voltages on the wire ends).  ``sources``: "formation-energy" (default),
    "caption-alpha" or "none" (module doc).  bias 0 is the unbiased interdiffusion run.  ``method``:
    "bordered-BDF" (exact Newton systems through the sparse Poisson border, ``BorderedBDF``) or a
    ``solve_ivp`` implicit method ("BDF", "Radau", "LSODA") on the same semi-discretisation with the
    dense exact Jacobian (slow; the benchmark's references).  ``progress`` is called with the completed
    fraction of the run (0..1)."""
    params = params or RectificationParameters()
    for name, value in (("bias_V_per_um", bias_V_per_um), ("hours", hours)):
        if not math.isfinite(value):
            raise PhasefireError(f"{name} = {value} is not finite; give a number")
    if hours <= 0:
        raise PhasefireError(f"hours = {hours} must be > 0; give the biasing time in hours")
    if grid_points < 10:
        raise PhasefireError(f"grid_points = {grid_points} is too coarse; use at least 10")
    model = WireModel(params, bias_V_per_um, int(grid_points), initial_x_br, boundary, sources)
    t_end = hours * SECONDS_PER_HOUR
    times = np.linspace(0.0, t_end, max(int(snapshots), 2))

    fun = model.rhs if progress is None else _reporting(model.rhs, t_end, progress)
    y0 = model.initial_state()
    atol = np.empty(model.size)
    atol[: 2 * model.n : 2] = 1e-6
    atol[1 : 2 * model.n : 2] = 1e-9
    atol[2 * model.n :] = 1e-12
    if method == "bordered-BDF":
        options = {"method": BorderedBDF, "jac": model.jacobian, "model": model}
    else:
        options = {"method": method, "jac": model.dense_jacobian}
    start = time.perf_counter()
    solution = solve_ivp(fun, (0.0, t_end), y0, t_eval=times, rtol=rtol, atol=atol, **options)
    wall = time.perf_counter() - start
    if not solution.success:
        raise PhasefireError(
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
    fronts = np.array([_front_or_nan(model.z, xb, params.front_composition) for xb in x_br])
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
            "method": method,
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
