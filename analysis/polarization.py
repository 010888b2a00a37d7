"""Polarization: Berry-phase series (pymatgen), Born-charge polarization and field response.

- ``berry_phase_series``: a finished LCALCPOL series (non-polar reference, interpolated images,
  polar end point) through pymatgen's ``Polarization`` (same-branch choice, polarization
  quantum, spline smoothness); ΔP in µC/cm².
- ``born_polarization_uC_cm2``: P = (e/Ω) Σ_i Z*_i · u_i between any two structures of the same
  atoms (u: minimum-image displacement, Ω: the reference cell volume).
- ``acoustic_sum_rule``: Σ_i Z*_i = 0, enforced by subtracting the mean charge tensor.
- ``nominal_born_charges``: Z*_i = q_i·1 from pymatgen's oxidation-state guess.
- ``species_displacements_pm``: ionic displacements per species (pm) and along a direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms

from phasefire.workflows.errors import PhasefireError

#: 1 e/Å² in µC/cm² (1.602176634e-19 C / 1e-16 cm², x 1e6)
E_PER_A2_IN_UC_CM2 = 1602.176634

#: largest |Σ_i Z*_ij| (e) accepted as satisfying the acoustic sum rule before it is enforced
ASR_TOLERANCE_E = 0.05


def born_charges_array(born, n_atoms: int) -> np.ndarray:
    """Born charges as an (N, 3, 3) float array, or a one-line error naming the shape needed."""
    try:
        array = np.asarray(born, dtype=float)
    except (TypeError, ValueError):
        array = np.zeros(0)
    if array.shape != (n_atoms, 3, 3):
        raise PhasefireError(
            f"Born charges must be one 3x3 tensor per atom, shape ({n_atoms}, 3, 3), got {array.shape}; "
            "give them in the structure's atom order"
        )
    if not np.all(np.isfinite(array)):
        raise PhasefireError("Born charges contain NaN or inf; give finite tensors (e)")
    return array


@dataclass
class SumRule:
    """born_charges: (N, 3, 3) charges (e), enforced when violated; max_violation_e: max |Σ_i Z*_i|
    before enforcement; enforced: whether the mean tensor was subtracted."""

    born_charges: np.ndarray
    max_violation_e: float
    enforced: bool


def acoustic_sum_rule(born: np.ndarray, tolerance_e: float = ASR_TOLERANCE_E) -> SumRule:
    """Check Σ_i Z*_i = 0; beyond ``tolerance_e`` subtract the mean tensor from every atom
    (the simplest enforcement, as phonopy's and VASP's post-processing do)."""
    born = np.asarray(born, dtype=float)
    total = born.sum(axis=0)
    violation = float(np.abs(total).max())
    if violation <= tolerance_e:
        return SumRule(born, violation, False)
    return SumRule(born - total / len(born), violation, True)


def minimum_image_displacements_A(reference: Atoms, displaced: Atoms) -> np.ndarray:
    """u_i (Å): the change of fractional position, wrapped to the nearest image, in the displaced
    structure's cell (a homogeneous strain moves no atom: the field driver's convention)."""
    if len(reference) != len(displaced) or list(reference.numbers) != list(displaced.numbers):
        raise PhasefireError(
            f"structures differ in atoms ({reference.get_chemical_formula()} with {len(reference)} atoms vs "
            f"{displaced.get_chemical_formula()} with {len(displaced)}); give two structures of the same atoms in the same order"
        )
    fractional = displaced.get_scaled_positions(wrap=False) - reference.get_scaled_positions(wrap=False)
    fractional -= np.round(fractional)
    return fractional @ displaced.cell.array


def born_polarization_uC_cm2(reference: Atoms, displaced: Atoms, born) -> np.ndarray:
    """P = (e/Ω) Σ_i Z*_i · u_i (µC/cm², 3 components) of ``displaced`` relative to ``reference``
    (linear response: valid for displacements small against bond lengths)."""
    born = born_charges_array(born, len(reference))
    u = minimum_image_displacements_A(reference, displaced)
    dipole = np.einsum("iab,ib->a", born, u)  # e·Å
    return dipole / reference.get_volume() * E_PER_A2_IN_UC_CM2


def nominal_born_charges(atoms: Atoms) -> tuple[np.ndarray, dict[str, float]]:
    """Z*_i = q_i·1 from pymatgen's oxidation-state guess (``Composition.oxi_state_guesses``),
    and the charge per element used."""
    from pymatgen.core import Composition

    composition = Composition(atoms.get_chemical_formula())
    guesses = composition.oxi_state_guesses(max_sites=-1)
    if not guesses:
        raise PhasefireError(
            f"no charge-balanced oxidation states for {composition.reduced_formula}; give born_charges or run born first"
        )
    charges = {str(element): float(q) for element, q in guesses[0].items()}
    return np.array([np.eye(3) * charges[s] for s in atoms.get_chemical_symbols()]), charges


def species_displacements_pm(reference: Atoms, final: Atoms, direction=None) -> dict[str, dict[str, float]]:
    """Per species: mean |u| and, with ``direction``, the mean u along it (pm)."""
    u = minimum_image_displacements_A(reference, final) * 100.0
    symbols = np.array(reference.get_chemical_symbols())
    unit = None if direction is None else np.asarray(direction, float) / np.linalg.norm(direction)
    summary = {}
    for species in dict.fromkeys(symbols):
        mine = u[symbols == species]
        entry = {"mean_displacement_pm": float(np.linalg.norm(mine, axis=1).mean())}
        if unit is not None:
            entry["mean_displacement_along_direction_pm"] = float((mine @ unit).mean())
        summary[str(species)] = entry
    return summary


def strain_tensor(reference: Atoms, final: Atoms) -> np.ndarray:
    """Green-Lagrange strain of ``final``'s cell relative to ``reference``'s (pymatgen's
    ``Deformation``), dimensionless 3x3."""
    from pymatgen.analysis.elasticity.strain import Deformation

    deformation = np.linalg.solve(reference.cell.array, final.cell.array).T
    return np.asarray(Deformation(deformation).green_lagrange_strain)


# --- Berry phase -------------------------------------------------------------------------


@dataclass
class BerrySeries:
    """A Berry-phase series on one branch: polarization per point, ΔP (end minus start), the
    quantum of the polar end point (all µC/cm², Cartesian along a, b, c as pymatgen gives them),
    the spline residual and its largest jump (µC/cm²)."""

    polarization_uC_cm2: np.ndarray
    delta_polarization_uC_cm2: np.ndarray
    delta_polarization_norm_uC_cm2: float
    quantum_uC_cm2: np.ndarray
    smoothness_uC_cm2: np.ndarray
    max_jump_uC_cm2: np.ndarray
    smooth: bool

    def as_dict(self) -> dict:
        return {
            "n_points": len(self.polarization_uC_cm2),
            "polarization_uC_cm2": self.polarization_uC_cm2.tolist(),
            "delta_polarization_uC_cm2": self.delta_polarization_uC_cm2.tolist(),
            "delta_polarization_norm_uC_cm2": self.delta_polarization_norm_uC_cm2,
            "polarization_quantum_uC_cm2": self.quantum_uC_cm2.tolist(),
            "smoothness_uC_cm2": self.smoothness_uC_cm2.tolist(),
            "max_spline_jump_uC_cm2": self.max_jump_uC_cm2.tolist(),
            "smooth_branch": self.smooth,
        }


def read_berry_outcar(path: str | Path):
    """pymatgen's Outcar with ``p_elec`` / ``p_ion`` read, or a one-line error when the OUTCAR
    holds no Berry-phase (LCALCPOL) output."""
    from pymatgen.io.vasp import Outcar

    try:
        outcar = Outcar(str(path))
    except Exception as exc:
        raise PhasefireError(f"cannot parse {path} ({type(exc).__name__}); the run was cut short: rerun it") from None
    try:
        outcar.read_lcalcpol()
    except Exception:
        outcar.p_elec = None
    if getattr(outcar, "p_elec", None) is None or getattr(outcar, "p_ion", None) is None:
        raise PhasefireError(f"{path} has no Berry-phase polarization; run VASP with LCALCPOL = .TRUE.")
    return outcar


def check_series_order(structures) -> None:
    """Same atoms and lattice type along the series, and each point farther from the first than
    the one before (the non-polar reference first, the polar end point last)."""
    first = structures[0]
    for k, structure in enumerate(structures[1:], 1):
        if len(structure) != len(first) or [s.specie for s in structure] != [s.specie for s in first]:
            raise PhasefireError(
                f"point {k} ({structure.composition.reduced_formula}, {len(structure)} atoms) is not the same "
                f"structure as point 0 ({first.composition.reduced_formula}, {len(first)} atoms); "
                "give one interpolation series"
            )
    distances = []
    for structure in structures:
        delta = structure.frac_coords - first.frac_coords
        delta -= np.round(delta)
        distances.append(float(np.linalg.norm(delta @ first.lattice.matrix)))
    if any(b <= a for a, b in zip(distances, distances[1:])):
        raise PhasefireError(
            "the series is not in path order (distances from the first point: "
            + ", ".join(f"{d:.3f}" for d in distances)
            + " Å); give the non-polar reference first, then the images, then the polar structure"
        )


def berry_phase_series(outcars, structures) -> BerrySeries:
    """ΔP of a Berry-phase series with pymatgen's ``Polarization`` (ionic part from VASP's own
    p_ion; branch: ``get_same_branch_polarization_data``; quantum: ``get_lattice_quanta``)."""
    from pymatgen.analysis.ferroelectricity.polarization import Polarization

    if len(outcars) < 2:
        raise PhasefireError(f"a Berry-phase series needs at least 2 points (non-polar, polar), got {len(outcars)}")
    check_series_order(structures)
    polarization = Polarization.from_outcars_and_structures(outcars, structures, calc_ionic_from_zval=False)
    same_branch = np.asarray(polarization.get_same_branch_polarization_data(convert_to_muC_per_cm2=True))
    delta = same_branch[-1] - same_branch[0]
    quanta = np.asarray(polarization.get_lattice_quanta(convert_to_muC_per_cm2=True))[-1]
    if len(outcars) >= 4:  # pymatgen's spline needs 4 points
        smoothness = np.asarray(polarization.smoothness(), dtype=float)
        jumps = np.asarray(polarization.max_spline_jumps(), dtype=float)
    else:
        smoothness = jumps = np.full(3, np.nan)
    # smooth: no spline jump larger than a tenth of the quantum along any direction
    smooth = bool(np.all(np.nan_to_num(jumps) < 0.1 * quanta))
    return BerrySeries(same_branch, delta, float(np.linalg.norm(delta)), quanta, smoothness, jumps, smooth)


def read_berry_folders(folders) -> BerrySeries:
    """``berry_phase_series`` of run folders in path order, each with OUTCAR(.gz) and CONTCAR/POSCAR(.gz)."""
    from pymatgen.io.vasp import Poscar

    paths, structures = [], []
    for folder in map(Path, folders):
        outcar = _first_file(folder, ("OUTCAR",))
        structure_file = _first_file(folder, ("CONTCAR", "POSCAR"))
        if outcar is None or structure_file is None:
            raise PhasefireError(
                f"{folder} needs an OUTCAR(.gz) and a CONTCAR or POSCAR(.gz); give finished run folders"
            )
        paths.append(outcar)
        structures.append(Poscar.from_file(str(structure_file)).structure)
    check_series_order(structures)  # before the slow OUTCAR reads
    return berry_phase_series([read_berry_outcar(path) for path in paths], structures)


def _first_file(folder: Path, names) -> Path | None:
    for name in names:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file() and candidate.stat().st_size:
                return candidate
    return None
