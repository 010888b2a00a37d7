"""``phasefire queue launch`` (submit jobs through FireWorks' queue adapters) and
``phasefire worker`` (what a job runs: the rocket launcher on this store)."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from typing import Any

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
    launch.add_argument("--njobs", type=int, default=0, help="submit at most this many jobs (default: all READY)")
    launch.set_defaults(handler=queue_launch)

    worker = subparsers.add_parser("worker", help="run fireworks in this process (used inside batch jobs)")
    worker.add_argument("mode", choices=("singleshot", "rapidfire"), help="one firework, or until none is pending")
    worker.add_argument("--fw_id", type=int, help="the reserved firework to run (singleshot)")
    worker.set_defaults(handler=run_worker_command)


def directive_value(value: Any) -> str:
    """A value for a ``#SBATCH``/``#PBS`` line: one line, quoted unless plainly safe."""
    text = _CONTROL.sub(" ", str(value)).strip()
    return text if _PLAIN_DIRECTIVE.fullmatch(text) else shlex.quote(text)


#: the shell fields of launchpad.yaml, set by ``queue_adapter`` in this process (a firework's spec cannot reach it)
_TRUSTED_SHELL: dict[str, str | None] = {}
_ADAPTER_CLASS: list[type] = []


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
    params = {key: value for key, value in settings.queue.items() if value is not None}
    q_type = params.pop("q_type", "SLURM")
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
    from phasefire.workflows.store import make_private_dirs

    blocks = settings.runs_dir / "queue"
    make_private_dirs(blocks)
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
