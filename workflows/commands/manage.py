"""Managing work in the store: ``phasefire show``, ``rerun``, ``cancel``, ``lpad`` and ``config``."""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path
from typing import Any

from phasefire.workflows.commands._output import positive_int, print_json
from phasefire.workflows.errors import PhasefireError

#: lines of a failed firework's traceback `phasefire show` prints (all of it with --json)
TRACEBACK_HEAD_LINES = 12

#: states `phasefire cancel` defuses (FireWorks' defuse_fw would rerun a COMPLETED or RUNNING one first)
CANCELLABLE = ("WAITING", "READY", "FIZZLED", "PAUSED")


def register(subparsers: argparse._SubParsersAction) -> None:
    show = subparsers.add_parser("show", help="one firework: state, error, run folder, log, task id")
    show.add_argument("fw_id", type=positive_int("FW_ID"), metavar="FW_ID")
    show.add_argument("--json", action="store_true", help="print JSON (with the whole traceback)")
    show.set_defaults(handler=show_firework)

    rerun = subparsers.add_parser(
        "rerun", help="run a firework again (FW_ID), every FIZZLED one, or every lost one",
        description="Reset fireworks so that `phasefire run` runs them again in their folders. A COMPLETED "
        "firework (and its completed children) is recomputed: its stored result moves to superseded_tasks.",
    )  # fmt: skip
    rerun.add_argument("fw_id", type=positive_int("FW_ID"), nargs="?", metavar="FW_ID")
    rerun.add_argument("--fizzled", action="store_true", help="every FIZZLED firework")
    rerun.add_argument("--lost", action="store_true", help="every RUNNING firework whose worker is gone")
    rerun.add_argument("--workflow", action="append", metavar="W", help="only in this workflow (name or id)")
    rerun.set_defaults(handler=rerun_fireworks)

    cancel = subparsers.add_parser("cancel", help="cancel (defuse) a firework, or what is left of a workflow")
    cancel.add_argument("fw_id", type=positive_int("FW_ID"), nargs="?", metavar="FW_ID")
    cancel.add_argument("--workflow", action="append", metavar="W", help="a workflow (name or id)")
    cancel.set_defaults(handler=cancel_fireworks)

    lpad = subparsers.add_parser(
        "lpad", prefix_chars="\x01", add_help=False,
        help="FireWorks' own lpad on the configured store (under its lock), e.g. `phasefire lpad get_wflows -d more`",
    )  # fmt: skip
    lpad.add_argument("lpad_args", nargs=argparse.REMAINDER, metavar="ARGS")
    lpad.set_defaults(handler=run_lpad)

    config = subparsers.add_parser("config", help="which launchpad.yaml, store, runs folder and worker settings apply")
    config.add_argument("--json", action="store_true", help="print JSON")
    config.set_defaults(handler=show_config)


def _firework(launchpad, fw_id: int) -> dict[str, Any]:
    fw = launchpad.fireworks.find_one({"fw_id": int(fw_id)}, {"fw_id": 1, "name": 1, "state": 1, "launches": 1,
                                                               "spec._launch_dir": 1, "updated_on": 1})  # fmt: skip
    if fw is None:
        raise PhasefireError(f"no firework {fw_id} in the store; `phasefire status` lists them")
    return fw


def _workflow_of(launchpad, fw_id: int) -> dict[str, Any]:
    wf = launchpad.workflows.find_one({"nodes": int(fw_id)}, {"name": 1, "nodes": 1, "links": 1}) or {}
    return {"id": min(wf["nodes"]) if wf else None, "name": wf.get("name"), "links": wf.get("links") or {}}


def reservation_id(launch: dict[str, Any]) -> str | None:
    """The queue job a launch was reserved for (FireWorks keeps it in the state history)."""
    ids = [entry["reservation_id"] for entry in launch.get("state_history") or [] if entry.get("reservation_id")]
    return str(ids[-1]) if ids else None


def firework_details(launchpad, fw_id: int) -> dict[str, Any]:
    """What ``phasefire show`` reports about one firework."""
    from phasefire.workflows.commands.run import failure
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.worker import firework_progress, lost_runs

    fw = _firework(launchpad, fw_id)
    workflow = _workflow_of(launchpad, fw_id)
    launch = launchpad.launches.find_one({"launch_id": {"$in": fw.get("launches", [])}}, sort=[("launch_id", -1)])
    launch = launch or {}
    env = (launch.get("fworker") or {}).get("env") or {}
    run_dir = launch.get("launch_dir")
    logs = [env["worker_log"]] if env.get("worker_log") else []
    if run_dir:  # a queue job's own output, and the driver logs of the calculation
        logs += sorted(glob.glob(str(Path(glob.escape(run_dir)) / "*.out")))
        logs += sorted(glob.glob(str(Path(glob.escape(run_dir)) / "*.error")))
        logs += [str(Path(run_dir) / n) for n in ("md.log", "relax.log", "neb.log") if (Path(run_dir) / n).is_file()]
    stored = ResultsDB(launchpad).find_by_fw_id(int(fw_id))
    task_id = (
        stored.get("task_id") if stored else ((launch.get("action") or {}).get("stored_data") or {}).get("task_id")
    )
    details: dict[str, Any] = {
        "fw_id": fw["fw_id"],
        "name": fw["name"],
        "state": fw["state"],
        "workflow": workflow["name"],
        "workflow_id": workflow["id"],
        "run_dir": run_dir,
        "host": launch.get("host"),
        "worker_pid": env.get("worker_pid"),
        "queue_job_id": reservation_id(launch),
        "logs": logs,
        "task_id": task_id,
        "superseded_task_ids": [doc["task_id"] for doc in ResultsDB(launchpad).superseded(int(fw_id))],
        "error": None,
        "traceback": None,
        "progress": firework_progress(run_dir) if fw["state"] == "RUNNING" else None,
        "lost": fw["state"] == "RUNNING" and any(run["fw_id"] == fw["fw_id"] for run in lost_runs(launchpad)),
    }
    if fw["state"] == "FIZZLED":
        found = failure(launchpad, fw["fw_id"])
        details["error"], details["traceback"] = found["error"], found["traceback"]
    return details


