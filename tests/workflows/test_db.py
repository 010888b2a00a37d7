"""`phasefire db show|export` and `submit --name`: results a person can take away."""

from __future__ import annotations

import csv

from ase.io import read

from phasefire.workflows.cli import main
from phasefire.workflows.database import ResultsDB
from phasefire.workflows.launchpad import open_launchpad
from tests.conftest import run_all


def test_show_and_export_relaxed_and_static_results(store, capsys, tmp_path):
    name = "my campaign; $(not a command)"
    assert main(["submit", "relax", "--structure", "cspbbr3-cubic", "--name", name, "--set", "fmax_eV_per_A=0.05"]) == 0
    assert main(["submit", "static", "--structure", "cspbcl3-cubic"]) == 0
    assert run_all(store) == 2
    relax = ResultsDB(open_launchpad()).query(task_type="relax")[0]
    assert relax["workflow"] == name and "$(" not in relax["run_dir"] and ";" not in relax["run_dir"]
    capsys.readouterr()

    assert main(["db", "show", str(relax["task_id"])]) == 0
    shown = capsys.readouterr().out
    assert f"task {relax['task_id']}: relax of cspbbr3-cubic (CsPbBr3, 5 atoms)" in shown
    assert "lattice.a_A" in shown and relax["run_dir"] in shown
    assert main(["db", "show", "999"]) == 1
    assert "no task document 999" in capsys.readouterr().err

    assert main(["db", "export", "--to", str(tmp_path / "out"), "--structures", "poscar"]) == 0
    rows = list(csv.DictReader((tmp_path / "out" / "tasks.csv").open()))
    assert {row["task_type"] for row in rows} == {"relax", "static"}
    by_type = {row["task_type"]: row for row in rows}
    assert float(by_type["relax"]["lattice.a_A"]) == relax["output"]["lattice"]["a_A"]
    exported = read(tmp_path / "out" / by_type["relax"]["structure_file"], format="vasp")
    assert abs(exported.cell.lengths()[0] - relax["output"]["lattice"]["a_A"]) < 1e-6
    assert main(["db", "export", "--to", str(tmp_path / "none"), "--formula", "NaCl"]) == 1
    assert "nothing to export" in capsys.readouterr().err


def test_poscar_inputs_are_labelled_by_their_folder(store, capsys, tmp_path):
    from phasefire.structures import build
    from phasefire.workflows.structure_io import write_structure

    write_structure(build("cspbbr3-cubic"), tmp_path / "run7" / "POSCAR")
    assert main(["submit", "static", "--structure", str(tmp_path / "run7" / "POSCAR")]) == 0
    assert "static/run7-POSCAR/mlip" in capsys.readouterr().out
