"""``phasefire queue launch`` (submit jobs through FireWorks' queue adapters) and
``phasefire worker`` (what a job runs: the rocket launcher on this store)."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from typing import Any

from phasefire.workflows.commands._output import number, positive_int
from phasefire.workflows.errors import PhasefireError

#: template fields that are shell commands: they come from launchpad.yaml only, never from a firework
SHELL_FIELDS = ("pre_rocket", "rocket_launch", "post_rocket")

#: characters a scheduler directive value keeps as they are (others get it quoted)
_PLAIN_DIRECTIVE = re.compile(r"[A-Za-z0-9._:+,=@/%-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LAUNCH_DIR_PLACEHOLDER = "/phasefire-launch-dir-placeholder"


def register(subparsers: argparse._SubParsersAction) -> None:
    queue = subparsers.add_parser("queue", help="submit fireworks as batch jobs (SLURM, PBS, SGE, ...)")
    actions = queue.add_subparsers(dest="action", required=True, metavar="ACTION")
    launch = actions.add_parser("launch", help="one job per READY firework (FireWorks reservation mode)")
    launch.add_argument(
        "--njobs", type=number("--njobs", int), default=None, help="submit at most this many jobs (default: all READY)"
    )
    launch.set_defaults(handler=queue_launch)
    status = actions.add_parser("status", help="the scheduler's view of our jobs beside the LaunchPad's")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=queue_status)

    worker = subparsers.add_parser("worker", help="run fireworks in this process (used inside batch jobs)")
    worker.add_argument("mode", choices=("singleshot", "rapidfire"), help="one firework, or until none is pending")
    worker.add_argument("--fw_id", type=positive_int("--fw_id"), help="the reserved firework to run (singleshot)")
    worker.set_defaults(handler=run_worker_command)


def directive_value(value: Any) -> str:
    """A value for a ``#SBATCH``/``#PBS`` line: one line, quoted unless plainly safe."""
    text = _CONTROL.sub(" ", str(value)).strip()
    return text if _PLAIN_DIRECTIVE.fullmatch(text) else shlex.quote(text)


#: the shell fields of launchpad.yaml, set by ``queue_adapter`` in this process (a firework's spec cannot reach it)
_TRUSTED_SHELL: dict[str, str | None] = {}
_ADAPTER_CLASS: list[type] = []
#: what the scheduler answered to failed submissions in this process (``QuotingAdapter.submit_to_queue``)
SUBMIT_ERRORS: list[str] = []


def quoting_adapter_class() -> type:
    """``QuotingAdapter``, made on first use (FireWorks is imported lazily by the CLI)."""
    if _ADAPTER_CLASS:
        return _ADAPTER_CLASS[0]
    from fireworks.user_objects.queue_adapters.common_adapter import CommonAdapter

    from phasefire.workflows.naming import safe_slug

    class QuotingAdapter(CommonAdapter):
        """FireWorks' CommonAdapter whose job scripts carry no unquoted string.

        Written here because FireWorks' templates substitute raw values (``cd $${launch_dir}``):
        the launch folder is shell-quoted, directive values are made one line and quoted, the job
        name is a safe slug, and the shell fields (``SHELL_FIELDS``) are those of launchpad.yaml
        whatever a firework's ``_queueadapter`` spec says. FireWorks copies the adapter through
        ``to_dict``/``load_object``; ``_fw_name`` brings it back as this class."""

        _fw_name = "{{phasefire.workflows.commands.queue.QuotingAdapter}}"

        def submit_to_queue(self, script_file: str):
            """Submit as FireWorks does, but keep the scheduler's own error (``SUBMIT_ERRORS``)
            instead of logging a traceback; return the job id, or None."""
            if self.q_type == "LoadSharingFacility":  # bsub reads the script on stdin
                return super().submit_to_queue(script_file)
            submit_cmd = self.q_commands[self.q_type]["submit_cmd"]
            try:
                done = subprocess.run([submit_cmd, script_file], capture_output=True, text=True, timeout=120)
            except (OSError, subprocess.TimeoutExpired) as exc:
                SUBMIT_ERRORS.append(f"{submit_cmd} could not run: {exc}")
                return None
            if done.returncode != 0:
                answer = " ".join((done.stderr or done.stdout).split())
                SUBMIT_ERRORS.append(answer or f"{submit_cmd} exited with status {done.returncode}")
                return None
            try:
                return self._parse_jobid(done.stdout)
            except Exception:  # noqa: BLE001 (whatever the parser raises, the answer is what to show)
                SUBMIT_ERRORS.append(f"no job id in {submit_cmd}'s answer {done.stdout.strip()!r}")
                return None

        def get_script_str(self, launch_dir: str) -> str:
            saved = dict(self)
            try:
                for key in SHELL_FIELDS:
                    value, allowed = self.get(key), _TRUSTED_SHELL.get(key)
                    if key == "rocket_launch" and allowed and value:
                        suffix = value[len(allowed) :] if value.startswith(allowed) else None
                        if suffix is not None and re.fullmatch(r"( --fw_id \d+)*", suffix):
                            continue  # FireWorks' reservation mode appends the firework id
                    if value != allowed:
                        if value is not None:
                            print(f"phasefire: ignoring a firework's _queueadapter.{key}: shell commands come "
                                  "from launchpad.yaml only", file=sys.stderr)  # fmt: skip
                        self[key] = allowed
                for key, value in list(self.items()):
                    if key in SHELL_FIELDS or value is None or key.startswith("_") or key == "logdir":
                        continue
                    self[key] = safe_slug(str(value)) if key == "job_name" else directive_value(value)
                script = super().get_script_str(_LAUNCH_DIR_PLACEHOLDER)
            finally:
                self.clear()
                self.update(saved)
            return script.replace(_LAUNCH_DIR_PLACEHOLDER, shlex.quote(os.path.abspath(launch_dir)))

    QuotingAdapter.__module__ = __name__
    _ADAPTER_CLASS.append(QuotingAdapter)
    return QuotingAdapter


