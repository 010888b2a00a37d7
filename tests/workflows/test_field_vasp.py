"""VASP routes of the polarization workflows with the stand-in executable and real recorded
outputs: DFPT Born charges (aiida-vasp's Zn3(PS4)2 LEPSILON run; pymatgen's SiC OUTCAR), the
Berry-phase point parser (pymatgen's BaTiO3 series), the field INCARs (PEAD bulk, sawtooth
slab), the gap check, and the field handler group on an OUTCAR carrying field lines."""

from __future__ import annotations

import gzip
import re
import shutil

import numpy as np
import pytest
from ase.build import bulk
from ase.io import read

from phasefire.workflows.calculations.field import FieldInputs
from phasefire.workflows.database import ResultsDB
from phasefire.workflows.engines import load_engine
from phasefire.workflows.errors import PhasefireError
from phasefire.workflows.field import born_workflow, build_slab, check_gap, field_workflow
from phasefire.workflows.launchpad import open_launchpad
from phasefire.workflows.makers import CalculationMaker
from tests.conftest import REFERENCE, run_all
from tests.fake_potcars import write_fake_potcar_library

LEPSILON = REFERENCE / "vasp" / "lepsilon"
ZPS = LEPSILON / "aiida_vasp_born_effective_charge"
POLAR = REFERENCE / "vasp" / "polarization" / "BTO_221_99_polarization" / "polar_polarization"


@pytest.fixture
def potcars(fake_vasp, tmp_path, monkeypatch):
    library = write_fake_potcar_library(tmp_path / "potcars-field", ["P", "S", "Zn", "Na", "Cl", "Ba", "Ti", "O", "Si"])
    monkeypatch.setenv("PMG_VASP_PSP_DIR", str(library))
    return fake_vasp


def test_dfpt_born_charges_of_the_recorded_run(store, potcars):
    atoms = read(ZPS / "POSCAR")
    potcars([{"reference": str(ZPS), "expect_incar": {"LEPSILON": True, "IBRION": 8, "LCALCEPS": False, "NSW": 1},
              "expect_poscar": str(ZPS / "POSCAR")}])  # fmt: skip
    engine = load_engine({"name": "vasp", "polling_time_step_s": 0.05, "require_output_files": False}).spec()
    workflow = born_workflow({"zps": atoms}, engine)
    open_launchpad().add_wf(workflow)
    assert run_all(store) == 1
    (doc,) = ResultsDB(open_launchpad()).query(task_type="born")
    out = doc["output"]
    assert out["metallic"] is False and out["band_gap_eV"] > 1.0
    born = np.array(out["born_charges_e"])
    assert born.shape == (26, 3, 3)
    # the recorded charges: P (first atom) and the Zn sites, and the sum rule holding as computed
    assert born[0, 0, 0] == pytest.approx(2.8053, abs=1e-4)
    assert born[0, 2, 2] == pytest.approx(3.0801, abs=1e-4)
    assert out["asr_enforced"] is False and out["asr_max_violation_e"] < 0.05
    assert np.allclose(out["dielectric_electronic"], np.diag([5.8941, 5.8941, 6.1718]), atol=1e-3)
    assert out["dielectric_static"] is None  # IBRION = -1 in the recorded run: no ionic part
    assert set(out["mean_born_charge_e"]) == {"P", "S", "Zn"}
    # independent: charge neutrality of the species means, weighted by their counts
    counts = {"P": 4, "S": 16, "Zn": 6}
    assert sum(counts[s] * q for s, q in out["mean_born_charge_e"].items()) == pytest.approx(0.0, abs=0.05)


def test_sic_dfpt_outcar_sum_rule_enforced_with_a_note(tmp_path):
    from phasefire.analysis.polarization import acoustic_sum_rule
    from phasefire.workflows.calculations.born import BornResult, BornSettings, born_output

    folder = tmp_path / "sic"
    folder.mkdir()
    shutil.copy(LEPSILON / "pymatgen" / "OUTCAR.lepsilon.gz", folder / "OUTCAR.gz")
    atoms = bulk("SiC", "zincblende", a=4.36)
    from pymatgen.io.vasp import Outcar

    outcar = Outcar(str(folder / "OUTCAR.gz"))
    outcar.read_lepsilon()
    outcar.read_lepsilon_ionic()
    result = BornResult(atoms, 0.0, np.zeros((2, 3)), None, True, 1, born_charges_e=np.array(outcar.born),
                        dielectric_electronic=np.array(outcar.dielectric_tensor),
                        dielectric_ionic=np.array(outcar.dielectric_ionic_tensor), band_gap_eV=1.4)  # fmt: skip
    output, notes = born_output(result, BornSettings(), atoms)
    assert output["asr_enforced"] is True and output["asr_max_violation_e"] == pytest.approx(0.1954, abs=1e-3)
    assert "acoustic sum rule violated by 0.195 e" in notes[0]
    assert np.abs(np.sum(output["born_charges_e"], axis=0)).max() < 1e-12
    assert born_output(result, BornSettings(), atoms)[0]["born_charges_e"] == output["born_charges_e"]
    assert acoustic_sum_rule(np.array(output["born_charges_e"])).enforced is False  # enforced once is enough
    assert output["dielectric_electronic"][0][0] == pytest.approx(3.7164, abs=1e-4)
    assert output["dielectric_static"][0][0] == pytest.approx(3.716432 + 0.001419, abs=1e-6)
    metal, notes = born_output(BornResult(atoms, 0.0, np.zeros((2, 3)), None, True, 1, band_gap_eV=0.0,
                                          born_charges_e=np.array(outcar.born)), BornSettings(), atoms)  # fmt: skip
    assert metal["metallic"] is True and metal["born_charges_e"] is None and "metallic" in notes[0]


