"""Thermal expansion in the quasi-harmonic approximation (phonopy ``PhonopyQHA``).

At each of ``len(strains)`` isotropically scaled volumes the internal coordinates (and, with
``relax_shape``, the cell shape at fixed volume) are relaxed, phonopy finite displacements give
the harmonic free energy on a mesh, and ``PhonopyQHA`` (Vinet EOS) minimises F(V, T). The
linear coefficient reported is one third of the volumetric one (isotropic estimate; an
orthorhombic crystal's axes differ). Forces come from any ASE calculator. Pure otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms


def _relaxed(atoms: Atoms, calculator, fmax_eV_per_A: float, relax_shape: bool, steps: int) -> Atoms:
    from ase.constraints import FixSymmetry
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    work = atoms.copy()
    work.calc = calculator
    work.set_constraint(FixSymmetry(work, symprec=1e-3))
    target = FrechetCellFilter(work, constant_volume=True) if relax_shape else work
    BFGS(target, logfile=None).run(fmax=fmax_eV_per_A, steps=steps)
    work.set_constraint()
    return work


def qha_thermal_expansion(
    atoms: Atoms,
    calculator,
    supercell: tuple[int, int, int] = (2, 2, 2),
    strains: tuple[float, ...] = (-0.02, -0.01, 0.0, 0.01, 0.02, 0.03),
    temperatures_K: np.ndarray | None = None,
    mesh: tuple[int, int, int] = (8, 8, 8),
    fmax_eV_per_A: float = 0.01,
    relax_shape: bool = True,
    max_steps: int = 200,
    displacement_A: float = 0.01,
) -> dict[str, Any]:
    """QHA of ``atoms`` with ``calculator``: volumes (Å^3 per cell), V(T), volumetric and linear
    thermal-expansion coefficients (1/K) at ``temperatures_K`` (default 0-500 K, 10 K steps),
    and the coefficients at 300 K. ``strains`` are linear (isotropic) strains of the cell."""
    from phonopy import Phonopy, PhonopyQHA
    from phonopy.structure.atoms import PhonopyAtoms

    temperatures_K = np.arange(0.0, 510.0, 10.0) if temperatures_K is None else np.asarray(temperatures_K)
    volumes, energies, free, entropy, heat = [], [], [], [], []
    imaginary = []
    for strain in strains:
        cell = atoms.copy()
        cell.set_cell(atoms.cell.array * (1.0 + strain), scale_atoms=True)
        cell = _relaxed(cell, calculator, fmax_eV_per_A, relax_shape, max_steps)
        cell.calc = calculator
        volumes.append(cell.get_volume())
        energies.append(cell.get_potential_energy())
        unit = PhonopyAtoms(
            symbols=cell.get_chemical_symbols(), cell=cell.cell.array, scaled_positions=cell.get_scaled_positions()
        )
        phonon = Phonopy(unit, supercell_matrix=np.diag(supercell))
        phonon.generate_displacements(distance=displacement_A)
        forces = []
        for displaced in phonon.supercells_with_displacements:
            image = Atoms(displaced.symbols, cell=displaced.cell, scaled_positions=displaced.scaled_positions, pbc=True)
            image.calc = calculator
            forces.append(image.get_forces())
        phonon.forces = np.array(forces)
        phonon.produce_force_constants()
        phonon.run_mesh(list(mesh), is_gamma_center=True)
        frequencies = phonon.mesh.frequencies
        imaginary.append(int((frequencies < -0.05).sum()))
        phonon.run_thermal_properties(temperatures=temperatures_K, exclude_gamma_acoustic=True)
        properties = phonon.get_thermal_properties_dict()
        free.append(properties["free_energy"])  # kJ/mol
        entropy.append(properties["entropy"])  # J/K/mol
        heat.append(properties["heat_capacity"])  # J/K/mol
    qha = PhonopyQHA(
        volumes=np.array(volumes),
        electronic_energies=np.array(energies),
        temperatures=temperatures_K,
        free_energy=np.array(free).T,
        cv=np.array(heat).T,
        entropy=np.array(entropy).T,
        eos="vinet",
        t_max=float(temperatures_K[-2]),
    )
    t = np.asarray(qha._qha._temperatures[: len(qha.thermal_expansion)])
    beta = np.asarray(qha.thermal_expansion)
    volume_T = np.asarray(qha.volume_temperature)[: len(t)]
    at_300 = float(np.interp(300.0, t, beta))
    return {
        "volumes_A3": [float(v) for v in volumes],
        "energies_eV": [float(e) for e in energies],
        "imaginary_mesh_modes": imaginary,
        "temperatures_K": t.tolist(),
        "volume_A3": volume_T.tolist(),
        "volumetric_expansion_per_K": beta.tolist(),
        "volumetric_expansion_300K_per_K": at_300,
        "linear_expansion_300K_per_K": at_300 / 3.0,
        "vibrational_free_energy_kJ_per_mol": np.array(free).tolist(),
        "supercell": list(supercell),
        "method": "phonopy PhonopyQHA (Vinet EOS), finite displacements "
        f"{displacement_A} A, mesh {'x'.join(map(str, mesh))}, linear = volumetric / 3",
    }
