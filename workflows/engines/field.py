"""A homogeneous electric field on any ASE calculator through Born effective charges.

``FieldCalculator`` wraps the calculator of any ``CalculatorEngine`` (CHGNet, SevenNet, GPAW):

    F_i = F_i(model) + e·Z*_iᵀ·E                     (eV/Å; E in V/Å, Z* in e)
    U   = U(model)  − Σ_i e·(Z*_iᵀ·E)·u_i            (eV)
    σ   = σ(model)  − sym(Σ_i F_field,i ⊗ u_i) / Ω   (ASE sign convention: σ = (1/Ω) ∂U/∂ε)

u_i = r_i − h·s_i⁰: displacement from the starting fractional positions s⁰ in the current cell
h, so a uniform strain creates no field energy and forces are exactly −∂U/∂r (optimizers and
MD stay consistent). Z*_{i,αβ} = ∂P_α/∂u_{iβ}·Ω/e (first index: field/polarization, second:
displacement), VASP's OUTCAR order. No ASE or MLIP package offers such a wrapper; it is written
here by hand.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.stress import full_3x3_to_voigt_6_stress, voigt_6_to_full_3x3_stress

from phasefire.analysis.polarization import born_charges_array
from phasefire.workflows.errors import PhasefireError


def field_vector_V_per_A(field_V_per_A: float, direction) -> np.ndarray:
    """The field vector (V/Å) of a signed magnitude along ``direction`` (Cartesian, normalised);
    a zero, NaN or infinite field or a zero direction is refused in one line."""
    if not np.isfinite(field_V_per_A) or field_V_per_A == 0:
        raise PhasefireError(f"field_V_per_A must be finite and non-zero, got {field_V_per_A}; e.g. 0.01 (V/Å)")
    direction = np.asarray(direction, dtype=float)
    if direction.shape != (3,) or not np.all(np.isfinite(direction)) or not np.linalg.norm(direction) > 0:
        raise PhasefireError(f"field direction must be 3 finite numbers, not all zero, got {direction.tolist()}")
    return field_V_per_A * direction / np.linalg.norm(direction)


class FieldCalculator(Calculator):
    """``calculator`` plus a homogeneous field ``field_V_per_A`` (3-vector, V/Å) acting on
    Born charges ``born_charges`` ((N, 3, 3), e) of the atoms of ``reference`` (start positions)."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, calculator: Calculator, born_charges, field_V_per_A, reference: Atoms) -> None:
        super().__init__()
        self.calculator = calculator
        self.born_charges = born_charges_array(born_charges, len(reference))
        self.field_V_per_A = np.asarray(field_V_per_A, dtype=float)
        self.field_forces_eV_per_A = np.einsum("iab,a->ib", self.born_charges, self.field_V_per_A)
        self.reference_scaled = reference.get_scaled_positions(wrap=False)

    def displacements_A(self, atoms: Atoms) -> np.ndarray:
        return atoms.positions - self.reference_scaled @ atoms.cell.array

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        wanted = ["energy", "forces"] + (["stress"] if "stress" in properties else [])
        self.calculator.calculate(self.atoms, wanted, system_changes)
        inner = self.calculator.results
        u = self.displacements_A(self.atoms)
        field_energy = -float(np.sum(self.field_forces_eV_per_A * u))
        energy = float(inner["energy"]) + field_energy
        self.results = {
            "energy": energy,
            "free_energy": float(inner.get("free_energy", inner["energy"])) + field_energy,
            "forces": np.asarray(inner["forces"]) + self.field_forces_eV_per_A,
            "field_energy": field_energy,
        }
        if "stress" in inner:
            virial = self.field_forces_eV_per_A.T @ u
            stress = -0.5 * (virial + virial.T) / self.atoms.get_volume()
            model = np.asarray(inner["stress"], dtype=float)  # Voigt 6 or 3x3, depending on the model
            full = (voigt_6_to_full_3x3_stress(model) if model.shape == (6,) else model) + stress
            self.results["stress"] = full_3x3_to_voigt_6_stress(full)
