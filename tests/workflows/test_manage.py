"""Everyday use: runs scoped to their own workflow, Ctrl-C on a real `phasefire run`, and the
commands that manage work (show, rerun, cancel, lpad), the MD log and progress."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.lj import LennardJones
from fireworks import Firework, PyTask, ScriptTask, Workflow

from phasefire.workflows.calculations.md import MD_LOG, MDSettings, langevin_md
from phasefire.workflows.cli import main
from phasefire.workflows.commands.run import failure_line
from phasefire.workflows.database import SUPERSEDED, ResultsDB
from phasefire.workflows.launchpad import open_launchpad
from phasefire.workflows.worker import RUNS_DIR_VARIABLE, firework_progress
from tests.conftest import run_all


def _touch(path: Path, name: str, **spec) -> Firework:
    return Firework(ScriptTask.from_str(f"touch {path}"), name=name, spec=spec or None)


def _states(store) -> dict[str, str]:
    return {fw["name"]: fw["state"] for fw in open_launchpad(store).fireworks.find({}, {"name": 1, "state": 1})}


def _wait_for(condition, what: str, limit_s: float = 120) -> None:
    deadline = time.time() + limit_s
    while not condition():
        if time.time() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


# -- scoped runs ---------------------------------------------------------------------------------


def test_run_workflow_launches_only_that_workflows_fireworks(store, tmp_path, capsys):
    launchpad = open_launchpad(store)
    launchpad.add_wf(Workflow([_touch(tmp_path / "mine", "mine")], name="mine"))
    launchpad.add_wf(Workflow([_touch(tmp_path / "other", "other")], name="other"))
    assert main(["run", "--workflow", "mine"]) == 0
    assert _states(store) == {"mine": "COMPLETED", "other": "READY"}
    assert (tmp_path / "mine").exists() and not (tmp_path / "other").exists()
    assert main(["run", "--workflow", "nope"]) == 1
    assert "no workflow 'nope'" in capsys.readouterr().err


def test_reproduce_campaign_runs_only_its_own_workflow_and_json_is_clean(store, fake_vasp, tmp_path, capsys):
    """An unrelated VASP relaxation and an unrelated workflow stay READY; stdout is one JSON document."""
    assert (
        main(["submit", "relax", "--structure", "cspbbr3-cubic", "--engine", "vasp", "--name", "unrelated-vasp"]) == 0
    )
    open_launchpad(store).add_wf(Workflow([_touch(tmp_path / "unrelated", "unrelated")], name="unrelated"))
    capsys.readouterr()
    assert main(["reproduce", "campaign", "--json", "--fmax", "1.0"]) == 0  # a few steps: scoping is the point
    captured = capsys.readouterr()
    result = json.loads(captured.out)  # valid JSON, nothing else on stdout
    assert len(result["results"]) == 3 and "completed 3" in captured.err
    launchpad = open_launchpad(store)
    others = {
        wf["name"]: wf["state"] for wf in launchpad.workflows.find({"name": {"$in": ["unrelated-vasp", "unrelated"]}})
    }
    assert others == {"unrelated-vasp": "READY", "unrelated": "READY"}
    assert not (tmp_path / "unrelated").exists()


# -- Ctrl-C on a real `phasefire run` ----------------------------------------------------------------


def _blocking_workflow(tmp_path: Path) -> tuple[Workflow, Path, Path]:
    """'blocker' (runs first: priority) signals it started and waits for a release file; 'next' touches a file."""
    started, release = tmp_path / "started", tmp_path / "release"
    blocker = Firework(
        ScriptTask.from_str(
            f"echo 'BFGS:    7 06:00:00   -12.345678    0.123456' > relax.log; touch {started}; "
            f"while [ ! -f {release} ]; do sleep 0.1; done"
        ),
        name="blocker", spec={"_priority": 10, "_launch_dir": f"${RUNS_DIR_VARIABLE}/blocker"},
    )  # fmt: skip
    return Workflow([blocker, _touch(tmp_path / "next-ran", "next")], name="ctrl-c"), started, release


def _start_run(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "run-stderr.txt"
    process = subprocess.Popen(
        [sys.executable, "-m", "phasefire.workflows.cli", "run"],
        stdout=subprocess.DEVNULL, stderr=open(log, "w"), env={**os.environ},  # noqa: SIM115
    )  # fmt: skip
    return process, log


def test_first_ctrl_c_stops_launching_and_lets_the_running_firework_finish(store, tmp_path, capsys):
    workflow, started, release = _blocking_workflow(tmp_path)
    open_launchpad(store).add_wf(workflow)
    process, log = _start_run(tmp_path)
    _wait_for(started.exists, "the first firework to start")
    assert main(["status"]) == 0  # steps inside the running firework, from its driver's log
    assert "RUNNING (blocker): relax.log: BFGS: 7 06:00:00 -12.345678 0.123456" in capsys.readouterr().out
    process.send_signal(signal.SIGINT)
    _wait_for(lambda: "stopping" in log.read_text(), "the run to acknowledge Ctrl-C")
    release.touch()
    assert process.wait(timeout=120) == 130, log.read_text()
    err = log.read_text()
    assert _states(store) == {"blocker": "COMPLETED", "next": "READY"}, err
    assert not (tmp_path / "next-ran").exists()
    assert "resume with: phasefire run" in err and "Traceback" not in err, err
    assert main(["run"]) == 0 and _states(store) == {"blocker": "COMPLETED", "next": "COMPLETED"}


def test_second_ctrl_c_ends_at_once_and_leaves_the_firework_rerunnable(store, tmp_path):
    workflow, started, release = _blocking_workflow(tmp_path)
    open_launchpad(store).add_wf(workflow)
    process, log = _start_run(tmp_path)
    _wait_for(started.exists, "the first firework to start")
    process.send_signal(signal.SIGINT)
    _wait_for(lambda: "stopping:" in log.read_text(), "the run to acknowledge the first Ctrl-C")
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130, log.read_text()
    err = log.read_text()
    assert "Traceback" not in err and "phasefire run --rerun-lost" in err, err
    assert _states(store) == {"blocker": "RUNNING", "next": "READY"}, err  # not FIZZLED: the worker is gone
    release.touch()
    assert main(["rerun", "--lost"]) == 0
    assert main(["run"]) == 0
    assert _states(store) == {"blocker": "COMPLETED", "next": "COMPLETED"}


# -- show, status, rerun, cancel, lpad ---------------------------------------------------------------


def test_show_and_status_explain_a_failure(store, capsys):
    bad = Firework(
        PyTask(func="json.loads", args=["{not json"]),
        name="broken",
        spec={"_launch_dir": f"${RUNS_DIR_VARIABLE}/broken"},
    )
    open_launchpad(store).add_wf(Workflow([bad], name="fails"))
    assert main(["run"]) == 1
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "firework 1 FIZZLED: JSONDecodeError: Expecting property name enclosed in double quotes" in out
    assert main(["show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "FIZZLED" and shown["workflow"] == "fails"
    assert shown["error"].startswith("JSONDecodeError: Expecting property name")
    assert shown["run_dir"] == str(store.runs_dir / "broken") and Path(shown["run_dir"]).is_dir()
    worker_log = Path(shown["logs"][0])
    assert worker_log.parent == store.runs_dir and worker_log.name.startswith("worker-")
    assert main(["show", "1"]) == 0
    text = capsys.readouterr().out
    assert "traceback (first" in text and "Traceback (most recent call last)" in text and "run folder:" in text


def test_failure_line_is_the_first_line_without_module_paths():
    trace = (
        'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n    f()\n'
        "phasefire.workflows.errors.PhasefireError: POTCARs missing; set potcar_dir\nsecond line\n"
    )
    assert failure_line(trace) == "POTCARs missing; set potcar_dir"
    assert (
        failure_line("Traceback (most recent call last):\n  File \"y\"\n    g()\nbuiltins.KeyError: 'k'\n")
        == "KeyError: 'k'"
    )


def test_rerun_of_a_completed_firework_recomputes_and_supersedes_its_document(store, capsys):
    from phasefire.workflows.makers import CalculationMaker, calculation_workflow

    atoms = bulk("Si", "diamond", a=5.43)
    workflow = calculation_workflow({"si": atoms}, {"name": "mlip"}, CalculationMaker("static"), name="si-static")
    open_launchpad(store).add_wf(workflow)
    assert run_all(store) == 1
    results = ResultsDB(open_launchpad(store))
    first = results.query(workflow="si-static")
    assert [doc["task_id"] for doc in first] == [1]

    assert main(["rerun", "1"]) == 0
    assert "moved to superseded_tasks" in capsys.readouterr().out
    assert results.find_by_fw_id(1) is None
    assert run_all(store) == 1  # recomputed, not the stored document reused
    again = results.query(workflow="si-static")
    assert [doc["task_id"] for doc in again] == [2]
    assert again[0]["output"]["energy_eV"] == pytest.approx(first[0]["output"]["energy_eV"], abs=1e-6)
    kept = list(open_launchpad(store).db[SUPERSEDED].find({}, {"_id": 0}))
    assert [doc["task_id"] for doc in kept] == [1] and kept[0]["superseded_reason"] == "rerun"
    assert results.supersede([1]) == [2] and results.supersede([1]) == []  # a repeat finds nothing left
    assert main(["show", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["superseded_task_ids"] == [1, 2]


def test_rerun_fizzled_and_cancel(store, tmp_path, capsys):
    gate = tmp_path / "gate"
    flaky = Firework(ScriptTask.from_str(f"test -f {gate}", {"fizzle_bad_rc": True}), name="flaky")
    child = Firework(ScriptTask.from_str("true"), name="child", parents=[flaky])
    lonely = Firework(ScriptTask.from_str("true"), name="lonely")
    launchpad = open_launchpad(store)
    launchpad.add_wf(Workflow([flaky, child], name="flaky-wf"))
    launchpad.add_wf(Workflow([lonely], name="lonely-wf"))
    assert main(["cancel", "--workflow", "lonely-wf"]) == 0
    run_all(store)
    assert _states(store) == {"flaky": "FIZZLED", "child": "WAITING", "lonely": "DEFUSED"}
    gate.touch()
    assert main(["rerun", "--fizzled", "--workflow", "flaky-wf"]) == 0
    run_all(store)
    assert _states(store) == {"flaky": "COMPLETED", "child": "COMPLETED", "lonely": "DEFUSED"}
    capsys.readouterr()
    flaky_id = launchpad.fireworks.find_one({"name": "flaky"})["fw_id"]
    assert main(["cancel", str(flaky_id)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("phasefire: error: firework") and "COMPLETED" in err and "\n" not in err
    assert main(["rerun"]) == 1
    lonely_id = launchpad.fireworks.find_one({"name": "lonely"})["fw_id"]
    assert main(["rerun", str(lonely_id)]) == 0  # undoes the cancel
    run_all(store)
    assert _states(store)["lonely"] == "COMPLETED"


def test_lpad_runs_fireworks_lpad_on_the_store(store, capsys):
    open_launchpad(store).add_wf(Workflow([Firework(ScriptTask.from_str("true"), name="seen")], name="lpad-wf"))
    assert main(["lpad", "get_wflows", "-d", "more"]) == 0
    assert "lpad-wf" in capsys.readouterr().out
    assert main(["lpad", "defuse_fws", "-i", "1"]) == 0
    assert _states(store) == {"seen": "DEFUSED"}
    assert main(["lpad", "-l", "launchpad.yaml", "get_wflows"]) == 1
    assert "drop -l" in capsys.readouterr().err


# -- feedback ----------------------------------------------------------------------------------------


def test_md_writes_a_readable_log_that_progress_reads(tmp_path):
    atoms = bulk("Ar", "fcc", a=5.26, cubic=True).repeat((2, 2, 2))
    settings = MDSettings(temperature_K=100.0, timestep_fs=2.0, steps=20, sample_interval=5, seed=3)
    result = langevin_md(atoms, LennardJones(sigma=3.4, epsilon=0.0104, rc=6.0, smooth=True), tmp_path, settings)
    lines = (tmp_path / MD_LOG).read_text().splitlines()
    assert lines[0].split()[1:] == ["step", "time_fs", "T_K", "P_GPa", "E_eV"]
    rows = np.array([[float(x) for x in line.split()] for line in lines[1:]])
    assert rows[:, 0].tolist() == [5, 10, 15, 20] and rows[:, 1].tolist() == [10.0, 20.0, 30.0, 40.0]
    assert np.all(rows[:, 2] > 0) and np.all(np.isfinite(rows[:, 3]))
    assert rows[-1, 4] == pytest.approx(result.energy_eV, abs=1e-4)
    assert rows[-1, 2] == pytest.approx(result.atoms.get_temperature(), abs=0.1)
    assert firework_progress(tmp_path).startswith("md.log: 20 40.0 ")
