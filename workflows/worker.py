"""Run ready fireworks on this machine: one or several worker processes sharing the store."""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path

from fireworks.core.rocket_launcher import launch_rocket

from phasefire.workflows.config import Settings, load_settings
from phasefire.workflows.launchpad import make_fworker, open_launchpad

#: states in which a firework may still produce work for a worker
PENDING_STATES = ("READY", "RESERVED", "RUNNING")

#: fireworks name their folder as "$PHASEFIRE_RUNS_DIR/<workflow>/<label>" (FireWorks expands
#: variables in ``_launch_dir``), so one workflow runs in whichever runs folder a worker has
RUNS_DIR_VARIABLE = "PHASEFIRE_RUNS_DIR"


def pending_fireworks(launchpad) -> int:
    return launchpad.fireworks.count_documents({"state": {"$in": list(PENDING_STATES)}})


def run_worker(
    settings_path: str | None = None,
    max_launches: int = 0,
    poll_s: float = 0.5,
    log_file: str | None = None,
    threads: int | None = None,
    fw_id: int | None = None,
) -> int:
    """Launch fireworks until none is pending (or ``max_launches`` > 0 ran); return how many ran.

    ``fw_id`` runs that firework only (a job reserved for it by ``phasefire queue launch``).

    Each firework runs in its own folder (spec ``_launch_dir``, under the runs folder),
    so a rerun continues in the same folder and can pick up checkpoints there.
    """
    import fireworks.core.rocket

    if threads:  # before torch/numpy start their thread pools: N workers share the cores
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[variable] = str(threads)
    if log_file:  # a spawned worker: keep FireWorks' tracebacks out of the progress display
        import sys

        sys.stdout = sys.stderr = open(log_file, "a", buffering=1)  # noqa: SIM115

    fireworks.core.rocket.ROCKET_STREAM_LOGLEVEL = "ERROR"  # errors are reported by `phasefire run`
    settings = load_settings(settings_path)
    launchpad = open_launchpad(settings)
    fworker = make_fworker(settings)
    fworker.env["worker_pid"] = os.getpid()  # stored with each launch: a dead pid marks a lost run
    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    os.environ[RUNS_DIR_VARIABLE] = str(settings.runs_dir)
    launched = 0
    while not max_launches or launched < max_launches:
        os.chdir(settings.runs_dir)
        if launch_rocket(launchpad, fworker, fw_id=fw_id, strm_lvl="CRITICAL"):
            launched += 1
        elif not pending_fireworks(launchpad):
            break
        else:
            time.sleep(poll_s)  # others are running parents of the remaining fireworks
    return launched


@dataclass
class WorkerPool:
    """N worker processes (spawned, so each opens its own LaunchPad) on the same store."""

    settings: Settings
    workers: int = 1

    def threads_per_worker(self) -> int:
        """Configured MLIP threads, else the cores split evenly (oversubscribed torch crawls)."""
        configured = self.settings.worker.get("mlip_threads")
        return int(configured) if configured else max(1, (os.cpu_count() or 1) // self.workers)

    def log_file(self, k: int) -> Path:
        return self.settings.runs_dir / f"worker-{k}.log"

    def start(self) -> list[multiprocessing.Process]:
        context = multiprocessing.get_context("spawn")
        self.settings.runs_dir.mkdir(parents=True, exist_ok=True)
        processes = [
            context.Process(
                target=run_worker,
                kwargs={
                    "settings_path": str(self.settings.source),
                    "log_file": str(self.log_file(k)),
                    "threads": self.threads_per_worker(),
                },
                name=f"phasefire-worker-{k}",
            )
            for k in range(self.workers)
        ]
        for process in processes:
            process.start()
        return processes