def test_born_and_berry_refuse_an_ml_potential():
    for task_type, text in (("born", "born calculations need"), ("berry", "berry calculations need")):
        with pytest.raises(PhasefireError, match=f"{text}.*use --engine vasp"):
            CalculationMaker(task_type).check_engine({"name": "mlip"})


def test_berry_point_parser_on_the_recorded_polar_outcar(tmp_path):
    from phasefire.workflows.engines.vasp.parsing import read_dipoles_eA

    p_elec, p_ion = read_dipoles_eA(POLAR / "OUTCAR.gz")
    assert p_elec.shape == (3,) and np.isfinite(p_elec).all() and np.isfinite(p_ion).all()
    assert p_ion[2] == pytest.approx(-5.56684, abs=1e-5)  # VASP's printed ionic dipole (e·Å)


def test_field_incars_bulk_pead_and_slab_sawtooth():
    engine = load_engine({"name": "vasp"})
    atoms = bulk("NaCl", "rocksalt", a=5.6, cubic=True)
    maker = CalculationMaker("field", {"field_V_per_A": -0.02, "field_direction": [0, 0, 2]})
    incar = engine.input_set(maker.calculation, FieldInputs(atoms), maker.settings).incar
    assert incar["EFIELD_PEAD"] == [0.0, 0.0, -0.02] and incar["LCALCPOL"] is True
    assert incar["ISYM"] == 0 and incar["ISIF"] == 2 and "EFIELD" not in incar
    slab = build_slab(atoms, (1, 1, 0), 8.0, 12.0)
    maker = CalculationMaker("field", {"field_V_per_A": 0.05, "route": "slab"})
    incar = engine.input_set(maker.calculation, FieldInputs(slab), maker.settings).incar
    assert incar["EFIELD"] == 0.05 and incar["LDIPOL"] is True and incar["IDIPOL"] == 3
    assert "EFIELD_PEAD" not in incar and 0.3 < incar["DIPOL"][2] < 0.7
    with pytest.raises(PhasefireError, match="keeps its cell"):
        CalculationMaker("field", {"route": "slab", "relax_cell": True}).check_engine({"name": "vasp"})


def test_pead_refuses_a_metal_in_one_line():
    with pytest.raises(PhasefireError, match=r"Ag2Se is metallic at this level of theory \(band gap 0.000 eV"):
        check_gap(0.0, 0.1, "Ag2Se")
    check_gap(1.2, 0.1, "NaCl")


def test_vasp_bulk_field_workflow_reads_the_gap_first():
    atoms = bulk("NaCl", "rocksalt", a=5.6, cubic=True)
    workflow = field_workflow(atoms, "nacl", load_engine({"name": "vasp"}).spec(), [0.01, -0.01])
    names = [fw.name for fw in workflow.fws]
    assert names[0] == "static nacl gap" and len(names) == 3
    assert [t.__class__.__name__ for t in workflow.fws[1].tasks] == ["FieldGapCheckTask", "CalculationTask"]


def field_outcar(tmp_path):
    """An OUTCAR of a field run, built by hand: no public EFIELD_PEAD OUTCAR exists, so the real
    BaTiO3 polar LCALCPOL OUTCAR gets the INCAR echo and parameter lines VASP prints for
    EFIELD_PEAD and its electronic iterations repeated once per field direction, as a finite-field
    run prints them (what broke LargeSigmaHandler in custodian issue #360)."""
    with gzip.open(POLAR / "OUTCAR.gz", "rt") as handle:
        text = handle.read()
    text = text.replace("   LCALCPOL =", "   EFIELD_PEAD =  0.0000  0.0000  0.0100\n   LCALCPOL =", 1)
    first = text.index("Iteration")
    start = text.rfind("\n", 0, first) + 1
    end = text.index("aborting loop")
    block = text[start:end]
    assert re.search(r"Iteration\s+1\(\s*1\)", block)
    text = text[:start] + block * 3 + text[start:]
    path = tmp_path / "OUTCAR"
    path.write_text(text)
    return path


