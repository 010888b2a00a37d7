"""The embedded store shared by several worker processes, and its failure modes."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import filelock
import pytest
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


def test_indexed_queries_agree_with_mongomock(tmp_path):
    """The index only narrows what mongomock's own filter sees: same answers as plain mongomock,
    also after updates that change indexed fields in place, deletions and array fields."""
    import random

    import mongomock

    from phasefire.workflows.store import EmbeddedLaunchPad

    ours = EmbeddedLaunchPad(tmp_path / "lp.db").db["things"]
    plain = mongomock.MongoClient().db["things"]
    rng = random.Random(7)
    for k in range(300):
        doc = {"fw_id": k, "state": rng.choice("ABC"), "nodes": [k, k + 1], "formula_pretty": rng.choice(["X", "Y", 3])}
        if k % 7 == 0:
            doc["spec"] = {"state": "nested"}
        ours.insert_one(dict(doc))
        plain.insert_one(dict(doc))
    for collection in (ours, plain):
        collection.update_many({"state": "A"}, {"$set": {"state": "D"}})
        collection.update_one({"fw_id": 5}, {"$push": {"nodes": 999}})
        collection.delete_many({"state": "B", "fw_id": {"$lt": 100}})
        collection.find_one_and_update({"nodes": 999}, {"$set": {"formula_pretty": "Z"}})
    queries = [
        {"state": "D"}, {"state": "A"}, {"state": {"$in": ["B", "C"]}}, {"nodes": 999}, {"nodes": [5, 6, 999]},
        {"fw_id": {"$in": [1, 5, 250, 1000]}}, {"$and": [{"state": "C"}, {"fw_id": {"$gt": 150}}]},
        {"formula_pretty": "Z"}, {"formula_pretty": 3}, {"state": None}, {"fw_id": 3.0}, {"spec.state": "nested"},
        {"state": {"$eq": "C"}, "formula_pretty": "X"}, {},
    ]  # fmt: skip
    for query in queries:
        expected = list(plain.find(query, {"_id": 0}).sort("fw_id", 1))
        assert list(ours.find(query, {"_id": 0}).sort("fw_id", 1)) == expected, query
        assert ours.count_documents(query) == len(expected), query


def test_every_change_reaches_other_processes(store, tmp_path):
    """Two LaunchPads on one store (as two processes have): additions, updates, deletions and
    FireWorks' unique indexes reach the other one."""
    import pymongo.errors

    from phasefire.workflows.store import EmbeddedLaunchPad

    first = open_launchpad(store)
    second = EmbeddedLaunchPad(store.store_path)
    first.add_wf(Workflow([Firework(ScriptTask.from_str("true"), name=f"fw{k}") for k in range(3)], name="wf"))
    assert sorted(fw["name"] for fw in second.fireworks.find({})) == ["fw0", "fw1", "fw2"]
    second.pause_fw(2)
    assert first.fireworks.find_one({"fw_id": 2})["state"] == "PAUSED"
    first.delete_wf(1)
    assert second.fireworks.count_documents({}) == 0 and second.workflows.count_documents({}) == 0
    second.fireworks.insert_one({"fw_id": 7})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        first.fireworks.insert_one({"fw_id": 7})
    first.db["tasks"].insert_one({"task_id": 1, "formula_pretty": "Si"})
    assert [t["task_id"] for t in second.db["tasks"].find({"formula_pretty": "Si"})] == [1]


