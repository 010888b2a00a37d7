"""The phasefire command line end to end on the embedded store, and its one-line errors."""

from __future__ import annotations

import json

import pytest
import spglib
from ase.io import read

from phasefire.workflows.cli import main
from phasefire.workflows.commands.run import fizzled_reason
from phasefire.workflows.launchpad import open_launchpad
from tests.conftest import run_all


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("phasefire: error: ") and "\n" not in err, err
    return err


def test_build_alpha_ag2se_cif_has_space_group_19(tmp_path):
    path = tmp_path / "a.cif"
    assert main(["structures", "build", "ag2se-alpha", "-o", str(path)]) == 0
    atoms = read(path)
    assert (
        spglib.get_symmetry_dataset((atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers), 1e-3).number == 19
    )


def test_build_supercell_to_poscar_and_extxyz(tmp_path):
    for name in ("POSCAR", "b.extxyz"):
        assert main(["structures", "build", "cspbcl3-cubic", "--supercell", "2x2x2", "-o", str(tmp_path / name)]) == 0
        assert len(read(tmp_path / name)) == 40


def test_structures_list_json(capsys):
    assert main(["structures", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["name"] for row in rows} >= {"ag2se-alpha", "sb2se3-bcc"}


def test_mlip_relaxation_of_cubic_cspbbr3_lands_in_the_database(store, capsys):
    """The acceptance path: submit, run, query; CHGNet relaxes cubic CsPbBr3 (PBE-like a ~ 6.0 Å)."""
    assert main(["submit", "relax", "--structure", "cspbbr3-cubic", "--engine", "mlip"]) == 0
    assert "submitted workflow 1" in capsys.readouterr().out
    assert run_all(store) == 1
    capsys.readouterr()
    assert main(["db", "query", "--formula", "CsPbBr3", "--json"]) == 0
    (task,) = json.loads(capsys.readouterr().out)
    assert task["converged"] and task["output"]["max_force_eV_per_A"] < 0.05
    lattice = task["output"]["lattice"]
    assert 5.874 < lattice["a_A"] < 6.2  # CHGNet (PBE-trained) overestimates the 5.874 Å experiment
    assert lattice["space_group_number"] == 221
    assert abs(task["output"]["pressure_GPa"]) < 0.5
    assert task["engine"]["model"] == "chgnet" and "keep_symmetry" not in task["engine"]
    assert task["task_type"] == "relax" and task["input"]["settings"]["keep_symmetry"] is True
    assert task["versions"]["chgnet"] == "0.4.2"
    assert (task["files"]["trajectory"]) == "relax.traj"
    assert len(read(f"{task['run_dir']}/relax.traj", index=":")) == task["n_steps"] + 1
    assert main(["db", "query", "--formula", "CsPbBr3"]) == 0
    assert "Pm-3m" in capsys.readouterr().out


def test_unknown_structure_name(store, capsys):
    assert main(["submit", "relax", "--structure", "cspbbr4-cubic"]) == 1
    assert "unknown structure 'cspbbr4-cubic'" in one_line_error(capsys)
    assert open_launchpad(store).workflows.count_documents({}) == 0


@pytest.mark.parametrize("content", ["not a poscar\n1.0\n", "Si\n1.0\n1 0 0\n0 1\n"])
def test_malformed_structure_file(store, tmp_path, capsys, content):
    path = tmp_path / "POSCAR"
    path.write_text(content)
    assert main(["submit", "relax", "--structure", str(path)]) == 1
    assert "cannot read structure file" in one_line_error(capsys)
    assert open_launchpad(store).workflows.count_documents({}) == 0


def test_bad_override_and_unknown_engine(store, capsys):
    assert main(["submit", "relax", "--structure", "cspbbr3-cubic", "--set", "fmax"]) == 1
    assert "bad --set 'fmax'" in one_line_error(capsys)
    assert main(["submit", "relax", "--structure", "cspbbr3-cubic", "--set", "temperature=3"]) == 1
    message = one_line_error(capsys)
    assert "unknown setting temperature" in message and "fmax_eV_per_A" in message and "model" in message
    assert main(["submit", "relax", "--structure", "cspbbr3-cubic", "--engine", "gaussian"]) == 1
    assert "unknown engine 'gaussian'" in one_line_error(capsys)


def test_unknown_output_format_writes_nothing(tmp_path, capsys):
    assert main(["structures", "build", "ag2se-alpha", "-o", str(tmp_path / "a.pdbx")]) == 1
    assert "cannot tell the format" in one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_missing_vasp_executable_fizzles_with_the_fix(store, fake_vasp, monkeypatch, capsys):
    monkeypatch.setenv("PHASEFIRE_VASP_CMD", "no-such-vasp-binary")
    assert main(["submit", "relax", "--structure", "cspbbr3-cubic", "--engine", "vasp"]) == 0
    run_all(store)
    reason = fizzled_reason(open_launchpad(store), 1)
    assert "VASP executable not found: 'no-such-vasp-binary'" in reason and "worker.vasp_cmd" in reason


def test_missing_potcars_fizzle_with_the_fix(store, fake_vasp, tmp_path, monkeypatch):
    empty = tmp_path / "no-potcars"
    empty.mkdir()
    monkeypatch.setenv("PMG_VASP_PSP_DIR", str(empty))
    assert main(["submit", "relax", "--structure", "cspbbr3-cubic", "--engine", "vasp"]) == 0
    run_all(store)
    reason = fizzled_reason(open_launchpad(store), 1)
    assert "cannot write VASP inputs" in reason and "POTCAR" in reason
    assert open_launchpad(store).db["tasks"].count_documents({}) == 0


def test_status_and_run_on_an_empty_store(store, capsys):
    assert main(["status"]) == 0
    assert "no workflows yet" in capsys.readouterr().out
    assert main(["run"]) == 0
    assert "nothing to run" in capsys.readouterr().err
