"""Relaxation under an electric field on an ML potential (CHGNet, the embedded default) through
the generic task: displacements follow the sign of the field; the field wrapper's forces are the
negative gradient of its energy (finite differences on an ASE Lennard-Jones calculator)."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.lj import LennardJones

from phasefire.workflows.database import ResultsDB
from phasefire.workflows.engines.field import FieldCalculator
from phasefire.workflows.errors import PhasefireError
from phasefire.workflows.field import build_slab, field_values, field_workflow
from phasefire.workflows.launchpad import open_launchpad
from tests.conftest import run_all


def test_field_wrapper_forces_and_stress_are_gradients_of_its_energy():
    atoms = bulk("NaCl", "rocksalt", a=5.5, cubic=True)
    reference = atoms.copy()
    atoms.rattle(0.05, seed=1)
    atoms.set_cell(atoms.cell * 1.01, scale_atoms=True)
    born = np.array([np.diag([1.1, 0.9, 1.0]) * (1 if n == 11 else -1) for n in atoms.numbers])
    calc = FieldCalculator(LennardJones(sigma=2.0, epsilon=0.01, rc=5.0), born, [0.02, -0.01, 0.05], reference)
    atoms.calc = calc
    forces = atoms.get_forces()
    step = 1e-4
    for i, a in [(0, 2), (3, 0), (5, 1)]:
        plus, minus = atoms.copy(), atoms.copy()
        plus.positions[i, a] += step
        minus.positions[i, a] -= step
        plus.calc = minus.calc = calc
        numeric = -(plus.get_potential_energy() - minus.get_potential_energy()) / (2 * step)
        assert forces[i, a] == pytest.approx(numeric, abs=1e-6)
    stress = atoms.get_stress(voigt=False)
    strain = np.zeros((3, 3))
    strain[2, 2] = 1e-5
    energies = []
    for sign in (1, -1):
        strained = atoms.copy()
        strained.set_cell(atoms.cell.array @ (np.eye(3) + sign * strain), scale_atoms=True)
        strained.calc = calc
        energies.append(strained.get_potential_energy())
    assert stress[2, 2] == pytest.approx((energies[0] - energies[1]) / (2e-5 * atoms.get_volume()), rel=1e-4)
    # the field force itself: F = Z*ᵀE per atom
    assert calc.field_forces_eV_per_A[0] == pytest.approx(born[0].T @ [0.02, -0.01, 0.05])


def test_chgnet_relaxation_under_both_field_signs_through_the_generic_task(store):
    atoms = bulk("NaCl", "rocksalt", a=5.6, cubic=True)
    values = field_values([0.05])
    assert values == [0.05, -0.05]
    with pytest.warns(UserWarning, match="nominal oxidation-state charges"):
        workflow = field_workflow(atoms, "nacl", {"name": "mlip"}, values,
                                  {"field_direction": [0, 0, 1], "fmax_eV_per_A": 0.002, "max_steps": 200})  # fmt: skip
        open_launchpad().add_wf(workflow)
        assert run_all(store) == 2
    documents = {
        d["output"]["field_response"]["field_V_per_A"]: d for d in ResultsDB(open_launchpad()).query(task_type="field")
    }
    assert set(documents) == {0.05, -0.05}
    moves = {}
    for value, doc in documents.items():
        response = doc["output"]["field_response"]
        assert doc["converged"] is True
        assert response["born_source"] == "nominal oxidation states (Cl -1, Na +1)"
        assert "nominal oxidation-state charges" in doc["notes"][0]
        na = response["displacements_pm"]["Na"]["mean_displacement_along_direction_pm"]
        cl = response["displacements_pm"]["Cl"]["mean_displacement_along_direction_pm"]
        moves[value] = (na, cl)
        # cations follow the field, anions move against it; the polarization grows along E
        assert np.sign(na) == np.sign(value) and np.sign(cl) == -np.sign(value)
        assert response["induced_polarization_uC_cm2"][2] * value > 0
        assert response["field_energy_eV"] < 0
        assert response["strain"] is None
    # linear response: the two signs mirror each other
    assert moves[0.05][0] == pytest.approx(-moves[-0.05][0], rel=0.05)
    # independent: the harmonic estimate from CHGNet's own restoring force of the Na sublattice
    # shifted by 1 pm against Cl (F = -k d); at equilibrium k·(u_Na - u_Cl) = qE, u_Na = -u_Cl
    from phasefire.workflows.engines.mlip import MLIPEngine

    shifted = atoms.copy()
    shifted.positions[shifted.numbers == 11, 2] += 0.01
    shifted.calc = MLIPEngine().calculator()
    k = -shifted.get_forces()[shifted.numbers == 11, 2].mean() / 0.01  # eV/Å² per Na
    assert moves[0.05][0] == pytest.approx(100 * 0.05 / (2 * k), rel=0.15)


def test_bad_fields_and_slab_planes_are_refused():
    for bad in (0.0, float("nan"), float("inf")):
        with pytest.raises(PhasefireError, match="finite and non-zero"):
            field_values([bad])
    atoms = bulk("NaCl", "rocksalt", a=5.6, cubic=True)
    for plane in ((0, 0, 0), (0.5, 0, 1), (1, 0)):
        with pytest.raises(PhasefireError, match="is not a lattice plane"):
            build_slab(atoms, plane)
    slab = build_slab(atoms, (0, 0, 1), 8.0, 10.0)
    assert slab.cell.lengths()[2] > 18.0
    assert np.dot(np.cross(slab.cell[0], slab.cell[1]), slab.cell[2]) > 0


def test_cell_relaxation_under_field_reports_strain(tmp_path):
    from ase.calculators.emt import EMT
    from ase.spacegroup import crystal

    from phasefire.workflows.calculations.base import TaskContext
    from phasefire.workflows.calculations.field import FieldInputs, FieldRelax

    class EMTEngine:  # an ASE-calculator engine reduced to what the field driver asks of it
        name = "emt"

        def calculator(self):
            return EMT()

    atoms = crystal(["Au", "Cu"], [(0, 0, 0), (0, 0.5, 0.5)], spacegroup=221, cellpar=[3.75, 3.75, 3.75, 90, 90, 90])
    born = [(np.eye(3) * (-1.5 if s == "Au" else 0.5)).tolist() for s in atoms.get_chemical_symbols()]
    calculation = FieldRelax()
    settings = calculation.settings({"field_V_per_A": 0.2, "relax_cell": True, "born_charges_e": born,
                                     "fmax_eV_per_A": 0.002})  # fmt: skip
    result = calculation.run_with_calculator(EMTEngine(), FieldInputs(atoms), tmp_path, settings)
    context = TaskContext("aucu3", None, {"name": "emt"}, {}, str(tmp_path), 0.0)
    document = calculation.document(context, FieldInputs(atoms), result, settings)
    response = document.output.field_response
    assert response.born_source == "user" and document.notes == []
    assert response.displacements_pm["Cu"]["mean_displacement_along_direction_pm"] > 0
    assert response.displacements_pm["Au"]["mean_displacement_along_direction_pm"] < 0
    strain = np.array(response.strain)
    assert strain.shape == (3, 3) and np.abs(strain).max() > 0
    # independent: the strain of the relaxed cell from the two cells directly, E = (FᵀF - 1)/2
    deformation = np.linalg.solve(atoms.cell.array, result.atoms.cell.array).T
    assert strain == pytest.approx(0.5 * (deformation.T @ deformation - np.eye(3)), abs=1e-10)