def test_store_files_and_folders_are_owner_only(tmp_path, monkeypatch):
    from phasefire.workflows.store import EmbeddedLaunchPad
    from phasefire.workflows.worker import run_worker

    os.umask(0o022)
    data = tmp_path / "fresh" / "data"
    monkeypatch.setenv("PHASEFIRE_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("phasefire.workflows.launchpad._OPEN", {})
    launchpad = open_launchpad()
    launchpad.add_wf(Workflow([Firework(ScriptTask.from_str("true"))]))
    run_worker()
    assert isinstance(launchpad, EmbeddedLaunchPad)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(data) == 0o700 and mode(data / "runs") == 0o700
    for path in (launchpad.store_path, Path(f"{launchpad.store_path}.lock"), Path(f"{launchpad.store_path}-wal")):
        assert path.exists() and mode(path) == 0o600, path


def test_stale_temporaries_go_and_a_former_json_store_is_imported(tmp_path):
    """The former whole-file writer left launchpad.json*.tmp behind when killed; its JSON store is imported."""
    import mongomock
    import mongomock_persistence  # noqa: F401  (its file format is what FireWorks' lpad reads)

    from phasefire.workflows.store import EmbeddedLaunchPad, _launchpad_client

    legacy = tmp_path / "launchpad.json"
    with _launchpad_client(mongomock.MongoClient()):
        from fireworks import LaunchPad

        old = LaunchPad(name="phasefire", strm_lvl="ERROR")
    old.reset("", require_password=False)
    old.add_wf(Workflow([Firework(ScriptTask.from_str("true"), name="kept")], name="old"))
    import bson.json_util

    legacy.write_text(
        bson.json_util.dumps(
            {"phasefire": {name: {"name": name, "documents": [[d["_id"], d] for d in getattr(old, name).find({})]}
                           for name in ("fireworks", "workflows", "launches", "fw_id_assigner")}}
        )
    )  # fmt: skip
    for k in range(5):
        (tmp_path / f"launchpad.json{k}abc.tmp").write_text("{half")
    (tmp_path / "unrelated.tmp").write_text("keep")
    launchpad = EmbeddedLaunchPad(legacy)
    assert not list(tmp_path.glob("launchpad.json*.tmp")) and (tmp_path / "unrelated.tmp").exists()
    assert [fw["name"] for fw in launchpad.fireworks.find({})] == ["kept"]
    launchpad.add_wf(Workflow([Firework(ScriptTask.from_str("true"), name="new")]))
    assert launchpad.fireworks.find_one({"name": "new"})["fw_id"] == 2


def test_fireworks_lpad_reads_the_store(store, tmp_path):
    """FireWorks' own lpad: through `python -m phasefire.workflows.store lpad`, and on an export."""
    open_launchpad(store).add_wf(Workflow([Firework(ScriptTask.from_str("true"), name="seen")], name="lpad-wf"))
    env = {**os.environ}
    out = subprocess.run(
        [sys.executable, "-m", "phasefire.workflows.store", "lpad", "get_wflows", "-d", "more"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout  # fmt: skip
    assert "lpad-wf" in out and "seen" in out
    snapshot = tmp_path / "snapshot.json"
    subprocess.run([sys.executable, "-m", "phasefire.workflows.store", "export", str(snapshot)], env=env, check=True)
    lpad = "import sys; from fireworks.scripts.lpad_run import lpad; sys.exit(lpad())"  # FireWorks' `lpad` script
    out = subprocess.run(
        [sys.executable, "-c", lpad, "-l", str(snapshot.with_suffix(".yaml")), "get_wflows", "-d", "more"], capture_output=True, text=True, check=True, cwd=tmp_path,
        env={**env, "MONGOMOCK_SERVERSTORE_FILE": str(snapshot)},
    ).stdout  # fmt: skip
    assert "lpad-wf" in out


def _submitter(settings_path: str, ledger: str, tag: str) -> None:
    """Add small workflows forever, noting each one after add_wf returned."""
    from phasefire.workflows.config import load_settings

    launchpad = open_launchpad(load_settings(settings_path))
    k = 0
    while True:
        name = f"{tag}-{k}"
        root = Firework(ScriptTask.from_str("true"), name=f"{name}-root")
        child = Firework(ScriptTask.from_str("true"), name=f"{name}-child", parents=[root])
        launchpad.add_wf(Workflow([root, child], name=name))
        with open(ledger, "a") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        k += 1


def test_kill_storm_during_submission_loses_and_duplicates_nothing(store, tmp_path):
    import random

    ledger = tmp_path / "submitted.txt"
    ledger.touch()
    context = multiprocessing.get_context("fork")
    rng = random.Random(3)
    kills = 0
    for wave in range(12):
        procs = [
            context.Process(target=_submitter, args=(str(store.source), str(ledger), f"w{wave}p{k}")) for k in range(3)
        ]
        for proc in procs:
            proc.start()
        time.sleep(rng.uniform(0.3, 0.9))
        for proc in procs:
            os.kill(proc.pid, signal.SIGKILL)
            proc.join()
            kills += 1
    launchpad = open_launchpad(store)
    noted = ledger.read_text().split()
    workflows = list(launchpad.workflows.find({}, {"name": 1, "nodes": 1}))
    names = Counter(wf["name"] for wf in workflows)
    assert noted and set(noted) <= set(names), "every workflow whose add_wf returned is stored"
    assert set(names.values()) == {1}, "no workflow stored twice"
    fireworks = {fw["fw_id"]: fw["name"] for fw in launchpad.fireworks.find({}, {"fw_id": 1, "name": 1})}
    nodes = [fw_id for wf in workflows for fw_id in wf["nodes"]]
    assert sorted(nodes) == sorted(fireworks), "no orphan firework, no workflow pointing at a missing one"
    assert all(len(wf["nodes"]) == 2 for wf in workflows)
    assert launchpad.fw_id_assigner.find_one({})["next_fw_id"] > max(fireworks)
    assert kills == 36


def _ledger_task(ledger: Path, k: int) -> str:
    return f"echo start {k} >> {ledger}; sleep 0.4; echo done {k} >> {ledger}"


def test_kill_storm_during_runs_runs_each_firework_once(store, tmp_path, capsys):
    """SIGKILL random workers while 24 fireworks run, then `phasefire run --rerun-lost`: every
    firework completes with exactly one launch, and no firework ever ran without its own checkout."""
    import random

    ledger = tmp_path / "ledger.txt"
    launchpad = open_launchpad(store)
    for w in range(4):
        root = Firework(ScriptTask.from_str(_ledger_task(ledger, w * 6)), name=f"fw{w * 6}")
        rest = [
            Firework(ScriptTask.from_str(_ledger_task(ledger, w * 6 + c)), name=f"fw{w * 6 + c}", parents=[root])
            for c in range(1, 6)
        ]
        launchpad.add_wf(Workflow([root, *rest], name=f"storm-{w}"))
    rng = random.Random(11)
    command = [sys.executable, "-c", "from phasefire.workflows.worker import run_worker; run_worker()"]
    workers = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(3)]
    kills = 0
    for _ in range(10):
        time.sleep(rng.uniform(0.5, 1.2))
        victim = workers.pop(rng.randrange(len(workers)))
        victim.kill()
        victim.wait()
        kills += 1
        workers.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for worker in workers:
        worker.kill()
        worker.wait()
    assert main(["run", "--rerun-lost"]) == 0, capsys.readouterr().out

    launchpad = open_launchpad(store)
    fireworks = list(
        launchpad.fireworks.find({}, {"fw_id": 1, "name": 1, "state": 1, "launches": 1, "archived_launches": 1})
    )
    assert len(fireworks) == 24 and {fw["state"] for fw in fireworks} == {"COMPLETED"}
    assert all(len(fw["launches"]) == 1 for fw in fireworks), "one live launch per firework"
    launches = list(launchpad.launches.find({}, {"launch_id": 1, "fw_id": 1, "state": 1}))
    assert len({doc["launch_id"] for doc in launches}) == len(launches)
    completed = Counter(doc["fw_id"] for doc in launches if doc["state"] == "COMPLETED")
    assert all(completed[fw["fw_id"]] == 1 for fw in fireworks), "each firework completed exactly once"
    lines = [line.split() for line in ledger.read_text().splitlines()]
    starts = Counter(int(k) for word, k in lines if word == "start")
    checkouts = Counter(doc["fw_id"] for doc in launches)
    for fw in fireworks:
        k = int(fw["name"][2:])
        assert (
            1 <= starts[k] <= checkouts[fw["fw_id"]]
        ), f"firework {k} ran {starts[k]}x for {checkouts[fw['fw_id']]} checkouts"
    assert kills == 10


def test_run_names_a_lost_firework_and_exits_nonzero(store, tmp_path, capsys):
    """A firework left RUNNING by a killed worker: `phasefire run` says which and how to rerun, at once."""
    marker = tmp_path / "started"
    launchpad = open_launchpad(store)
    launchpad.add_wf(Workflow([Firework(ScriptTask.from_str(f"touch {marker}; sleep 300"), name="doomed")]))
    worker = subprocess.Popen(
        [sys.executable, "-c", "from phasefire.workflows.worker import run_worker; run_worker()"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    capsys.readouterr()
    assert main(["run"]) == 1
    err = capsys.readouterr().err  # run reports on stderr
    assert "firework 1 (doomed) is lost" in err and "phasefire run --rerun-lost" in err


def _parent_of_a_worker(settings_path: str, pid_file: str) -> None:
    from phasefire.workflows.config import load_settings
    from phasefire.workflows.worker import WorkerPool

    processes = WorkerPool(load_settings(settings_path), 1).start()
    Path(pid_file).write_text(str(processes[0].pid))
    time.sleep(600)


def test_workers_die_with_their_parent(store, tmp_path):
    """SIGKILL the process that started a worker (as `phasefire run` does): the worker and the code
    it was running end too."""
    marker = tmp_path / "started"
    child_pid_file = tmp_path / "code.pid"
    open_launchpad(store).add_wf(
        Workflow([Firework(ScriptTask.from_str(f"echo $$ > {child_pid_file}; touch {marker}; sleep 300"))])
    )
    pid_file = tmp_path / "worker.pid"
    parent = multiprocessing.get_context("spawn").Process(
        target=_parent_of_a_worker, args=(str(store.source), str(pid_file))
    )
    parent.start()
    deadline = time.time() + 90
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.2)
    assert marker.exists(), "the worker started the firework"
    worker_pid, code_pid = int(pid_file.read_text()), int(child_pid_file.read_text())
    os.kill(parent.pid, signal.SIGKILL)
    parent.join()
    deadline = time.time() + 30
    while time.time() < deadline and (_alive(worker_pid) or _alive(code_pid)):
        time.sleep(0.2)
    assert not _alive(worker_pid) and not _alive(code_pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_status_says_why_a_firework_could_not_be_loaded(store, capsys):
    launchpad = open_launchpad(store)
    launchpad.add_wf(Workflow([Firework(ScriptTask.from_str("true"), name="ghost")]))
    launchpad.fireworks.update_one({"fw_id": 1}, {"$set": {"spec._tasks.0._fw_name": "{{no_such_module.GhostTask}}"}})
    assert main(["run"]) == 1
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "firework 1 FIZZLED: FireWork failed to deserialize" in out and "no_such_module" in out


def test_every_wrapped_launchpad_method_still_exists_in_fireworks():
    """A FireWorks upgrade that drops or renames a LaunchPad method the embedded store makes
    transactional would silently lose its lock; this fails instead."""
    from fireworks import LaunchPad

    from phasefire.workflows.store import TRANSACTIONAL_METHODS, EmbeddedLaunchPad

    missing = [name for name in TRANSACTIONAL_METHODS if not callable(getattr(LaunchPad, name, None))]
    assert missing == [], f"FireWorks' LaunchPad no longer has {missing}; update store.TRANSACTIONAL_METHODS"
    for name in TRANSACTIONAL_METHODS:
        assert getattr(EmbeddedLaunchPad, name) is not getattr(LaunchPad, name), f"{name} is not wrapped"