def test_field_handler_group_survives_an_outcar_with_field_lines(tmp_path):
    from custodian.vasp.handlers import LargeSigmaHandler
    from pymatgen.io.vasp import Incar, Poscar

    from phasefire.workflows.engines.vasp.running import field_handlers

    field_outcar(tmp_path)
    Incar(
        {"ISMEAR": 0, "SIGMA": 0.05, "EFIELD_PEAD": [0, 0, 0.01], "LCALCPOL": True, "IBRION": 2, "NSW": 10}
    ).write_file(str(tmp_path / "INCAR"))
    Poscar.from_file(str(POLAR / "POSCAR")).write_file(str(tmp_path / "POSCAR"))
    shutil.copy(tmp_path / "POSCAR", tmp_path / "CONTCAR")
    handlers = field_handlers()
    assert any(isinstance(h, LargeSigmaHandler) for h in handlers)
    sigma = next(h for h in handlers if isinstance(h, LargeSigmaHandler))
    # the handler reads four times the electronic iterations of one completed ionic step
    assert sigma.check(str(tmp_path)) is False
    # ... and really parsed them (custodian swallows parse errors and returns False): the entropy
    # per atom is set only when the iterations were matched to the completed ionic step
    assert sigma.entropy_per_atom < 1e-3
    for handler in handlers:
        if handler.is_monitor or type(handler).__name__ in ("LargeSigmaHandler", "UnconvergedErrorHandler"):
            try:
                handler.check(str(tmp_path))
            except FileNotFoundError:
                pass  # handlers that need vasp.out / vasprun.xml, absent here


class SeriesStore:
    """The results database the series step reads: the recorded BaTiO3 points as documents."""

    def __init__(self, folders):
        self.documents = {k: {"task_id": k, "run_dir": str(folder)} for k, folder in enumerate(folders)}
        self.updates = {}

    def get(self, task_id):
        return self.documents[task_id]

    def update_output(self, task_id, fields):
        self.updates[task_id] = fields


def test_berry_workflow_and_its_series_step_on_the_recorded_batio3_points(monkeypatch):
    import phasefire.workflows.field as field_module
    from phasefire.workflows.field import BerrySeriesTask, berry_slot, berry_workflow, interpolate_series
    from tests.analysis.test_polarization import SERIES

    nonpolar, polar = read(SERIES[0] / "POSCAR"), read(SERIES[-1] / "POSCAR")
    workflow = berry_workflow(nonpolar, polar, "bto", load_engine({"name": "vasp"}).spec(), n_images=8)
    assert len(workflow.fws) == 11 and workflow.fws[-1].name == "berry series bto"
    # pymatgen's interpolation reproduces the recorded images (interpolation_8 is the first image)
    images = interpolate_series(nonpolar, polar, 8)
    assert np.allclose(images[1].get_scaled_positions(), read(SERIES[1] / "POSCAR").get_scaled_positions(), atol=1e-4)
    maker = CalculationMaker("berry", {"point_index": 3})
    incar = load_engine({"name": "vasp"}).input_set(maker.calculation, images[3], maker.settings).incar
    assert incar["LCALCPOL"] is True and incar["NSW"] == 0 and incar["ISYM"] == 0
    store = SeriesStore(SERIES)
    monkeypatch.setattr(field_module, "results_db", lambda spec, launchpad=None: store)
    spec = {berry_slot(k): {"task_id": k} for k in range(len(SERIES))}
    BerrySeriesTask(n_points=len(SERIES)).run_task(spec)
    series = store.updates[len(SERIES) - 1]["series"]
    assert series["delta_polarization_norm_uC_cm2"] == pytest.approx(46.2888, abs=1e-3)


@pytest.mark.parametrize("min_gap_eV", [pytest.param(0.1, marks=pytest.mark.slow), 5.0])
def test_pead_workflow_reads_the_static_gap_then_runs_or_refuses(store, potcars, min_gap_eV):
    # both folders get the recorded Zn3(PS4)2 outputs (PBE gap ~2.6 eV); with a 5 eV threshold the
    # same gap counts as "metallic" and the field firework must stop in one line before VASP runs
    atoms = read(ZPS / "POSCAR")
    potcars([{"reference": str(ZPS), "expect_incar": {"ENCUT": 600}, "expect_poscar": str(ZPS / "POSCAR")}])
    engine = load_engine({"name": "vasp", "polling_time_step_s": 0.05, "require_output_files": False}).spec()
    workflow = field_workflow(atoms, "zps", engine, [0.01], {"min_band_gap_eV": min_gap_eV, "max_steps": 5})
    open_launchpad().add_wf(workflow)
    run_all(store)
    launchpad = open_launchpad()
    states = {fw["name"]: fw["state"] for fw in launchpad.fireworks.find({}, {"name": 1, "state": 1})}
    field_name = "field zps E=+0.01V_per_A"
    assert states["static zps gap"] == "COMPLETED"
    if min_gap_eV < 1:
        assert states[field_name] == "COMPLETED"
        (doc,) = ResultsDB(launchpad).query(task_type="field")
        assert doc["output"]["field_response"]["field_vector_V_per_A"] == pytest.approx([0, 0, 0.01])
        assert "nominal oxidation-state charges" in doc["notes"][0]
    else:
        assert states[field_name] == "FIZZLED"
        launch = launchpad.launches.find_one({"state": "FIZZLED"})
        message = launch["action"]["stored_data"]["_exception"]["_stacktrace"].strip().splitlines()[-1]
        assert "Zn3(PS4)2 is metallic at this level of theory (band gap 2." in message
