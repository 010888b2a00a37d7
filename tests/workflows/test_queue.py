"""Queue submission through FireWorks' queue adapters against a real single-node SLURM.

The ``slurm`` fixture starts munge, slurmctld and slurmd from Debian's packages (installed by
scripts/test.sh when run as root); without them these tests are skipped.
"""

from __future__ import annotations

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


def test_queue_launch_without_a_scheduler_names_the_fix(store, monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    open_launchpad(store).add_wf(Workflow([Firework(ScriptTask.from_str("true"))]))
    assert main(["queue", "launch"]) == 1
    err = capsys.readouterr().err
    assert "queue submit command 'sbatch' not found" in err
