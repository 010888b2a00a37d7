"""The embedded store shared by several worker processes, and its failure modes."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time
from collections import Counter

import filelock
from fireworks import Firework, ScriptTask, Workflow

from phasefire.workflows.cli import main
from phasefire.workflows.launchpad import open_launchpad
from phasefire.workflows.store import database_path
from phasefire.workflows.worker import RUNS_DIR_VARIABLE, WorkerPool


def test_four_processes_complete_100_fireworks_exactly_once(store, tmp_path):
    """10 workflows x (1 root + 9 children): 100 fireworks, 4 worker processes, one store file."""
    ledger = tmp_path / "ledger.txt"
    launchpad = open_launchpad(store)
    for w in range(10):
        root = Firework(ScriptTask.from_str(f"echo w{w}-root >> {ledger}"), name=f"w{w}-root")
        children = [
            Firework(ScriptTask.from_str(f"echo w{w}-c{c} >> {ledger}"), name=f"w{w}-c{c}", parents=[root])
            for c in range(9)
        ]
        launchpad.add_wf(Workflow([root, *children], name=f"fan-{w}"))
    processes = WorkerPool(store, workers=4).start()
    for process in processes:
        process.join(timeout=240)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]

    executions = Counter(ledger.read_text().split())
    assert len(executions) == 100 and set(executions.values()) == {1}, "each firework ran exactly once"
    fireworks = list(launchpad.fireworks.find({}, {"fw_id": 1, "state": 1, "launches": 1}))
    assert len(fireworks) == 100
    assert {fw["state"] for fw in fireworks} == {"COMPLETED"}
    assert all(len(fw["launches"]) == 1 for fw in fireworks)
    launches = list(launchpad.launches.find({}, {"launch_id": 1, "fw_id": 1}))
    assert len(launches) == 100 and len({doc["launch_id"] for doc in launches}) == 100
    assert len({doc["fw_id"] for doc in launches}) == 100
    assert launchpad.workflows.count_documents({"state": "COMPLETED"}) == 10
    assert all("Traceback" not in WorkerPool(store, 4).log_file(k).read_text() for k in range(4))


def _hold_lock(path: str, seconds: float, ready) -> None:
    with filelock.FileLock(path + ".lock"):
        ready.set()
        time.sleep(seconds)


def test_store_locked_too_long_gives_one_clear_line(store, tmp_path, monkeypatch, capsys):
    config = tmp_path / "launchpad.yaml"
    config.write_text(f"store: embedded\nembedded:\n  path: {tmp_path / 'lp.json'}\n  lock_timeout_s: 0.5\n")
    monkeypatch.setenv("PHASEFIRE_LAUNCHPAD", str(config))
    monkeypatch.delenv("PHASEFIRE_DATA_DIR")
    assert main(["status"]) == 0  # creates the store
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold_lock, args=(str(tmp_path / "lp.db"), 10, ready))
    holder.start()
    try:
        assert ready.wait(30)
        monkeypatch.setattr("phasefire.workflows.launchpad._OPEN", {})
        capsys.readouterr()
        assert main(["status"]) == 1
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0
        assert "locked by another process for more than 0.5 s" in err and "lock_timeout_s" in err
    finally:
        holder.kill()
        holder.join()


def test_unreachable_mongodb_gives_one_clear_line(tmp_path, monkeypatch, capsys):
    config = tmp_path / "launchpad.yaml"
    config.write_text(
        "store: mongodb\nmongodb:\n  host: 127.0.0.1\n  port: 9\n  name: t\n  server_selection_timeout_ms: 300\n"
    )
    monkeypatch.setenv("PHASEFIRE_LAUNCHPAD", str(config))
    monkeypatch.setattr("phasefire.workflows.launchpad._OPEN", {})
    assert main(["status"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("phasefire: error: cannot reach MongoDB at 127.0.0.1:9") and "\n" not in err


def test_mongodb_password_comes_from_the_environment_only(tmp_path, monkeypatch, capsys):
    config = tmp_path / "launchpad.yaml"
    config.write_text(
        "store: mongodb\nmongodb:\n  host: 127.0.0.1\n  port: 9\n  username: alice\n  password_env: PF_TEST_PW\n"
    )
    monkeypatch.setenv("PHASEFIRE_LAUNCHPAD", str(config))
    monkeypatch.setattr("phasefire.workflows.launchpad._OPEN", {})
    monkeypatch.delenv("PF_TEST_PW", raising=False)
    assert main(["status"]) == 1
    assert "export PF_TEST_PW" in capsys.readouterr().err


def test_corrupt_store_file_is_reported_not_overwritten(store, capsys):
    path = database_path(store.store_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"phasefire": {"fireworks": ')
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert "cannot be read as a phasefire store" in err and "move it aside" in err and "\n" not in err.strip()
    assert path.read_text() == '{"phasefire": {"fireworks": '


def test_killed_worker_is_detected_and_its_firework_rerun(store, tmp_path, capsys):
    """kill -9 a worker mid-firework: status names the lost run, run --rerun-lost finishes it."""
    marker = tmp_path / "first-attempt"
    script = f"test -f {marker} || (touch {marker}; sleep 120)"
    firework = Firework(
        ScriptTask.from_str(script), name="sleepy", spec={"_launch_dir": f"${RUNS_DIR_VARIABLE}/sleepy"}
    )
    launchpad = open_launchpad(store)
    launchpad.add_wf(Workflow([firework]))
    worker = subprocess.Popen(
        [sys.executable, "-c", "from phasefire.workflows.worker import run_worker; run_worker()"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.2)
    assert marker.exists(), "the worker started the firework"
    worker.kill()
    worker.wait()

    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["fireworks"] == {"RUNNING": 1}
    assert [run["name"] for run in status["lost_runs"]] == ["sleepy"]
    assert main(["run", "--rerun-lost"]) == 0
    assert open_launchpad(store).fireworks.find_one({})["state"] == "COMPLETED"
