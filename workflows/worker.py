"""Run ready fireworks on this machine: one or several worker processes sharing the store."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fireworks import FWorker
from fireworks.core.rocket_launcher import launch_rocket

from phasefire.workflows.config import Settings, load_settings
from phasefire.workflows.launchpad import make_fworker, open_launchpad

#: states in which a firework may still produce work for a worker
PENDING_STATES = ("READY", "RESERVED", "RUNNING")

#: fireworks name their folder as "$PHASEFIRE_RUNS_DIR/<workflow>/<label>" (FireWorks expands
#: variables in ``_launch_dir``), so one workflow runs in whichever runs folder a worker has
RUNS_DIR_VARIABLE = "PHASEFIRE_RUNS_DIR"

#: a RUNNING launch on another host is lost when it has not pinged for this long (FireWorks' default)
LOST_AFTER_S = 4 * 3600


def lost_runs(launchpad, expiration_s: float = LOST_AFTER_S) -> list[dict[str, Any]]:
    """RUNNING fireworks whose run is gone: on this host, the worker process (its pid is stored with
    each launch) no longer exists, e.g. after ``kill -9``; on any host, FireWorks' ``detect_lostruns``
    finds no ping for ``expiration_s``."""
    lost: dict[int, dict[str, Any]] = {}
    host = socket.gethostname()
    for fw in launchpad.fireworks.find({"state": "RUNNING"}, {"fw_id": 1, "name": 1, "launches": 1}):
        launch = launchpad.launches.find_one({"launch_id": {"$in": fw.get("launches", [])}, "state": "RUNNING"})
        if launch is None:
            continue
        pid = ((launch.get("fworker") or {}).get("env") or {}).get("worker_pid")
        if pid is None or launch.get("host") != host:
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            lost[fw["fw_id"]] = {
                "fw_id": fw["fw_id"], "name": fw["name"], "pid": pid, "host": host,
                "launch_dir": launch.get("launch_dir"), "reason": f"its worker (pid {pid}) is gone",
            }  # fmt: skip
        except PermissionError:
            pass  # another user's live process
    _, expired_fw_ids, _ = launchpad.detect_lostruns(expiration_secs=expiration_s)
    for fw_id in set(expired_fw_ids) - set(lost):
        fw = launchpad.fireworks.find_one({"fw_id": fw_id}, {"name": 1, "launches": 1})
        launch = launchpad.launches.find_one({"launch_id": {"$in": fw.get("launches", [])}}, sort=[("launch_id", -1)])
        lost[fw_id] = {
            "fw_id": fw_id, "name": fw["name"], "pid": None, "host": (launch or {}).get("host"),
            "launch_dir": (launch or {}).get("launch_dir"), "reason": f"no sign of life for {expiration_s:g} s",
        }  # fmt: skip
    return sorted(lost.values(), key=lambda run: run["fw_id"])


def scope_query(fw_ids: list[int] | None) -> dict[str, Any]:
    """The FWorker query that limits a worker to ``fw_ids`` (all fireworks when None)."""
    return {} if fw_ids is None else {"fw_id": {"$in": sorted(int(i) for i in fw_ids)}}


def pending_fireworks(launchpad, fw_ids: list[int] | None = None) -> int:
    """Fireworks (of ``fw_ids``, else all) a worker may still get work from: READY, RESERVED,
    or RUNNING somewhere alive."""
    scope = scope_query(fw_ids)
    pending = launchpad.fireworks.count_documents({**scope, "state": {"$in": list(PENDING_STATES)}})
    if pending and launchpad.fireworks.count_documents({**scope, "state": "RUNNING"}):
        in_scope = None if fw_ids is None else set(fw_ids)
        pending -= sum(1 for run in lost_runs(launchpad) if in_scope is None or run["fw_id"] in in_scope)
    return pending


def die_with_parent(parent_pid: int) -> None:
    """Make this worker, and everything it starts, end when its parent ends (even by SIGKILL).

    Written here because no library does it: the worker leads its own process group, asks Linux
    for SIGTERM when its parent dies (``prctl(PR_SET_PDEATHSIG)`` through ctypes), and answers
    SIGTERM by killing its whole group (so a running code such as VASP goes too)."""
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, lambda *_: os.killpg(os.getpgid(0), signal.SIGKILL))
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os.killpg(os.getpgid(0), signal.SIGKILL)


def run_worker(
    settings_path: str | None = None,
    max_launches: int = 0,
    poll_s: float = 0.5,
    log_file: str | None = None,
    threads: int | None = None,
    fw_id: int | None = None,
    parent_pid: int | None = None,
    fw_ids: list[int] | None = None,
    stop=None,
) -> int:
    """Launch fireworks until none is pending (or ``max_launches`` > 0 ran); return how many ran.

    ``fw_id`` runs that firework only (a job reserved for it by ``phasefire queue launch``).
    ``fw_ids`` limits the worker to those fireworks (FireWorks' FWorker ``query``): ``phasefire
    run --workflow`` and ``reproduce`` run only their own workflow's fireworks.
    ``parent_pid``: a worker started by ``phasefire run`` ends with it (``die_with_parent``) and
    ignores SIGINT (its parent decides what a Ctrl-C means); ``stop`` (an Event): once set, the
    worker launches nothing more and returns after the firework it is running.
    Fireworks left RUNNING by a dead worker do not count as pending (``phasefire run`` reports them).

    Each firework runs in its own folder (spec ``_launch_dir``, under the runs folder),
    so a rerun continues in the same folder and can pick up checkpoints there.
    """
    import fireworks.core.rocket

    from phasefire.workflows.store import make_private_dirs

    if parent_pid is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        die_with_parent(parent_pid)
    if threads:  # before torch/numpy start their thread pools: N workers share the cores
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[variable] = str(threads)
    if log_file:  # a spawned worker: keep FireWorks' tracebacks out of the progress display
        sys.stdout = sys.stderr = open(log_file, "a", buffering=1)  # noqa: SIM115

    fireworks.core.rocket.ROCKET_STREAM_LOGLEVEL = "ERROR"  # errors are reported by `phasefire run`
    settings = load_settings(settings_path)
    launchpad = open_launchpad(settings)
    fworker = make_fworker(settings)
    fworker.env["worker_pid"] = os.getpid()  # stored with each launch: a dead pid marks a lost run
    if log_file:
        fworker.env["worker_log"] = str(Path(log_file).resolve())  # `phasefire show` points to it
    if fw_ids is not None:
        fworker = FWorker(fworker.name, fworker.category, scope_query(fw_ids), fworker.env)
    make_private_dirs(settings.runs_dir)
    os.environ[RUNS_DIR_VARIABLE] = str(settings.runs_dir)
    launched = 0
    while (not max_launches or launched < max_launches) and not (stop is not None and stop.is_set()):
        os.chdir(settings.runs_dir)
        if launch_rocket(launchpad, fworker, fw_id=fw_id, strm_lvl="CRITICAL"):
            launched += 1
        elif fw_id is not None or pending_fireworks(launchpad, fw_ids) <= 0:
            break
        elif stop is not None:
            stop.wait(poll_s)  # others are running parents of the remaining fireworks
        else:
            time.sleep(poll_s)
    return launched


@dataclass
class WorkerPool:
    """N worker processes (spawned, so each opens its own LaunchPad) on the same store."""

    settings: Settings
    workers: int = 1
    fw_ids: list[int] | None = None
    stop: Any = None

    def threads_per_worker(self) -> int:
        """Configured MLIP threads, else the cores split evenly (oversubscribed torch crawls)."""
        configured = self.settings.worker.get("mlip_threads")
        return int(configured) if configured else max(1, (os.cpu_count() or 1) // self.workers)

    def log_file(self, k: int) -> Path:
        return self.settings.runs_dir / f"worker-{k}.log"

    def start(self) -> list[multiprocessing.Process]:
        from phasefire.workflows.store import make_private_dirs

        context = multiprocessing.get_context("spawn")
        make_private_dirs(self.settings.runs_dir)
        processes = [
            context.Process(
                target=run_worker,
                kwargs={
                    "settings_path": str(self.settings.source),
                    "log_file": str(self.log_file(k)),
                    "threads": self.threads_per_worker(),
                    "parent_pid": os.getpid(),
                    "fw_ids": self.fw_ids,
                    "stop": self.stop,
                },
                name=f"phasefire-worker-{k}",
            )
            for k in range(self.workers)
        ]
        for process in processes:
            process.start()
        return processes


#: logs the ASE drivers write in a run folder as they go (relax/NEB: the optimiser's; MD: ``md.log``)
PROGRESS_LOGS = ("md.log", "relax.log", "neb.log")


def firework_progress(launch_dir: str | os.PathLike | None) -> str | None:
    """The last line of the driver log most recently written in ``launch_dir`` (steps inside a
    running firework), as ``"<log>: <line>"``; None when no driver reports steps there."""
    if not launch_dir:
        return None
    folder = Path(launch_dir)
    logs = [folder / name for name in PROGRESS_LOGS if (folder / name).is_file()]
    for log in sorted(logs, key=lambda path: path.stat().st_mtime, reverse=True):
        with open(log, "rb") as fh:
            fh.seek(max(0, log.stat().st_size - 4096))
            lines = [line.strip() for line in fh.read().decode(errors="replace").splitlines() if line.strip()]
        if lines:
            return f"{log.name}: {' '.join(lines[-1].split())}"
    return None


def running_fireworks(launchpad, fw_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """RUNNING fireworks with their run folder and progress (``firework_progress``)."""
    scope = {} if fw_ids is None else {"fw_id": {"$in": list(fw_ids)}}
    running = []
    for fw in launchpad.fireworks.find({**scope, "state": "RUNNING"}, {"fw_id": 1, "name": 1, "launches": 1}):
        launch = launchpad.launches.find_one({"launch_id": {"$in": fw.get("launches", [])}}, sort=[("launch_id", -1)])
        launch_dir = (launch or {}).get("launch_dir")
        running.append(
            {
                "fw_id": fw["fw_id"],
                "name": fw["name"],
                "launch_dir": launch_dir,
                "progress": firework_progress(launch_dir),
            }
        )
    return sorted(running, key=lambda run: run["fw_id"])
