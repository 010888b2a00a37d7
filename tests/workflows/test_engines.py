"""Engines: the MLIP calculators that ship their weights, and the VASP inputs the paper needs."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from phasefire.structures import build
from phasefire.workflows.calculations import get_calculation
from phasefire.workflows.calculations.relax import RelaxSettings
from phasefire.workflows.calculations.static import StaticSettings
from phasefire.workflows.engines import engine_names, load_engine
from phasefire.workflows.errors import PhasefireError


def test_registry_and_specs_round_trip():
    assert engine_names() == ["mlip", "vasp", "gpaw"]
    engine = load_engine({"name": "mlip", "model": "chgnet"}, {"mlip_device": "cpu", "mlip_threads": 1})
    assert engine.spec() == {
        "name": "mlip",
        "model": "chgnet",
        "checkpoint": None,
        "dispersion": "none",
        "device": None,
    }
    assert engine.mlip_threads == 1  # worker settings are applied but never stored in specs


@pytest.mark.parametrize("model", ["chgnet", "7net-0", "7net-l3i5", "7net-mf-0"])
def test_shipped_models_give_symmetric_forces_on_cubic_perovskite(model):
    if model != "chgnet" and importlib.util.find_spec("sevenn") is None:
        pytest.skip("SevenNet is an optional extra")
    atoms = build("cspbbr3-cubic")
    atoms.calc = load_engine({"name": "mlip", "model": model}).calculator()
    energy = atoms.get_potential_energy() / len(atoms)
    assert -4.5 < energy < -2.5  # eV/atom, PBE-like scale for CsPbBr3
    np.testing.assert_allclose(atoms.get_forces(), 0.0, atol=1e-4)  # every site is an inversion centre
    stress = atoms.get_stress(voigt=True)
    np.testing.assert_allclose(stress[:3], stress[0], rtol=1e-4)  # cubic: isotropic stress


def test_old_sevennet_specs_mean_7net_0():
    assert load_engine({"name": "mlip", "model": "sevennet"}).spec()["model"] == "7net-0"


def d3_alone(atoms):
    from dftd3.ase import DFTD3

    atoms = atoms.copy()
    atoms.calc = DFTD3(method="PBE", damping="d3bj")
    return atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()


def test_d3bj_is_added_to_energy_forces_and_stress():
    """The summed calculator equals the model alone plus simple-dftd3's calculator alone."""
    atoms = build("sb2se3-pnma")
    atoms.rattle(0.05, seed=1)
    plain, corrected = atoms.copy(), atoms.copy()
    plain.calc = load_engine({"name": "mlip", "model": "chgnet"}).calculator()
    corrected.calc = load_engine({"name": "mlip", "model": "chgnet", "dispersion": "d3bj"}).calculator()
    energy_d3, forces_d3, stress_d3 = d3_alone(atoms)
    assert -0.45 < energy_d3 / len(atoms) < -0.2  # eV/atom: D3(BJ) binding of a layered chalcogenide
    assert np.abs(forces_d3).max() > 1e-3  # the rattle gives D3 forces to add
    assert corrected.get_potential_energy() == pytest.approx(plain.get_potential_energy() + energy_d3, abs=1e-6)
    np.testing.assert_allclose(corrected.get_forces(), plain.get_forces() + forces_d3, atol=1e-6)
    np.testing.assert_allclose(corrected.get_stress(), plain.get_stress() + stress_d3, atol=1e-8)
    assert stress_d3[:3].max() > 0  # D3 attraction pulls the cell in: positive (tensile) ASE stress


def test_batched_energies_and_forces_include_d3():
    engine = load_engine({"name": "mlip", "model": "chgnet", "dispersion": "d3bj"})
    images = [build("cspbbr3-cubic") for _ in range(2)]
    images[1].rattle(0.03, seed=2)
    energies, forces = engine.energies_and_forces(images)
    for image, energy, force in zip(images, energies, forces):
        image.calc = engine.calculator()
        assert energy == pytest.approx(image.get_potential_energy(), abs=1e-4)
        np.testing.assert_allclose(force, image.get_forces(), atol=1e-4)


def test_unknown_model_and_device_are_rejected():
    with pytest.raises(PhasefireError, match="unknown dispersion 'd4'; choose one of none, d3bj"):
        load_engine({"name": "mlip", "dispersion": "d4"})
    with pytest.raises(PhasefireError, match="unknown MLIP model 'mace'"):
        load_engine({"name": "mlip", "model": "mace"})
    with pytest.raises(PhasefireError, match="'mlip_device': Input should be 'cpu' or 'cuda'"):
        load_engine({"name": "mlip"}, {"mlip_device": "tpu"})


