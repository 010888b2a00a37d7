"""``phasefire run`` (launch ready fireworks locally) and ``phasefire status``."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import Any

from phasefire.workflows.commands._output import print_json, print_table
from phasefire.workflows.errors import PhasefireError


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run", help="run ready fireworks on this machine")
    run.add_argument("--workers", type=int, default=1, help="worker processes sharing the store (default 1)")
    run.add_argument(
        "--rerun-lost", action="store_true",
        help="first reset fireworks left RUNNING by a worker process that no longer exists",
    )  # fmt: skip
    run.set_defaults(handler=run_fireworks)

    status = subparsers.add_parser("status", help="fireworks and workflows in the LaunchPad")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=show_status)


def fizzled_ids(launchpad) -> set[int]:
    return {doc["fw_id"] for doc in launchpad.fireworks.find({"state": "FIZZLED"}, {"fw_id": 1})}


def firework_states(launchpad) -> Counter:
    return Counter(doc["state"] for doc in launchpad.fireworks.find({}, {"state": 1}))


def lost_runs(launchpad) -> list[dict[str, Any]]:
    from phasefire.workflows.worker import lost_runs as find_lost_runs

    return find_lost_runs(launchpad)


def fizzled_reason(launchpad, fw_id: int) -> str:
    """Last line of the error a FIZZLED firework stored (in its last launch, or, for a firework
    FireWorks could not even load, in its spec's ``_exception_details``)."""
    fw = launchpad.fireworks.find_one({"fw_id": fw_id}, {"launches": 1, "spec._exception_details": 1})
    launch = launchpad.launches.find_one({"launch_id": {"$in": fw.get("launches", [])}}, sort=[("launch_id", -1)])
    details = ((launch or {}).get("action") or {}).get("stored_data", {}).get("_exception", {})
    trace = str(details.get("_stacktrace", "")).strip().splitlines()
    if trace:
        return trace[-1]
    load_error = (fw.get("spec") or {}).get("_exception_details") or {}
    trace = str(load_error.get("_stacktrace", "")).strip().splitlines()
    if trace:
        return f"{load_error.get('_message', 'cannot be loaded')}: {trace[-1]}"
    return "no error recorded (see the worker log in the runs folder)"


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


def run_fireworks(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from phasefire.workflows.config import load_settings
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.worker import PENDING_STATES, WorkerPool

    if args.workers < 1:
        raise PhasefireError(f"--workers must be at least 1, got {args.workers}")
    settings = load_settings()
    launchpad = open_launchpad(settings)
    lost = lost_runs(launchpad)
    if args.rerun_lost:
        _rerun_lost(launchpad, lost)
        lost = []
    start_states = firework_states(launchpad)
    fizzled_before = fizzled_ids(launchpad)
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
    with tqdm(total=todo, desc=desc, unit="fw", disable=not sys.stderr.isatty()) as bar:
        # one round per pool: with --rerun-lost a run lost on the way (a worker killed) is reset and
        # a new pool picks it up; without, workers stop once only lost runs are left
        for _round in range(20):
            processes = WorkerPool(settings, args.workers).start()
            try:
                while any(p.is_alive() for p in processes):
                    time.sleep(0.5)
                    states = firework_states(launchpad)
                    bar.n = min(todo, states["COMPLETED"] + states["FIZZLED"] - finished_before)
                    bar.set_postfix(running=states["RUNNING"], fizzled=states["FIZZLED"] - start_states["FIZZLED"])
                    bar.refresh()
                    if args.rerun_lost and states["RUNNING"]:
                        _rerun_lost(launchpad, lost_runs(launchpad))
            finally:
                _stop(processes)
            crashed += [p.exitcode for p in processes if p.exitcode not in (0, None)]
            lost = lost_runs(launchpad)
            ready = launchpad.fireworks.count_documents({"state": "READY"})
            if not args.rerun_lost or not (lost or ready):
                break
            _rerun_lost(launchpad, lost)
    states = firework_states(launchpad)
    newly_fizzled = sorted(fizzled_ids(launchpad) - fizzled_before)
    print(f"completed {states['COMPLETED'] - start_states['COMPLETED']}, fizzled {len(newly_fizzled)}, "
          f"still waiting {states['WAITING']}", file=sys.stderr)  # fmt: skip
    for fw_id in newly_fizzled:
        print(f"firework {fw_id} FIZZLED: {fizzled_reason(launchpad, fw_id)}", file=sys.stderr)
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
    fizzled = [{"fw_id": fw_id, "reason": fizzled_reason(launchpad, fw_id)} for fw_id in sorted(fizzled_ids(launchpad))]
    data = {
        "fireworks": dict(firework_states(launchpad)),
        "workflows": workflows,
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
    for entry in fizzled:
        print(f"firework {entry['fw_id']} FIZZLED: {entry['reason']}")
    _report_lost(lost)
    return 0
