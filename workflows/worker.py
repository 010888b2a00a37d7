"""Run ready fireworks on this machine: one or several worker processes sharing the store."""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass

from fireworks.core.rocket_launcher import launch_rocket

from workflows.config import Settings, load_settings
from workflows.launchpad import make_fworker, open_launchpad

#: states in which a firework may still produce work for a worker
PENDING_STATES = ("READY", "RESERVED", "RUNNING")


def pending_fireworks(launchpad) -> int:
    return launchpad.fireworks.count_documents({"state": {"$in": list(PENDING_STATES)}})


def run_worker(settings_path: str | None = None, max_launches: int = 0, poll_s: float = 0.5) -> int:
    """Launch fireworks until none is pending (or ``max_launches`` > 0 ran); return how many ran.

    Each firework runs in its own folder (spec ``_launch_dir``, relative to the runs folder),
    so a rerun continues in the same folder and can pick up checkpoints there.
    """
    settings = load_settings(settings_path)
    launchpad = open_launchpad(settings)
    fworker = make_fworker(settings)
    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    launched = 0
    while not max_launches or launched < max_launches:
        os.chdir(settings.runs_dir)
        if launch_rocket(launchpad, fworker, strm_lvl="CRITICAL"):
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

    def start(self) -> list[multiprocessing.Process]:
        context = multiprocessing.get_context("spawn")
        processes = [
            context.Process(target=run_worker, args=(str(self.settings.source),), name=f"phasefire-worker-{k}")
            for k in range(self.workers)
        ]
        for process in processes:
            process.start()
        return processes