def show_firework(args: argparse.Namespace) -> int:
    from phasefire.workflows.launchpad import open_launchpad

    details = firework_details(open_launchpad(), args.fw_id)
    if args.json:
        print_json(details)
        return 0
    workflow = f"{details['workflow']} (id {details['workflow_id']})" if details["workflow"] else "-"
    state = details["state"] + (" (lost: its worker is gone; `phasefire rerun --lost`)" if details["lost"] else "")
    rows = [
        ("firework", f"{details['fw_id']} {details['name']}"),
        ("state", state),
        ("workflow", workflow),
        ("run folder", details["run_dir"] or "- (not started)"),
        ("host", details["host"] or "-"),
        ("queue job", details["queue_job_id"] or "-"),
        ("logs", ", ".join(details["logs"]) or "-"),
        ("task id", details["task_id"] if details["task_id"] is not None else "-"),
    ]
    if details["superseded_task_ids"]:
        rows.append(("superseded task ids", ", ".join(map(str, details["superseded_task_ids"]))))
    if details["progress"]:
        rows.append(("progress", details["progress"]))
    if details["error"]:
        rows.append(("error", details["error"]))
    for key, value in rows:
        print(f"{key + ':':<21}{value}")
    if details["traceback"]:
        lines = details["traceback"].splitlines()
        shown = lines[:TRACEBACK_HEAD_LINES]
        print(f"traceback (first {len(shown)} of {len(lines)} lines; all with --json):")
        for line in shown:
            print(f"  {line}")
    return 0


def _descendants(links: dict[str, list[int]], fw_id: int) -> list[int]:
    found, todo = set(), [int(fw_id)]
    while todo:
        for child in links.get(str(todo.pop()), []):
            if int(child) not in found:
                found.add(int(child))
                todo.append(int(child))
    return sorted(found)


def rerun_one(launchpad, fw_id: int) -> str:
    """Reset one firework for `phasefire run`; a COMPLETED one, and its COMPLETED descendants
    (FireWorks reruns them too), first have their stored results superseded so they recompute."""
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.worker import lost_runs

    fw = _firework(launchpad, fw_id)
    state = fw["state"]
    if state in ("READY", "WAITING"):
        return f"firework {fw_id} is {state} already: `phasefire run` will run it"
    if state == "RESERVED":
        raise PhasefireError(f"firework {fw_id} is RESERVED by a queue job; cancel that job first "
                             "(see `phasefire queue status`), then rerun")  # fmt: skip
    if state == "RUNNING" and not any(run["fw_id"] == fw_id for run in lost_runs(launchpad)):
        raise PhasefireError(f"firework {fw_id} is RUNNING; stop its `phasefire run` (Ctrl-C twice) or its queue job "
                             "first, then `phasefire rerun --lost`")  # fmt: skip
    if state == "DEFUSED":
        launchpad.reignite_fw(fw_id)
        return f"firework {fw_id} ({fw['name']}) was cancelled; re-ignited: `phasefire run` will run it"
    note = ""
    if state == "COMPLETED":
        links = _workflow_of(launchpad, fw_id)["links"]
        family = [fw_id, *_descendants(links, fw_id)]
        completed = [doc["fw_id"] for doc in launchpad.fireworks.find({"fw_id": {"$in": family}, "state": "COMPLETED"})]
        moved = ResultsDB(launchpad).supersede(completed)
        if moved:
            note = f"; its stored result(s) {', '.join(map(str, moved))} moved to superseded_tasks"
    launchpad.rerun_fw(fw_id)
    return f"firework {fw_id} ({fw['name']}) was {state}, reset to run again in its folder{note}"