def __getattr__(name: str) -> Any:  # lets FireWorks' load_object find QuotingAdapter by name
    if name == "QuotingAdapter":
        return quoting_adapter_class()
    raise AttributeError(name)


def queue_adapter(settings):
    """FireWorks' CommonAdapter (quoting every value, see ``quoting_adapter_class``) from the
    ``queue:`` section; its job runs ``phasefire worker``."""
    if not settings.queue_configured:
        raise PhasefireError(
            f"{settings.source} has no queue: section naming q_type; add one (q_type: SLURM, nodes, "
            "walltime, ...; see the README) to submit jobs"
        )
    params = {key: value for key, value in settings.queue.items() if value is not None}
    q_type = params.pop("q_type")
    from phasefire.workflows.config import WORKER_ENV_OVERRIDES

    # every variable that overrides a worker setting (config.WORKER_ENV_OVERRIDES) travels into the job
    exported = ("PHASEFIRE_LAUNCHPAD", "PHASEFIRE_DATA_DIR", *WORKER_ENV_OVERRIDES.values())
    exports = " ".join(f"{name}={shlex.quote(value)}" for name in exported if (value := os.environ.get(name)))
    pre = f"export PHASEFIRE_LAUNCHPAD={shlex.quote(str(settings.source))} {exports}".strip()
    params["pre_rocket"] = "\n".join(filter(None, [params.get("pre_rocket"), pre]))
    params["rocket_launch"] = f"{shlex.quote(sys.executable)} -m phasefire.workflows.cli worker singleshot"
    try:
        adapter = quoting_adapter_class()(q_type, q_name="phasefire", **params)
    except ValueError as exc:
        raise PhasefireError(f"{settings.source}: queue.q_type: {exc}") from None
    _TRUSTED_SHELL.clear()
    _TRUSTED_SHELL.update({key: params.get(key) for key in SHELL_FIELDS})
    return adapter


def queue_launch(args: argparse.Namespace) -> int:
    """Reserve and submit one job per READY firework; exit 1 with the scheduler's own words when
    it refuses one (the firework stays READY)."""
    import shutil

    from fireworks.queue.queue_launcher import launch_rocket_to_queue

    from phasefire.workflows.config import load_settings
    from phasefire.workflows.launchpad import make_fworker, open_launchpad
    from phasefire.workflows.store import make_private_dirs
    from phasefire.workflows.worker import RUNS_DIR_VARIABLE

    if args.njobs is not None and args.njobs < 1:
        raise PhasefireError(
            f"--njobs must be at least 1, got {args.njobs} (leave it out to submit every READY firework)"
        )
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
    make_private_dirs(blocks)
    os.environ[RUNS_DIR_VARIABLE] = str(settings.runs_dir)
    fworker = make_fworker(settings)
    SUBMIT_ERRORS.clear()
    submitted: list[str] = []
    for _ in range(min(args.njobs or ready, ready)):
        job_id = launch_rocket_to_queue(
            launchpad, fworker, adapter, launcher_dir=str(blocks), reserve=True, strm_lvl="CRITICAL",
            create_launcher_dir=True,
        )  # fmt: skip
        if not job_id:
            break
        submitted.append(str(job_id))
    jobs = f" (job {', '.join(submitted)})" if submitted else ""
    print(f"submitted {len(submitted)} job(s) to {adapter.q_type}{jobs}; job scripts under {blocks}; "
          "follow with `phasefire queue status`")  # fmt: skip
    if not SUBMIT_ERRORS and not submitted:
        raise PhasefireError(
            f"no job submitted: FireWorks reserved none of the {ready} READY firework(s) for worker "
            f"'{fworker.name}' (a firework's spec._fworker may name another worker); see `phasefire status`"
        )
    if SUBMIT_ERRORS:
        said = SUBMIT_ERRORS[-1]
        raise PhasefireError(
            f"{submit_command} refused the job: {said}; the firework stays READY; fix the queue: section "
            f"of {settings.source} or the scheduler, then run `phasefire queue launch` again"
        )
    return 0


