"""Equation of state from (pressure, volume) data and the amorphous/crystal density crossover.

Third-order Birch–Murnaghan in P(V) form (F. Birch, Phys. Rev. 71, 809 (1947)):

    P(V) = 3B0/2 [x^7 − x^5] {1 + 3/4 (B0' − 4)(x² − 1)},   x = (V0/V)^(1/3)

fitted to pressure-vs-volume points by ``scipy.optimize.curve_fit`` (``ase.eos`` and
pymatgen's ``EOS`` fit E(V), which NPT/relaxation ladders under pressure do not give).
Volumes are per atom (Å³/atom), so for one composition "denser" means "smaller volume";
the crossover is the pressure where V_am(P) − V_cr(P) changes sign (the paper puts it near
16 GPa for a-Sb2Se3 vs Pnma, Fig. 4a), found with ``scipy.optimize.brentq`` on the fitted
curves inside the pressure range both data sets cover.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, curve_fit

from phasefire.workflows.errors import PhasefireError

#: ASE stress (eV/Å³) → GPa
EV_PER_A3_IN_GPA = 160.21766208


def birch_murnaghan_pressure(volume, v0: float, b0: float, b0_prime: float):
    """Third-order Birch–Murnaghan pressure (units of b0) at volume (units of v0)."""
    x = np.cbrt(v0 / np.asarray(volume, dtype=float))
    return 1.5 * b0 * (x**7 - x**5) * (1.0 + 0.75 * (b0_prime - 4.0) * (x * x - 1.0))


@dataclass(frozen=True)
class BirchMurnaghanFit:
    """V0 (Å³/atom), B0 (GPa), B0' with standard errors from the fit covariance; rms
    pressure residual (GPa); the fitted pressure range (GPa)."""

    v0: float
    b0: float
    b0_prime: float
    v0_error: float
    b0_error: float
    b0_prime_error: float
    rms_residual_GPa: float
    pressure_range_GPa: tuple[float, float]

    def pressure(self, volume):
        """P (GPa) at volume (Å³/atom)."""
        return birch_murnaghan_pressure(volume, self.v0, self.b0, self.b0_prime)

    def volume(self, pressure: float) -> float:
        """V (Å³/atom) at pressure (GPa): the smallest-volume root on a falling branch of P(V).

        P(V) is scanned over 0.3-1.3 V0 (a fit with an unusual B0' need not fall monotonically
        over all of it), then the bracketing interval is refined with brentq.
        """
        grid = np.linspace(0.3 * self.v0, 1.3 * self.v0, 2001)
        excess = self.pressure(grid) - pressure
        falling_crossings = np.flatnonzero((excess[:-1] * excess[1:] <= 0) & (excess[1:] < excess[:-1]))
        if not len(falling_crossings):
            raise PhasefireError(f"pressure {pressure:g} GPa is outside the fitted equation of state's reach")
        k = falling_crossings[0]
        return float(brentq(lambda v: self.pressure(v) - pressure, grid[k], grid[k + 1], xtol=1e-10))

    def to_dict(self) -> dict:
        return {
            "V0_per_atom_A3": self.v0,
            "B0_GPa": self.b0,
            "B0_prime": self.b0_prime,
            "V0_per_atom_error_A3": self.v0_error,
            "B0_error_GPa": self.b0_error,
            "B0_prime_error": self.b0_prime_error,
            "rms_residual_GPa": self.rms_residual_GPa,
            "pressure_range_GPa": list(self.pressure_range_GPa),
        }


def fit_birch_murnaghan(pressure_GPa, volume) -> BirchMurnaghanFit:
    """Fit P(V) (GPa, Å³/atom); needs at least 4 points with distinct volumes."""
    pressure_GPa = np.asarray(pressure_GPa, dtype=float)
    volume = np.asarray(volume, dtype=float)
    if pressure_GPa.shape != volume.shape or pressure_GPa.ndim != 1:
        raise PhasefireError("pressure and volume must be equal-length 1D series")
    if len(np.unique(volume)) < 4:
        raise PhasefireError(f"a Birch–Murnaghan fit needs at least 4 distinct volumes, got {len(np.unique(volume))}")
    if np.any(~np.isfinite(volume) | (volume <= 0)) or np.any(~np.isfinite(pressure_GPa)):
        raise PhasefireError("volumes must be positive and pressures finite")
    # start: V0 from a linear P(V) extrapolated to P = 0, B0 from its slope, B0' = 4
    slope, intercept = np.polyfit(volume, pressure_GPa, 1)
    v0_guess = -intercept / slope if slope < 0 else volume.max()
    b0_guess = max(-slope * v0_guess, 1.0)
    try:
        params, cov = curve_fit(
            birch_murnaghan_pressure, volume, pressure_GPa, p0=(v0_guess, b0_guess, 4.0), maxfev=20000
        )
    except RuntimeError as exc:
        raise PhasefireError(f"Birch–Murnaghan fit did not converge: {exc}") from None
    residual = pressure_GPa - birch_murnaghan_pressure(volume, *params)
    errors = np.sqrt(np.clip(np.diag(cov), 0.0, None)) if np.all(np.isfinite(cov)) else np.full(3, np.nan)
    return BirchMurnaghanFit(
        v0=float(params[0]),
        b0=float(params[1]),
        b0_prime=float(params[2]),
        v0_error=float(errors[0]),
        b0_error=float(errors[1]),
        b0_prime_error=float(errors[2]),
        rms_residual_GPa=float(np.sqrt(np.mean(residual**2))),
        pressure_range_GPa=(float(pressure_GPa.min()), float(pressure_GPa.max())),
    )


def density_crossover(
    amorphous: BirchMurnaghanFit,
    crystal: BirchMurnaghanFit,
    pressure_range_GPa: tuple[float, float] | None = None,
    samples: int = 400,
) -> float:
    """Pressure (GPa) where the amorphous volume per atom falls to the crystal's.

    Searched within ``pressure_range_GPa`` (default: the range both fits' data cover).
    Raises PhasefireError when V_am − V_cr keeps one sign over the range, saying which is denser.
    """
    if pressure_range_GPa is None:
        low = max(amorphous.pressure_range_GPa[0], crystal.pressure_range_GPa[0])
        high = min(amorphous.pressure_range_GPa[1], crystal.pressure_range_GPa[1])
    else:
        low, high = pressure_range_GPa
    if not high > low:
        raise PhasefireError(
            f"the amorphous and crystal pressure ranges do not overlap ({low:g} to {high:g} GPa); "
            "give data over a common range"
        )

    def difference(p: float) -> float:
        return amorphous.volume(p) - crystal.volume(p)

    grid = np.linspace(low, high, samples)
    values = np.array([difference(p) for p in grid])
    change = np.flatnonzero(np.sign(values[:-1]) != np.sign(values[1:]))
    if values[0] == 0:
        return float(grid[0])
    if change.size == 0:
        denser = "crystal" if values[0] > 0 else "amorphous phase"
        raise PhasefireError(
            f"amorphous and crystal volumes do not cross between {low:g} and {high:g} GPa "
            f"(the {denser} is denser throughout)"
        )
    k = int(change[0])
    return float(brentq(difference, grid[k], grid[k + 1], xtol=1e-8))
