"""Queue submission through FireWorks' queue adapters against a real single-node SLURM.

The ``slurm`` fixture starts munge, slurmctld and slurmd from Debian's packages (installed by
scripts/test.sh when run as root); without them these tests are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from fireworks import Firework, ScriptTask, Workflow

from phasefire.workflows.cli import main
from phasefire.workflows.launchpad import open_launchpad

pytestmark = pytest.mark.slurm

SLURM_CONF = """ClusterName=phasefire
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ReturnToService=2
MpiDefault=none
NodeName={host} CPUs={cpus} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """A running single-node SLURM; yields the SLURM_CONF path."""
    if os.geteuid() != 0 or not all(shutil.which(cmd) for cmd in ("slurmctld", "slurmd", "munged", "sbatch")):
        pytest.skip("SLURM is not installed (scripts/test.sh installs it when run as root on Debian)")
    root = tmp_path_factory.mktemp("slurm")
    for folder in ("state", "spool"):
        (root / folder).mkdir()
    conf = root / "slurm.conf"
    conf.write_text(SLURM_CONF.format(host=socket.gethostname().split(".")[0], cpus=os.cpu_count(), root=root))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    if not Path("/etc/munge/munge.key").exists():
        subprocess.run(["mungekey", "-c"], check=True)
    Path("/run/munge").mkdir(parents=True, exist_ok=True)
    shutil.chown("/run/munge", "munge", "munge")
    if subprocess.run(["pgrep", "-x", "munged"], capture_output=True).returncode != 0:
        subprocess.run(["munged", "--force"], check=True, capture_output=True)
    subprocess.run(["slurmctld"], env=env, check=True)
    subprocess.run(["slurmd"], env=env, check=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        state = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True).stdout.strip()
        if state == "idle":
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"SLURM node did not come up (sinfo state '{state}'); see {root}/slurmctld.log")
    yield conf
    subprocess.run(["scontrol", "shutdown"], env=env, capture_output=True)


