"""The VASP static step with the ELF: inputs VASP needs for LELF checked by the stand-in, the real
recorded ELFCAR kept in the run folder, referenced from the task document and read by analyze elf.

The recorded outputs come from two real runs (the Si relaxation's vasprun.xml/OUTCAR and the graphite
ELFCAR of shared/reference/vasp/elf): this tests the plumbing of the ELF step, not the physics of one run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ase.io import read

from phasefire.workflows.cli import main
from phasefire.workflows.database import ResultsDB
from phasefire.workflows.launchpad import open_launchpad
from tests.conftest import REFERENCE, run_all

SI = REFERENCE / "vasp" / "relax" / "atomate_Si_structure_optimization"


def test_vasp_static_with_elf_keeps_the_elfcar(store, fake_vasp, tmp_path, capsys):
    recorded = tmp_path / "recorded"
    shutil.copytree(SI / "outputs", recorded)
    shutil.copy(REFERENCE / "vasp" / "elf" / "ELFCAR.gz", recorded / "ELFCAR.gz")
    fake_vasp([{
        "reference": str(recorded),
        "expect_incar": {"LELF": True, "NPAR": 1, "KPAR": 1, "NSW": 0, "IBRION": -1, "ENCUT": 600, "LCHARG": False},
    }])  # fmt: skip
    structure = tmp_path / "si.vasp"
    shutil.copy(SI / "inputs" / "POSCAR", structure)
    read(structure)  # a readable POSCAR
    argv = ["submit", "static", "--structure", str(structure), "--engine", "vasp", "--set", "write_elf=true",
            "--set", "polling_time_step_s=0.05"]  # fmt: skip
    assert main(argv) == 0
    assert run_all(store) == 1
    (document,) = ResultsDB(open_launchpad()).query(task_type="static")
    assert document["files"]["elf"] == "ELFCAR" and document["converged"]
    assert document["input"]["settings"]["write_elf"] is True
    elfcar = Path(document["run_dir"], document["files"]["elf"])
    assert elfcar.stat().st_size > 100_000  # the grid stays a file, never inline
    capsys.readouterr()
    assert main(["analyze", "elf", str(elfcar), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["mean"]) == {"spin_up", "spin_down"}
    assert abs(summary["mean"]["spin_up"] - 0.1907620765) < 1e-6  # the recorded graphite ELF