def scheduler_jobs(adapter) -> dict[str, Any]:
    """Our jobs as the scheduler lists them: ``command``, ``jobs`` (SLURM: id, state, name,
    elapsed, reason; other schedulers: their lines as ``raw``) and ``error`` (its own words)."""
    import getpass
    import shutil

    user = getpass.getuser()
    if adapter.q_type == "SLURM":
        command = ["squeue", "-h", "-u", user, "-o", "%i|%T|%j|%M|%R"]
    else:
        command = [part.strip('"') for part in adapter._get_status_cmd(user)]
    result: dict[str, Any] = {"command": shlex.join(command), "jobs": [], "error": None}
    if not shutil.which(command[0]):
        result["error"] = f"{command[0]} not found: run this where {adapter.q_type} is installed"
        return result
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        result["error"] = f"{command[0]} did not answer within 60 s"
        return result
    if done.returncode != 0:
        result["error"] = " ".join((done.stderr or done.stdout).split()) or f"exit status {done.returncode}"
        return result
    for line in done.stdout.splitlines():
        if not line.strip():
            continue
        if adapter.q_type == "SLURM":
            job_id, state, name, elapsed, reason = (line.split("|", 4) + [""] * 5)[:5]
            result["jobs"].append(
                {"job_id": job_id, "state": state, "name": name, "elapsed": elapsed, "reason": reason}
            )
        else:
            result["jobs"].append({"raw": line})
    return result


def queue_status(args: argparse.Namespace) -> int:
    from phasefire.workflows.commands._output import print_json, print_table
    from phasefire.workflows.commands.manage import reservation_id
    from phasefire.workflows.config import load_settings
    from phasefire.workflows.launchpad import open_launchpad

    settings = load_settings()
    adapter = queue_adapter(settings)
    scheduler = scheduler_jobs(adapter)
    by_id = {job["job_id"]: job for job in scheduler["jobs"] if "job_id" in job}
    launchpad = open_launchpad(settings)
    fireworks = []
    for fw in launchpad.fireworks.find(
        {"state": {"$in": ["RESERVED", "RUNNING"]}}, {"fw_id": 1, "name": 1, "state": 1, "launches": 1}
    ):
        launch = launchpad.launches.find_one({"launch_id": {"$in": fw.get("launches", [])}}, sort=[("launch_id", -1)])
        job_id = reservation_id(launch or {})
        job = by_id.get(job_id or "")
        seen = job["state"] if job else ("-" if job_id is None or adapter.q_type != "SLURM" else "not in the queue")
        fireworks.append(
            {"fw_id": fw["fw_id"], "name": fw["name"], "state": fw["state"], "job_id": job_id, "scheduler_state": seen}
        )
    fireworks.sort(key=lambda row: row["fw_id"])
    if args.json:
        print_json({"q_type": adapter.q_type, "scheduler": scheduler, "launchpad": fireworks})
        return 1 if scheduler["error"] else 0
    print(f"{adapter.q_type} (`{scheduler['command']}`):")
    if scheduler["error"]:
        print(f"  error: {scheduler['error']}")
    elif not scheduler["jobs"]:
        print("  no jobs of yours in the queue")
    elif adapter.q_type == "SLURM":
        print_table([[j["job_id"], j["state"], j["name"], j["elapsed"], j["reason"]] for j in scheduler["jobs"]],
                    ["job", "state", "name", "elapsed", "reason"])  # fmt: skip
    else:
        for job in scheduler["jobs"]:
            print(f"  {job['raw']}")
    print("\nLaunchPad (RESERVED and RUNNING fireworks):")
    if fireworks:
        print_table([[f["fw_id"], f["name"], f["state"], f["job_id"] or "-", f["scheduler_state"]] for f in fireworks],
                    ["fw_id", "firework", "state", "job", "scheduler state"])  # fmt: skip
    else:
        print("  none")
    return 1 if scheduler["error"] else 0


def run_worker_command(args: argparse.Namespace) -> int:
    """Inside a batch job: run the reserved firework (or everything ready) on this store."""
    from phasefire.workflows.worker import run_worker

    if args.mode == "singleshot":
        return 0 if run_worker(max_launches=1, fw_id=args.fw_id) else 1
    run_worker()
    return 0
