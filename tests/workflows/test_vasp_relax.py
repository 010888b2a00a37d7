"""The VASP relaxation path, run through FireWorks and custodian with the stand-in executable
and real recorded VASP outputs (shared/reference/vasp/relax)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ase.io import read

from phasefire.workflows.database import ResultsDB
from phasefire.workflows.engines import load_engine
from phasefire.workflows.launchpad import open_launchpad
from phasefire.workflows.makers import CalculationMaker, calculation_workflow
from tests.conftest import REFERENCE, run_all

RELAX = REFERENCE / "vasp" / "relax"
ATOMATE_SI = RELAX / "atomate_Si_structure_optimization"
AIIDA = RELAX / "aiida_vasp_ionic_relax"

#: what the paper's settings must put in the INCAR (EDIFF = 1e-6 eV/atom x atoms)
PAPER_INCAR = {"ENCUT": 600, "EDIFFG": -0.01, "PREC": "Accurate", "ISMEAR": 0, "ISPIN": 1, "LREAL": False}


def submit_vasp_relax(atoms, label, **engine_params):
    engine = load_engine({"name": "vasp", "polling_time_step_s": 0.05, **engine_params}).spec()
    workflow = calculation_workflow({label: atoms}, engine, CalculationMaker("relax", {"max_steps": 99}))
    open_launchpad().add_wf(workflow)
    return workflow.name


def test_relaxation_writes_paper_inputs_and_stores_the_recorded_result(store, fake_vasp):
    atoms = read(ATOMATE_SI / "inputs" / "POSCAR")
    fake_vasp([{
        "reference": str(ATOMATE_SI / "outputs"),
        "expect_incar": {**PAPER_INCAR, "EDIFF": 2e-6, "IBRION": 2, "ISIF": 3, "NSW": 99},
        "expect_kpoints": [18, 18, 18],
        "expect_poscar": str(ATOMATE_SI / "inputs" / "POSCAR"),
    }])  # fmt: skip
    name = submit_vasp_relax(atoms, "si")
    assert run_all(store) == 1
    (doc,) = ResultsDB(open_launchpad()).query(workflow=name)
    assert doc["converged"] is True
    assert doc["n_steps"] == 3
    assert doc["output"]["energy_eV"] == pytest.approx(-10.84671647)
    assert doc["output"]["energy_per_atom_eV"] == pytest.approx(-10.84671647 / 2)
    assert doc["output"]["lattice"]["a_A"] == pytest.approx(3.8674, abs=1e-3)
    assert doc["versions"]["vasp"].startswith("5.4")
    assert Path(doc["run_dir"], "custodian.json").is_file()


def test_unconverged_first_stage_is_continued_by_custodian(store, fake_vasp):
    atoms = read(AIIDA / "calc-000" / "inp" / "POSCAR")
    fake_vasp([
        # first run: the recorded 5-step relaxation that stopped unconverged
        {"reference": str(AIIDA / "calc-000" / "out"), "expect_incar": {**PAPER_INCAR, "IBRION": 2},
         "expect_poscar": str(AIIDA / "calc-000" / "inp" / "POSCAR")},
        # custodian's UnconvergedErrorHandler must have copied CONTCAR to POSCAR and set IBRION = 1
        {"reference": str(AIIDA / "calc-001" / "out"), "expect_incar": {**PAPER_INCAR, "IBRION": 1},
         "expect_poscar": str(AIIDA / "calc-001" / "inp" / "POSCAR")},
    ])  # fmt: skip
    # the recorded aiida-vasp outputs have no OSZICAR, which custodian's file validator requires
    name = submit_vasp_relax(atoms, "si-aiida", require_output_files=False)
    assert run_all(store) == 1
    (doc,) = ResultsDB(open_launchpad()).query(workflow=name)
    assert doc["converged"] is True
    assert doc["output"]["energy_eV"] == pytest.approx(-1.99021689)
    assert doc["output"]["lattice"]["a_A"] == pytest.approx(3.3509, abs=1e-3)
    corrections = json.loads(Path(doc["run_dir"], "custodian.json").read_text())[0]["corrections"]
    assert [c["handler"]["@class"] for c in corrections] == ["UnconvergedErrorHandler"]


def test_wrong_inputs_are_rejected_by_the_standin(store, fake_vasp):
    atoms = read(ATOMATE_SI / "inputs" / "POSCAR")
    fake_vasp([{"reference": str(ATOMATE_SI / "outputs"), "expect_incar": {"ENCUT": 520}}])
    submit_vasp_relax(atoms, "si")
    run_all(store)
    states = {fw["state"] for fw in open_launchpad().fireworks.find({}, {"state": 1})}
    assert states == {"FIZZLED"}
    assert ResultsDB(open_launchpad()).query() == []


def test_submit_warns_when_this_machine_cannot_run_vasp(store, capsys, monkeypatch, tmp_path):
    from phasefire.workflows.cli import main

    monkeypatch.setenv("PHASEFIRE_VASP_CMD", "no-such-vasp")
    monkeypatch.setenv("PMG_VASP_PSP_DIR", str(tmp_path / "no-potcars"))
    assert main(["submit", "relax", "--structure", "cspbbr3-cubic", "--engine", "vasp"]) == 0
    err = capsys.readouterr().err
    assert "phasefire: warning: VASP executable not found: 'no-such-vasp'" in err
    assert "phasefire: warning: no POTCAR library found" in err


def test_submit_is_silent_when_vasp_and_potcars_are_here(store, capsys, fake_vasp):
    from phasefire.workflows.cli import main

    assert main(["submit", "relax", "--structure", "cspbbr3-cubic", "--engine", "vasp"]) == 0
    assert "warning" not in capsys.readouterr().err