def relax_inputs(engine, atoms, **settings):
    return engine.input_set(get_calculation("relax"), atoms, RelaxSettings(**settings))


def test_vasp_relax_inputs_follow_the_ag2se_paper():
    engine = load_engine({"name": "vasp"})
    atoms = build("ag2se-alpha")
    inputs = relax_inputs(engine, atoms, fmax_eV_per_A=0.01, relax_cell=True, max_steps=200)
    incar = inputs.incar
    assert incar["ENCUT"] == 600 and incar["EDIFFG"] == -0.01 and incar["ISIF"] == 3
    assert incar["EDIFF"] == pytest.approx(1e-6 * len(atoms))
    assert "EDIFF_PER_ATOM" not in incar  # not a VASP tag
    kpoints = inputs.kpoints
    assert tuple(kpoints.kpts[0]) == (14, 8, 7)  # 784 points: the 10x10x10 density spread by axis length
    n_kpoints = np.prod(kpoints.kpts[0])
    assert 700 < n_kpoints < 1100
    assert inputs.potcar_symbols == ["Ag", "Se"]
    assert inputs.potcar_functional == "PBE_54"
    fixed = relax_inputs(engine, atoms, fmax_eV_per_A=0.02, relax_cell=False, max_steps=50, keep_symmetry=False).incar
    assert (fixed["ISIF"], fixed["EDIFFG"], fixed["NSW"], fixed["ISYM"]) == (2, -0.02, 50, 0)
    overridden = relax_inputs(load_engine({"name": "vasp", "incar": {"ENCUT": 520}}), atoms, max_steps=10).incar
    assert overridden["ENCUT"] == 520


def test_vasp_static_elf_inputs_set_the_parallelisation_vasp_needs():
    engine = load_engine({"name": "vasp"})
    static = get_calculation("static")
    atoms = build("cspbbr3-cubic")
    plain = engine.input_set(static, atoms, StaticSettings()).incar
    assert (plain["NSW"], plain["IBRION"], plain["LELF"], plain["LCHARG"]) == (0, -1, False, False)
    assert "EDIFFG" not in plain and "ISIF" not in plain
    elf = engine.input_set(static, atoms, StaticSettings(write_elf=True, write_core_charge=True)).incar
    assert elf["LELF"] is True and elf["NPAR"] == 1 and elf["KPAR"] == 1 and "NCORE" not in elf
    assert elf["LAECHG"] is True and elf["LCHARG"] is True
    with pytest.raises(PhasefireError, match="drop incar NPAR=4"):
        load_engine({"name": "vasp", "incar": {"NPAR": 4}}).input_set(static, atoms, StaticSettings(write_elf=True))


def test_engines_refuse_what_they_cannot_run_at_submit_time():
    static = get_calculation("static")
    with pytest.raises(PhasefireError, match="engine mlip cannot write elf"):
        load_engine("mlip").check(static, StaticSettings(write_elf=True))
    load_engine("vasp").check(static, StaticSettings(write_elf=True))
    with pytest.raises(PhasefireError, match="potcar_functional 'PBE_99' is unknown"):
        load_engine({"name": "vasp", "potcar_functional": "PBE_99"})
    with pytest.raises(PhasefireError, match="'reciprocal_density': Input should be greater than 0"):
        load_engine({"name": "vasp", "reciprocal_density": -1})


@pytest.mark.parametrize(
    "incar, message",
    [
        ({"ENCUTT": 400}, "unknown INCAR tag ENCUTT; did you mean ENCUT?"),
        ({"ISMEAR": "gauss"}, "INCAR ISMEAR = 'gauss' is not a int"),
        ({"LELF": 1}, "INCAR LELF = 1 is not a bool"),
        ({"MAGMOM": "lots"}, "MAGMOM = 'lots': give one number per atom"),
    ],
)
def test_vasp_incar_is_checked_against_the_tags_vasp_knows(incar, message):
    with pytest.raises(PhasefireError, match=message) as error:
        load_engine({"name": "vasp", "incar": incar})
    assert "\n" not in str(error.value)


def test_vasp_incar_accepts_vasp_forms_and_checks_magmom_per_atom():
    engine = load_engine({"name": "vasp", "incar": {"encut": 520, "MAGMOM": "2*1.0 10*0", "LCLIMB": True}})
    assert engine.incar == {"ENCUT": 520, "MAGMOM": "2*1.0 10*0", "LCLIMB": True}
    engine.check_inputs(build("ag2se-alpha"))
    with pytest.raises(PhasefireError, match=r"incar.MAGMOM has 2 values for 12 atoms"):
        load_engine({"name": "vasp", "incar": {"MAGMOM": [1, 2]}}).check_inputs(build("ag2se-alpha"))
