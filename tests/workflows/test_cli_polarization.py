"""``phasefire submit born|berry|field`` on the embedded store: the MLIP field route end to end
through the CLI, Born charges taken from a born document in the results database, and the
one-line errors of bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.io import write

from phasefire.workflows.cli import main
from phasefire.workflows.database import ResultsDB
from phasefire.workflows.field import field_workflow
from phasefire.workflows.launchpad import open_launchpad
from tests.conftest import run_all


@pytest.fixture
def nacl(tmp_path):
    path = tmp_path / "NaCl.vasp"
    write(path, bulk("NaCl", "rocksalt", a=5.6, cubic=True), format="vasp")
    return path


def one_line_error(capsys, *argv) -> str:
    assert main([*map(str, argv)]) == 1
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("phasefire: error: ")
    return lines[0]


def test_submit_field_mlip_runs_end_to_end_with_user_born_charges(store, capsys, nacl, tmp_path):
    numbers = bulk("NaCl", "rocksalt", a=5.6, cubic=True).numbers
    born = [(np.eye(3) * (1.2 if n == 11 else -1.2)).tolist() for n in numbers]
    (tmp_path / "born.json").write_text(json.dumps(born))
    argv = ["submit", "field", "--structure", nacl, "--field-V-per-A", "0.03", "--one-sign", "--field-direction", "1,0,0",
            "--born-charges", tmp_path / "born.json", "--engine", "mlip", "--set", "fmax_eV_per_A=0.005"]  # fmt: skip
    assert main([*map(str, argv)]) == 0
    assert "1 firework(s)" in capsys.readouterr().out
    assert run_all(store) == 1
    (doc,) = ResultsDB(open_launchpad()).query(task_type="field")
    response = doc["output"]["field_response"]
    assert response["born_source"] == "user (born.json)" and doc["notes"] == []
    assert response["field_vector_V_per_A"] == pytest.approx([0.03, 0.0, 0.0])
    assert response["displacements_pm"]["Na"]["mean_displacement_along_direction_pm"] > 0.5
    assert response["displacements_pm"]["Cl"]["mean_displacement_along_direction_pm"] < -0.5


class BornStore:
    """A results database holding one born document (the query ``field_workflow`` makes)."""

    def __init__(self, charges):
        self.charges = charges

    def query(self, task_type=None):
        return [{"task_id": 7, "task_type": "born", "formula_pretty": "NaCl", "nsites": 8,
                 "output": {"born_charges_e": self.charges}}]  # fmt: skip


def test_field_charges_come_from_a_born_document_when_present():
    atoms = bulk("NaCl", "rocksalt", a=5.6, cubic=True)
    charges = [np.eye(3).tolist()] * 4 + [(-np.eye(3)).tolist()] * 4
    workflow = field_workflow(atoms, "nacl", {"name": "mlip"}, [0.01], database=BornStore(charges))
    settings = workflow.fws[0].tasks[0]["settings"]
    assert settings["born_source"] == "born task 7" and settings["born_charges_e"] == charges


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--field-V-per-A", "0"], "finite and non-zero"),
        (["--field-V-per-A", "nan"], "finite and non-zero"),
        (["--field-V-per-A", "inf"], "finite and non-zero"),
        (["--field-V-per-A", "0.01", "--slab-plane", "0.5,0,1"], "is not a lattice plane"),
        (["--field-V-per-A", "0.01", "--slab-plane", "0,0,0"], "is not a lattice plane"),
        (["--field-V-per-A", "0.01", "--field-direction", "0,0,0"], "not all zero"),
        ([], "give field strengths"),
    ],
)
def test_bad_field_input_is_one_line(store, capsys, nacl, argv, message):
    assert message in one_line_error(capsys, "submit", "field", "--structure", nacl, *argv)


def test_born_charges_of_the_wrong_shape_are_one_line(store, capsys, nacl, tmp_path):
    (tmp_path / "born.json").write_text(json.dumps([np.eye(3).tolist()] * 3))
    error = one_line_error(capsys, "submit", "field", "--structure", nacl, "--field-V-per-A", "0.01",
                           "--born-charges", tmp_path / "born.json")  # fmt: skip
    assert "shape (8, 3, 3), got (3, 3, 3)" in error


def test_born_and_berry_on_an_ml_potential_are_one_line(store, capsys, nacl):
    assert "use --engine vasp" in one_line_error(capsys, "submit", "born", "--structure", nacl, "--engine", "mlip")
    assert "use --engine vasp" in one_line_error(capsys, "submit", "berry", "--nonpolar", nacl, "--polar", nacl)
