"""``phasefire queue launch`` (submit jobs through FireWorks' queue adapters) and
``phasefire worker`` (what a job runs: the rocket launcher on this store)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from phasefire.workflows.errors import PhasefireError


def register(subparsers: argparse._SubParsersAction) -> None:
    queue = subparsers.add_parser("queue", help="submit fireworks as batch jobs (SLURM, PBS, SGE, ...)")
    actions = queue.add_subparsers(dest="action", required=True, metavar="ACTION")
    launch = actions.add_parser("launch", help="one job per READY firework (FireWorks reservation mode)")
    launch.add_argument("--njobs", type=int, default=0, help="submit at most this many jobs (default: all READY)")
    launch.set_defaults(handler=queue_launch)

    worker = subparsers.add_parser("worker", help="run fireworks in this process (used inside batch jobs)")
    worker.add_argument("mode", choices=("singleshot", "rapidfire"), help="one firework, or until none is pending")
    worker.add_argument("--fw_id", type=int, help="the reserved firework to run (singleshot)")
    worker.set_defaults(handler=run_worker_command)


def queue_adapter(settings):
    """FireWorks' CommonAdapter from the ``queue:`` section; its job runs ``phasefire worker``."""
    from fireworks.user_objects.queue_adapters.common_adapter import CommonAdapter

    params = {key: value for key, value in settings.queue.items() if value is not None}
    q_type = params.pop("q_type", "SLURM")
    exports = " ".join(
        f"{name}={shlex.quote(value)}"
        for name in ("PHASEFIRE_LAUNCHPAD", "PHASEFIRE_DATA_DIR", "PMG_VASP_PSP_DIR", "PHASEFIRE_VASP_CMD")
        if (value := os.environ.get(name))
    )
    pre = f"export PHASEFIRE_LAUNCHPAD={shlex.quote(str(settings.source))} {exports}".strip()
    params["pre_rocket"] = "\n".join(filter(None, [params.get("pre_rocket"), pre]))
    params["rocket_launch"] = f"{shlex.quote(sys.executable)} -m phasefire.workflows.cli worker singleshot"
    try:
        return CommonAdapter(q_type, q_name="phasefire", **params)
    except ValueError as exc:
        raise PhasefireError(f"{settings.source}: queue.q_type: {exc}") from None


def queue_launch(args: argparse.Namespace) -> int:
    import shutil

    from fireworks.queue.queue_launcher import rapidfire

    from phasefire.workflows.config import load_settings
    from phasefire.workflows.launchpad import make_fworker, open_launchpad
    from phasefire.workflows.worker import RUNS_DIR_VARIABLE

    settings = load_settings()
    adapter = queue_adapter(settings)
    submit_command = adapter.q_commands[adapter.q_type]["submit_cmd"]
    if not shutil.which(submit_command):
        raise PhasefireError(
            f"queue submit command '{submit_command}' not found; run this on a login node of a "
            f"{adapter.q_type} cluster or change queue.q_type in {settings.source}"
        )
    launchpad = open_launchpad(settings)
    ready = launchpad.fireworks.count_documents({"state": "READY"})
    if not ready:
        print("nothing to submit: no READY fireworks")
        return 0
    blocks = settings.runs_dir / "queue"
    blocks.mkdir(parents=True, exist_ok=True)
    os.environ[RUNS_DIR_VARIABLE] = str(settings.runs_dir)
    rapidfire(
        launchpad, make_fworker(settings), adapter, launch_dir=str(blocks), nlaunches=args.njobs or ready,
        reserve=True, strm_lvl="ERROR", sleep_time=1,
    )  # fmt: skip
    left = launchpad.fireworks.count_documents({"state": "READY"})
    print(
        f"submitted {ready - left} job(s) to {adapter.q_type}; job scripts under {blocks}; "
        "follow with `phasefire status`"
    )
    return 0


def run_worker_command(args: argparse.Namespace) -> int:
    """Inside a batch job: run the reserved firework (or everything ready) on this store."""
    from phasefire.workflows.worker import run_worker

    if args.mode == "singleshot":
        return 0 if run_worker(max_launches=1, fw_id=args.fw_id) else 1
    run_worker()
    return 0