def rerun_fireworks(args: argparse.Namespace) -> int:
    from phasefire.workflows.commands.run import fizzled_ids, workflow_fw_ids
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.worker import lost_runs

    chosen = [args.fw_id is not None, args.fizzled, args.lost]
    if sum(chosen) != 1:
        raise PhasefireError("say what to rerun: one of FW_ID, --fizzled or --lost")
    launchpad = open_launchpad()
    scope = workflow_fw_ids(launchpad, args.workflow)
    if args.fw_id is not None:
        if scope is not None and args.fw_id not in scope:
            raise PhasefireError(f"firework {args.fw_id} is not in workflow {', '.join(args.workflow)}")
        targets = [args.fw_id]
    elif args.fizzled:
        targets = sorted(fizzled_ids(launchpad, scope))
    else:
        targets = [run["fw_id"] for run in lost_runs(launchpad) if scope is None or run["fw_id"] in scope]
    if not targets:
        print(f"nothing to rerun: no {'FIZZLED' if args.fizzled else 'lost'} fireworks", file=sys.stderr)
        return 0
    for fw_id in targets:
        print(rerun_one(launchpad, fw_id))
    hint = "".join(f" --workflow {w}" for w in args.workflow or [])
    print(f"run them with: phasefire run{hint}")
    return 0


def cancel_fireworks(args: argparse.Namespace) -> int:
    from phasefire.workflows.commands.run import workflow_fw_ids
    from phasefire.workflows.launchpad import open_launchpad

    if (args.fw_id is None) == (not args.workflow):
        raise PhasefireError("say what to cancel: FW_ID or --workflow W (not both)")
    launchpad = open_launchpad()
    if args.fw_id is not None:
        state = _firework(launchpad, args.fw_id)["state"]
        if state == "DEFUSED":
            print(f"firework {args.fw_id} is cancelled already")
            return 0
        if state not in CANCELLABLE:
            fix = {"COMPLETED": "nothing to cancel (`phasefire rerun` recomputes it)",
                   "RUNNING": "stop its `phasefire run` (Ctrl-C) or queue job first",
                   "RESERVED": "cancel its queue job first (see `phasefire queue status`)"}  # fmt: skip
            raise PhasefireError(f"firework {args.fw_id} is {state}: {fix.get(state, 'it cannot be cancelled')}")
        targets = [args.fw_id]
    else:
        scope = workflow_fw_ids(launchpad, args.workflow)
        targets = [
            doc["fw_id"]
            for doc in launchpad.fireworks.find({"fw_id": {"$in": scope}, "state": {"$in": list(CANCELLABLE)}})
        ]
        busy = [
            doc["fw_id"]
            for doc in launchpad.fireworks.find({"fw_id": {"$in": scope}, "state": {"$in": ["RUNNING", "RESERVED"]}})
        ]
        if busy:
            print(
                f"left alone (running or reserved; stop them first): {', '.join(map(str, sorted(busy)))}",
                file=sys.stderr,
            )
    for fw_id in sorted(targets):
        launchpad.defuse_fw(fw_id)
    if targets:
        ids = ",".join(map(str, sorted(targets)))
        print(f"cancelled (defused) firework(s) {ids}; undo with: phasefire rerun FW_ID "
              f"(or phasefire lpad reignite_fws -i {ids.replace(',', ' ')})")  # fmt: skip
    else:
        print("nothing to cancel: no WAITING, READY, FIZZLED or PAUSED fireworks there")
    return 0


def run_lpad(args: argparse.Namespace) -> int:
    """FireWorks' ``lpad`` with its LaunchPad replaced by the configured one (embedded: every call
    under the store's lock; MongoDB: the configured server and password variable)."""
    from fireworks.scripts import lpad_run

    from phasefire.workflows.launchpad import open_launchpad

    argv = list(args.lpad_args)
    if any(arg in ("-l", "--launchpad_file") or arg.startswith("--launchpad_file=") for arg in argv):
        raise PhasefireError("phasefire lpad works on the store launchpad.yaml selects (`phasefire config`); drop -l")
    launchpad = None if not argv or argv[0] in ("-h", "--help", "-v", "--version") else open_launchpad()
    lpad_run.get_lp = lambda _args: launchpad
    try:
        return int(lpad_run.lpad(argv) or 0)
    except SystemExit as exc:  # lpad's argparse (-h, bad usage)
        return exc.code if isinstance(exc.code, int) else 1


def show_config(args: argparse.Namespace) -> int:
    from phasefire.workflows.config import describe, load_settings

    info = describe(load_settings())
    if args.json:
        print_json(info)
        return 0
    store = info["store"]
    where = (f"{store['path']} (from {store['from']})" if store["kind"] == "embedded"
             else f"{store['host']}:{store['port']} database {store['name']}")  # fmt: skip
    print(f"launchpad.yaml: {info['launchpad_file']} ({info['launchpad_file_from']})")
    print(f"store:          {store['kind']}: {where}")
    print(f"runs folder:    {info['runs_dir']}")
    print("worker:")
    for key, entry in info["worker"].items():
        print(f"  {key + ':':<16}{entry['value']}  ({entry['from']})")
    if info["queue"]:
        print("queue:          " + ", ".join(f"{k}={v}" for k, v in info["queue"].items() if v is not None))
    else:
        print("queue:          none (add a queue: section with q_type to use `phasefire queue`)")
    return 0
