"""``phasefire run`` (launch ready fireworks locally) and ``phasefire status``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections import Counter
from typing import Any

from phasefire.workflows.commands._output import positive_int, print_json, print_table
from phasefire.workflows.errors import PhasefireError


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run", help="run ready fireworks on this machine")
    run.add_argument(
        "--workers", type=positive_int("--workers"), default=1, help="worker processes sharing the store (default 1)"
    )
    run.add_argument(
        "--rerun-lost", action="store_true",
        help="first reset fireworks left RUNNING by a worker process that no longer exists",
    )  # fmt: skip
    run.add_argument(
        "--workflow", action="append", metavar="W",
        help="run only this workflow's fireworks: its name or id (see `phasefire status`); repeatable",
    )  # fmt: skip
    run.set_defaults(handler=run_fireworks)

    status = subparsers.add_parser("status", help="fireworks and workflows in the LaunchPad")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=show_status)


def workflow_fw_ids(launchpad, workflows: list[str] | None) -> list[int] | None:
    """The fireworks of the workflows named (by name, or by the id `phasefire status` shows, i.e.
    any of its fw_ids); None when no workflow is named (everything)."""
    if not workflows:
        return None
    fw_ids: set[int] = set()
    for name in workflows:
        text = str(name).strip()
        query = {"nodes": int(text)} if text.isdigit() else {"name": text}
        found = list(launchpad.workflows.find(query, {"nodes": 1}))
        if not found:
            raise PhasefireError(f"no workflow '{text}' in the store; `phasefire status` lists names and ids")
        for wf in found:
            fw_ids.update(int(i) for i in wf["nodes"])
    return sorted(fw_ids)


def _scope(fw_ids: list[int] | None) -> dict[str, Any]:
    return {} if fw_ids is None else {"fw_id": {"$in": list(fw_ids)}}


def fizzled_ids(launchpad, fw_ids: list[int] | None = None) -> set[int]:
    return {doc["fw_id"] for doc in launchpad.fireworks.find({**_scope(fw_ids), "state": "FIZZLED"}, {"fw_id": 1})}


def firework_states(launchpad, fw_ids: list[int] | None = None) -> Counter:
    return Counter(doc["state"] for doc in launchpad.fireworks.find(_scope(fw_ids), {"state": 1}))


def lost_runs(launchpad) -> list[dict[str, Any]]:
    from phasefire.workflows.worker import lost_runs as find_lost_runs

    return find_lost_runs(launchpad)


def failure_line(stacktrace: str) -> str:
    """The first line of the exception a traceback ends with, without module paths
    (``phasefire.workflows.errors.PhasefireError: x`` -> ``x``; ``a.b.KeyError: 'k'`` -> ``KeyError: 'k'``)."""
    lines = [line for line in str(stacktrace).rstrip().splitlines() if line.strip()]
    if not lines:
        return ""
    start = 0
    for k, line in enumerate(lines):  # the exception starts at the first unindented line after the last frame
        if line.startswith("  File ") or line.startswith("Traceback "):
            start = k + 1
    while start < len(lines) and lines[start].startswith(" "):
        start += 1
    first = lines[min(start, len(lines) - 1)].strip()
    kind, sep, message = first.partition(": ")
    if sep and " " not in kind:
        kind = kind.rsplit(".", 1)[-1]
        return message if kind == "PhasefireError" else f"{kind}: {message}"
    return first


def failure(launchpad, fw_id: int) -> dict[str, Any]:
    """What a FIZZLED firework stored: ``error`` (its first line), ``traceback`` (FireWorks' text)
    and the ``launch`` it happened in (None for a firework FireWorks could not even load: then
    the error is its spec's ``_exception_details``)."""
    fw = launchpad.fireworks.find_one({"fw_id": fw_id}, {"launches": 1, "spec._exception_details": 1}) or {}
    launch = launchpad.launches.find_one({"launch_id": {"$in": fw.get("launches", [])}}, sort=[("launch_id", -1)])
    details = ((launch or {}).get("action") or {}).get("stored_data", {}).get("_exception", {})
    trace = str(details.get("_stacktrace", "")).strip()
    if trace:
        return {"error": failure_line(trace), "traceback": trace, "launch": launch}
    load_error = (fw.get("spec") or {}).get("_exception_details") or {}
    trace = str(load_error.get("_stacktrace", "")).strip()
    if trace:
        message = f"{load_error.get('_message', 'cannot be loaded')}: {failure_line(trace)}"
        return {"error": message, "traceback": trace, "launch": launch}
    return {"error": "no error recorded (see the worker log in the runs folder)", "traceback": "", "launch": launch}


def fizzled_reason(launchpad, fw_id: int) -> str:
    """First line of the error a FIZZLED firework stored (see ``failure``)."""
    return failure(launchpad, fw_id)["error"]


def _report_lost(lost: list[dict[str, Any]]) -> None:
    for run in lost:
        print(f"firework {run['fw_id']} ({run['name']}) is lost: {run['reason']} (host {run['host']}, "
              f"folder {run['launch_dir']})", file=sys.stderr)  # fmt: skip
    if lost:
        print("rerun lost fireworks with: phasefire run --rerun-lost", file=sys.stderr)


def _rerun_lost(launchpad, lost: list[dict[str, Any]]) -> None:
    for run in lost:
        launchpad.rerun_fw(run["fw_id"])
        print(
            f"reset lost firework {run['fw_id']} ({run['name']}); it will continue in {run['launch_dir']}",
            file=sys.stderr,
        )


def _stop(processes) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join()


#: exit status of a run stopped by Ctrl-C (128 + SIGINT, as shells report it)
EXIT_INTERRUPTED = 130


class Interrupt:
    """SIGINT while workers run: the first stops launching (``stop`` is set, the running
    fireworks finish), the second kills the workers' process groups at once (their fireworks stay
    RUNNING under a dead pid, i.e. lost: ``phasefire run --rerun-lost`` resumes them, in their
    folders). Never raises, so no traceback; writes with os.write (safe inside a handler)."""

    def __init__(self, stop) -> None:
        self.stop = stop
        self.count = 0
        self.processes: list = []

    def __call__(self, signum, frame) -> None:
        self.count += 1
        if self.count == 1:
            self.stop.set()
            _say("phasefire: stopping: no new firework will start; the running ones finish first "
                 "(Ctrl-C again stops them now, rerunnable with `phasefire run --rerun-lost`)")  # fmt: skip
            return
        for process in self.processes:
            for kill in (lambda p: os.killpg(p.pid, signal.SIGKILL), lambda p: os.kill(p.pid, signal.SIGKILL)):
                try:
                    kill(process)
                    break
                except (ProcessLookupError, PermissionError, TypeError):
                    continue
        if self.count == 2:
            _say("phasefire: stopping now")


def _say(message: str) -> None:
    os.write(sys.stderr.fileno(), (message + "\n").encode())


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _resume_hint(workflow_ids: list[int] | None) -> str:
    return "".join(f" --workflow {i}" for i in workflow_ids or [])


def run_fireworks(args: argparse.Namespace) -> int:
    """Run ready fireworks (all, or those of ``--workflow``/``args.fw_ids``) with local workers;
    Ctrl-C as in ``Interrupt``. Human output goes to stderr."""
    import multiprocessing

    from tqdm import tqdm

    from phasefire.workflows.config import load_settings
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.worker import PENDING_STATES, WorkerPool, running_fireworks

    if args.workers < 1:
        raise PhasefireError(f"--workers must be at least 1, got {args.workers}")
    settings = load_settings()
    launchpad = open_launchpad(settings)
    fw_ids = getattr(args, "fw_ids", None)
    if fw_ids is None:
        fw_ids = workflow_fw_ids(launchpad, getattr(args, "workflow", None))
    in_scope = None if fw_ids is None else set(fw_ids)
    workflow_ids = None
    if fw_ids is not None:
        roots = launchpad.workflows.find({"nodes": {"$in": list(fw_ids)}}, {"nodes": 1})
        workflow_ids = sorted({min(wf["nodes"]) for wf in roots})

    def scoped_lost() -> list[dict[str, Any]]:
        return [run for run in lost_runs(launchpad) if in_scope is None or run["fw_id"] in in_scope]

    lost = scoped_lost()
    if args.rerun_lost:
        _rerun_lost(launchpad, lost)
        lost = []
    start_states = firework_states(launchpad, fw_ids)
    fizzled_before = fizzled_ids(launchpad, fw_ids)
    todo = sum(start_states[s] for s in (*PENDING_STATES, "WAITING")) - len(lost)
    if not todo:
        if lost:
            _report_lost(lost)
            return 1
        print("nothing to run: no READY or WAITING fireworks (see `phasefire status`)", file=sys.stderr)
        return 0
    finished_before = start_states["COMPLETED"] + start_states["FIZZLED"]
    desc = f"fireworks ({args.workers} worker{'s' * (args.workers > 1)})"
    crashed: list[int] = []
    stop = multiprocessing.get_context("spawn").Event()
    interrupt = Interrupt(stop)
    handle_signals = _in_main_thread()
    previous = signal.getsignal(signal.SIGINT) if handle_signals else None
    try:
        with tqdm(total=todo, desc=desc, unit="fw", disable=not sys.stderr.isatty()) as bar:
            # one round per pool: with --rerun-lost a run lost on the way (a worker killed) is reset and
            # a new pool picks it up; without, workers stop once only lost runs are left
            for _round in range(20):
                if handle_signals:  # workers start with SIGINT ignored: no KeyboardInterrupt in them
                    signal.signal(signal.SIGINT, signal.SIG_IGN)
                processes = WorkerPool(settings, args.workers, fw_ids=fw_ids, stop=stop).start()
                interrupt.processes = processes
                if handle_signals:
                    signal.signal(signal.SIGINT, interrupt)
                try:
                    while any(p.is_alive() for p in processes):
                        time.sleep(0.5)
                        if interrupt.count:
                            continue
                        states = firework_states(launchpad, fw_ids)
                        bar.n = min(todo, states["COMPLETED"] + states["FIZZLED"] - finished_before)
                        postfix = {"running": states["RUNNING"], "fizzled": states["FIZZLED"] - start_states["FIZZLED"]}
                        if not bar.disable and states["RUNNING"]:  # steps inside a firework, where its driver logs them
                            steps = [r["progress"] for r in running_fireworks(launchpad, fw_ids) if r["progress"]]
                            if steps:
                                postfix["now"] = steps[0][:60]
                        bar.set_postfix(postfix)
                        bar.refresh()
                        if args.rerun_lost and states["RUNNING"]:
                            _rerun_lost(launchpad, scoped_lost())
                finally:
                    _stop(processes)
                crashed += [p.exitcode for p in processes if p.exitcode not in (0, None)]
                lost = scoped_lost()
                ready = launchpad.fireworks.count_documents({**_scope(fw_ids), "state": "READY"})
                if interrupt.count or not args.rerun_lost or not (lost or ready):
                    break
                _rerun_lost(launchpad, lost)
    finally:
        if handle_signals:
            signal.signal(signal.SIGINT, previous)
    states = firework_states(launchpad, fw_ids)
    newly_fizzled = sorted(fizzled_ids(launchpad, fw_ids) - fizzled_before)
    print(f"completed {states['COMPLETED'] - start_states['COMPLETED']}, fizzled {len(newly_fizzled)}, "
          f"still waiting {states['WAITING']}", file=sys.stderr)  # fmt: skip
    for fw_id in newly_fizzled:
        print(f"firework {fw_id} FIZZLED: {fizzled_reason(launchpad, fw_id)}", file=sys.stderr)
    if interrupt.count:
        scope = _resume_hint(workflow_ids)
        not_started = states["READY"] + states["WAITING"]
        if lost:
            names = ", ".join(f"{run['fw_id']} ({run['name']})" for run in lost)
            print(f"interrupted: firework(s) {names} stopped mid-run and stay rerunnable in their folders; "
                  f"{not_started} not started; resume with: phasefire run --rerun-lost{scope}", file=sys.stderr)  # fmt: skip
        else:
            print(f"interrupted: nothing is left half-done; {not_started} firework(s) not started; "
                  f"resume with: phasefire run{scope}", file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED
    if crashed:
        print(f"{len(crashed)} worker process(es) exited abnormally (exit codes {crashed})", file=sys.stderr)
    _report_lost(lost)
    return 1 if newly_fizzled or lost or (crashed and not args.rerun_lost) else 0


def show_status(args: argparse.Namespace) -> int:
    from phasefire.workflows.launchpad import open_launchpad

    launchpad = open_launchpad()
    workflows = []
    for wf in launchpad.workflows.find({}, {"name": 1, "state": 1, "nodes": 1, "fw_states": 1}).sort("nodes", 1):
        fws = [
            {"fw_id": int(fw_id), "state": state}
            for fw_id, state in sorted((wf.get("fw_states") or {}).items(), key=lambda kv: int(kv[0]))
        ]
        workflows.append({"id": min(wf["nodes"]), "name": wf["name"], "state": wf["state"], "fireworks": fws})
    lost = lost_runs(launchpad)
    from phasefire.workflows.worker import running_fireworks

    fizzled = [{"fw_id": fw_id, "reason": fizzled_reason(launchpad, fw_id)} for fw_id in sorted(fizzled_ids(launchpad))]
    data = {
        "fireworks": dict(firework_states(launchpad)),
        "workflows": workflows,
        "running": running_fireworks(launchpad),
        "lost_runs": lost,
        "fizzled": fizzled,
    }
    if args.json:
        print_json(data)
        return 0
    if not workflows:
        print("no workflows yet: add one with `phasefire submit relax --structure NAME`")
        return 0
    print_table(
        [[wf["id"], wf["name"], wf["state"], len(wf["fireworks"])] for wf in workflows],
        ["id", "workflow", "state", "fireworks"],
    )
    print("fireworks: " + ", ".join(f"{n} {state}" for state, n in sorted(data["fireworks"].items())))
    lost_ids = {run["fw_id"] for run in lost}
    for entry in data["running"]:
        if entry["fw_id"] not in lost_ids:
            print(f"firework {entry['fw_id']} RUNNING ({entry['name']}): {entry['progress'] or 'no step log yet'}")
    for entry in fizzled:
        print(f"firework {entry['fw_id']} FIZZLED: {entry['reason']}")
    if fizzled:
        print("details: phasefire show FW_ID; retry: phasefire rerun FW_ID (or --fizzled)")
    _report_lost(lost)
    return 0