def test_queue_launch_runs_each_firework_in_its_own_slurm_job(store, slurm, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SLURM_CONF", str(slurm))
    ledger = tmp_path / "ledger.txt"
    fireworks = [
        Firework(ScriptTask.from_str(f"echo job-$SLURM_JOB_ID fw{k} >> {ledger}"), name=f"q{k}") for k in range(3)
    ]
    open_launchpad(store).add_wf(Workflow(fireworks, name="queued"))

    assert main(["queue", "launch"]) == 0
    assert "submitted 3 job(s) to SLURM" in capsys.readouterr().out
    launchpad = open_launchpad(store)
    deadline = time.time() + 120
    while time.time() < deadline and launchpad.fireworks.count_documents({"state": "COMPLETED"}) < 3:
        time.sleep(1)
    assert launchpad.fireworks.count_documents({"state": "COMPLETED"}) == 3
    lines = ledger.read_text().split("\n")
    jobs = {line.split()[0] for line in lines if line}
    assert len(jobs) == 3 and all(job.startswith("job-") and job != "job-" for job in jobs), "three distinct SLURM jobs"
    scripts = list(store.runs_dir.rglob("FW_submit.script"))
    assert scripts and "#SBATCH --nodes=1" in scripts[0].read_text()
    capsys.readouterr()
    assert main(["queue", "status", "--json"]) == 0  # the real squeue answers; our jobs are done
    status = json.loads(capsys.readouterr().out)
    assert status["scheduler"]["error"] is None and status["launchpad"] == []


def test_queue_launch_without_a_scheduler_names_the_fix(store, monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    open_launchpad(store).add_wf(Workflow([Firework(ScriptTask.from_str("true"))]))
    assert main(["queue", "launch"]) == 1
    err = capsys.readouterr().err
    assert "queue submit command 'sbatch' not found" in err


#: payloads that would create a file named pwned-* if any of them reached a shell unquoted
HOSTILE = {
    "semicolon": "a;touch pwned-semicolon;b",
    "dollar": "a$(touch pwned-dollar)b",
    "backtick": "a`touch pwned-backtick`b",
    "quotes": "a'\"; touch pwned-quote; echo '\"b",
    "newline": "a\ntouch pwned-newline\nb",
}


def _pwned(*roots: Path) -> list[Path]:
    found = []
    for root in roots:
        if root.is_dir():
            found += [p for p in root.rglob("*") if p.name.startswith("pwned-")]
    return found


def test_job_script_quotes_every_value(store, tmp_path, monkeypatch):
    """Without a scheduler: the script FireWorks' template makes, run by bash, runs no payload."""
    from fireworks.utilities.fw_serializers import load_object

    from phasefire.workflows.commands import queue

    adapter = queue.queue_adapter(store)
    adapter["rocket_launch"] = "echo rocket-ran > rocket.txt"
    monkeypatch.setitem(queue._TRUSTED_SHELL, "rocket_launch", adapter["rocket_launch"])
    adapter = load_object(adapter.to_dict())  # the copy FireWorks' queue launcher makes
    assert type(adapter).__name__ == "QuotingAdapter"
    adapter.update(job_name=HOSTILE["newline"], account=HOSTILE["semicolon"], queue=HOSTILE["dollar"])
    adapter["pre_rocket"] = "touch pwned-from-spec"  # a firework's _queueadapter cannot change shell fields
    launch_dir = tmp_path / "runs" / f"wf/{HOSTILE['quotes']}{HOSTILE['backtick']}{HOSTILE['newline']}"
    launch_dir.mkdir(parents=True)
    script = adapter.get_script_str(str(launch_dir))
    assert "pwned-from-spec" not in script
    work = tmp_path / "job"
    work.mkdir()
    (work / "job.sh").write_text(script)
    subprocess.run(["bash", "job.sh"], cwd=work, check=True, capture_output=True)
    assert (launch_dir / "rocket.txt").read_text() == "rocket-ran\n", "the job ran in the launch folder"
    assert _pwned(tmp_path) == []
    directives = [line for line in script.splitlines() if line.startswith("#SBATCH")]
    assert all("\n" not in line for line in directives) and len(directives) >= 4


def _write_structure(folder: Path, stem: str) -> Path:
    from ase.build import bulk
    from ase.io import write

    path = folder / f"{stem}.cif"
    write(path, bulk("Si", "diamond", a=5.43))
    return path


def test_hostile_names_and_settings_never_reach_a_shell(store, slurm, tmp_path, monkeypatch, capsys):
    """Structure names and --set values with ; $(...) backticks quotes and newlines, submitted and run
    through `phasefire queue launch` on SLURM: every job runs, no payload does."""
    monkeypatch.setenv("SLURM_CONF", str(slurm))
    monkeypatch.setenv("PHASEFIRE_MLIP_DEVICE", "cpu")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    files = [str(_write_structure(inputs, payload)) for payload in HOSTILE.values()]
    assert main(["submit", "relax", *(arg for f in files for arg in ("--structure", f)), "--set", "max_steps=2"]) == 0
    hostile_settings = [
        "fmax_eV_per_A=0.05;touch pwned-set-semicolon",
        "max_steps=$(touch pwned-set-dollar)",
        "pressure_GPa='`touch pwned-set-backtick`'",  # quoted: a bare backtick is not valid YAML
        "relax_cell=a\ntouch pwned-set-newline\nb",
    ]
    # the submit-time check may refuse bad values (one line, exit 1); if it does not, the job must still be safe
    set_args = [arg for value in hostile_settings for arg in ("--set", value)]
    assert main(["submit", "relax", "--structure", files[0], *set_args]) in (0, 1)
    quote = "model=x'\"; touch pwned-set-quote; echo '\""
    assert main(["submit", "relax", "--structure", files[1], "--set", quote]) in (0, 1)
    capsys.readouterr()

    launchpad = open_launchpad(store)
    submitted = launchpad.fireworks.count_documents({})
    assert main(["queue", "launch"]) == 0
    assert f"submitted {submitted} job(s) to SLURM" in capsys.readouterr().out
    deadline = time.time() + 600
    while (
        time.time() < deadline
        and launchpad.fireworks.count_documents({"state": {"$in": ["COMPLETED", "FIZZLED"]}}) < submitted
    ):
        time.sleep(2)
    states = [fw["state"] for fw in launchpad.fireworks.find({}, {"state": 1})]
    assert set(states) <= {"COMPLETED", "FIZZLED"}, f"every job ran its worker: {states}"
    assert states.count("COMPLETED") >= len(HOSTILE), "the relaxations of hostile-named structures completed"
    assert _pwned(tmp_path, store.runs_dir, Path.cwd(), Path.home()) == []
    assert not list(Path("/tmp").glob("pwned-*"))


def test_job_scripts_carry_every_worker_setting_override(store, monkeypatch):
    """One source of truth: each variable that overrides a worker setting is exported into the job."""
    from phasefire.workflows.commands import queue
    from phasefire.workflows.config import WORKER_ENV_OVERRIDES

    values = {
        "PHASEFIRE_VASP_GAMMA_CMD": "srun vasp_gam",
        "PHASEFIRE_MLIP_DEVICE": "cuda",
        "PHASEFIRE_VASP_CMD": "srun vasp",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    pre_rocket = queue.queue_adapter(store)["pre_rocket"]
    for name in WORKER_ENV_OVERRIDES.values():
        if name in values:
            assert f"{name}='{values[name]}'" in pre_rocket or f"{name}={values[name]}" in pre_rocket


def _fake_scheduler(folder: Path, monkeypatch, sbatch: str, squeue: str = "exit 0") -> None:
    """Stand-ins for sbatch/squeue first on PATH (a broken or a scripted scheduler, no SLURM needed)."""
    folder.mkdir(exist_ok=True)
    for name, body in (("sbatch", sbatch), ("squeue", squeue)):
        (folder / name).write_text(f"#!/bin/sh\n{body}\n")
        (folder / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def test_failed_submission_exits_nonzero_with_the_schedulers_own_error(store, tmp_path, monkeypatch, capsys):
    said = "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified"
    _fake_scheduler(tmp_path / "bin", monkeypatch, f"echo '{said}' >&2; exit 1")
    open_launchpad(store).add_wf(Workflow([Firework(ScriptTask.from_str("true"), name="q")]))
    assert main(["queue", "launch"]) == 1
    captured = capsys.readouterr()
    assert "submitted 0 job(s)" in captured.out
    assert said in captured.err and "Traceback" not in captured.err + captured.out
    assert open_launchpad(store).fireworks.find_one({})["state"] == "READY"


@pytest.mark.parametrize("njobs", ["0", "-1"])
def test_njobs_must_be_positive(store, capsys, njobs):
    assert main(["queue", "launch", "--njobs", njobs]) == 1
    assert f"--njobs must be at least 1, got {njobs}" in capsys.readouterr().err


def test_queue_commands_need_an_explicit_queue_section(store, tmp_path, monkeypatch, capsys):
    config = tmp_path / "launchpad.yaml"
    config.write_text("store: embedded\n")
    monkeypatch.setenv("PHASEFIRE_LAUNCHPAD", str(config))
    for action in ("launch", "status"):
        assert main(["queue", action]) == 1
        assert "has no queue: section naming q_type" in capsys.readouterr().err


def test_queue_status_shows_the_schedulers_view_beside_the_launchpads(store, tmp_path, monkeypatch, capsys):
    _fake_scheduler(
        tmp_path / "bin", monkeypatch, "echo 'Submitted batch job 4242'", "echo '4242|PENDING|q|0:00|(Priority)'"
    )
    open_launchpad(store).add_wf(Workflow([Firework(ScriptTask.from_str("true"), name="q")]))
    assert main(["queue", "launch"]) == 0
    assert "submitted 1 job(s) to SLURM (job 4242)" in capsys.readouterr().out
    assert main(["queue", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["scheduler"]["jobs"] == [
        {"job_id": "4242", "state": "PENDING", "name": "q", "elapsed": "0:00", "reason": "(Priority)"}
    ]
    assert status["launchpad"] == [
        {"fw_id": 1, "name": "q", "state": "RESERVED", "job_id": "4242", "scheduler_state": "PENDING"}
    ]
    _fake_scheduler(
        tmp_path / "bin", monkeypatch, "exit 1", "echo 'squeue: error: Unable to contact slurm controller' >&2; exit 1"
    )
    assert main(["queue", "status"]) == 1
    assert "error: squeue: error: Unable to contact slurm controller" in capsys.readouterr().out
