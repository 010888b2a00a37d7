"""phasefire settings: which database (``launchpad.yaml``) and how this worker runs codes.

``launchpad.yaml`` is found at $PHASEFIRE_LAUNCHPAD, else ./launchpad.yaml or the nearest
parent folder holding one, else the one beside the installed source tree.
$PHASEFIRE_DATA_DIR moves the embedded store and the run folders (tests use it).

A launchpad.yaml found by that search (not one named by $PHASEFIRE_LAUNCHPAD) is trusted only if
it is owned by the current user or root and is not group- or world-writable: its ``queue``
section holds shell commands that run in our jobs. Otherwise one line on stderr says why it was
refused, and the search goes on upwards.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from phasefire.workflows.errors import PhasefireError

STORES = ("embedded", "mongodb")

DEFAULT_WORKER = {
    "name": "local",
    "runs_dir": "data/runs",
    "vasp_cmd": "vasp_std",
    "vasp_gamma_cmd": "vasp_gam",
    "potcar_dir": None,
    "mlip_device": "cpu",
    "mlip_threads": None,
}

#: environment variables that override worker settings
WORKER_ENV_OVERRIDES = {
    "vasp_cmd": "PHASEFIRE_VASP_CMD",
    "vasp_gamma_cmd": "PHASEFIRE_VASP_GAMMA_CMD",
    "potcar_dir": "PMG_VASP_PSP_DIR",
    "mlip_device": "PHASEFIRE_MLIP_DEVICE",
}


# -- what launchpad.yaml may hold: every key is known, every value checked (``validate``) -----------


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "a non-empty string"


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _positive_number(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    return None if ok else "a positive number"


def _positive_int(value: Any) -> str | None:
    return None if isinstance(value, int) and not isinstance(value, bool) and value > 0 else "a positive integer"


def _optional_positive_int(value: Any) -> str | None:
    return None if value is None else _positive_int(value)


def _port(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536
    return None if ok else "a port number (1-65535)"


def _device(value: Any) -> str | None:
    return None if isinstance(value, str) and re.fullmatch(r"cpu|cuda(:\d+)?", value) else "cpu, cuda or cuda:N"


def _store(value: Any) -> str | None:
    return None if value in STORES else f"one of {', '.join(STORES)}"


def _scalar(value: Any) -> str | None:
    ok = value is None or isinstance(value, str | int | float | bool)
    return None if ok else "a single value (text or number)"


#: section -> key -> check (returns what the value should be, or None when it is fine)
SCHEMA: dict[str, Any] = {
    "store": _store,
    "embedded": {"path": _text, "lock_timeout_s": _positive_number},
    "mongodb": {
        "host": _text,
        "port": _port,
        "name": _text,
        "username": _optional_text,
        "password_env": _optional_text,
        "server_selection_timeout_ms": _positive_int,
    },  # fmt: skip
    "worker": {
        "name": _text,
        "runs_dir": _text,
        "vasp_cmd": _text,
        "vasp_gamma_cmd": _text,
        "potcar_dir": _optional_text,
        "mlip_device": _device,
        "mlip_threads": _optional_positive_int,
    },  # fmt: skip
    "queue": None,  # FireWorks' template fields for the q_type (``queue_keys``)
}

#: queue keys besides the template's fields (CommonAdapter's own parameters)
QUEUE_EXTRA_KEYS = ("q_type", "template_file", "timeout", "pre_rocket", "post_rocket", "logdir")


def _did_you_mean(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def _unknown(source: Path, where: str, key: str, valid: list[str]) -> PhasefireError:
    return PhasefireError(
        f"{source}: unknown key '{where}{key}'; {_did_you_mean(key, valid)}valid keys: {', '.join(valid)}"
    )


def queue_keys(q_type: str) -> list[str]:
    """The keys a ``queue:`` section may set for ``q_type``: its FireWorks template's fields
    (``$${name}``) and CommonAdapter's own parameters."""
    from fireworks.user_objects.queue_adapters.common_adapter import CommonAdapter

    template = Path(CommonAdapter._get_default_template_file(q_type)).read_text()
    fields = set(re.findall(r"\$\$\{([\w-]+)\}", template)) - {"launch_dir", "rocket_launch"}
    return sorted(fields | set(QUEUE_EXTRA_KEYS))


def _engine_worker_fields() -> set[str]:
    """Worker settings an engine reads besides phasefire's own (asked only for an unknown key)."""
    from phasefire.workflows.engines import engine_names, engine_type

    return {key for name in engine_names() for key in engine_type(name).worker_fields}


def validate(raw: dict[str, Any], source: Path) -> None:
    """Refuse unknown keys (with a did-you-mean) and values of the wrong type or range, naming
    the key and the file."""
    for section, value in raw.items():
        if section not in SCHEMA:
            raise _unknown(source, "", str(section), list(SCHEMA))
        checks = SCHEMA[section]
        if callable(checks):
            if (expected := checks(value)) is not None:
                raise PhasefireError(f"{source}: '{section}' must be {expected}, got {value!r}")
            continue
        if value is None:
            continue
        if not isinstance(value, dict):
            raise PhasefireError(f"{source}: '{section}' must be a mapping of keys (indented below it), got {value!r}")
        if section == "queue":
            _validate_queue(value, source)
            continue
        for key, item in value.items():
            if key not in checks:
                if section == "worker" and key in _engine_worker_fields():
                    continue
                raise _unknown(source, f"{section}.", str(key), list(checks))
            if (expected := checks[key](item)) is not None:
                raise PhasefireError(f"{source}: '{section}.{key}' must be {expected}, got {item!r}")


def _validate_queue(queue: dict[str, Any], source: Path) -> None:
    from fireworks.user_objects.queue_adapters.common_adapter import CommonAdapter

    q_types = list(CommonAdapter.default_q_commands)
    q_type = queue.get("q_type")
    if q_type is not None and q_type not in q_types:
        raise PhasefireError(
            f"{source}: 'queue.q_type' {q_type!r} is unknown; {_did_you_mean(str(q_type), q_types)}"
            f"use one of {', '.join(q_types)}"
        )
    valid = queue_keys(q_type or "SLURM")
    for key, item in queue.items():
        if key not in valid:
            raise _unknown(source, "queue.", str(key), valid)
        if (expected := _scalar(item)) is not None:
            raise PhasefireError(f"{source}: 'queue.{key}' must be {expected}, got {item!r}")


@dataclass(frozen=True)
class Settings:
    """Resolved settings; paths are absolute. ``origins``: where each worker setting and the store
    path came from (launchpad.yaml, an environment variable, or phasefire's default)."""

    source: Path
    store: str
    store_path: Path
    lock_timeout_s: float
    mongodb: dict[str, Any]
    worker: dict[str, Any] = field(default_factory=dict)
    queue: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    #: whether launchpad.yaml has a ``queue:`` section naming a ``q_type``
    queue_configured: bool = False

    @property
    def runs_dir(self) -> Path:
        return Path(self.worker["runs_dir"])


#: refusals already reported by this process (one line each)
_REFUSED: set[Path] = set()


def untrusted_reason(path: Path) -> str | None:
    """Why ``path`` must not be trusted (owner, write permission), or None if it may be."""
    st = path.stat()
    if st.st_uid not in (os.geteuid(), 0):
        return f"it is owned by uid {st.st_uid}, not by you (uid {os.geteuid()}) or root"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"it is writable by {'others' if st.st_mode & stat.S_IWOTH else 'its group'} (mode {stat.filemode(st.st_mode)})"
    return None


def find_launchpad_file(start: Path | None = None) -> Path:
    """Locate launchpad.yaml (see module docstring)."""
    if os.environ.get("PHASEFIRE_LAUNCHPAD"):
        return Path(os.environ["PHASEFIRE_LAUNCHPAD"]).expanduser().resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "launchpad.yaml"
        if not candidate.is_file():
            continue
        reason = untrusted_reason(candidate)
        if reason is None:
            return candidate
        if candidate not in _REFUSED:
            _REFUSED.add(candidate)
            print(
                f"phasefire: ignoring {candidate}: {reason}; chown/chmod go-w it, or set PHASEFIRE_LAUNCHPAD",
                file=sys.stderr,
            )
    return Path(__file__).resolve().parents[1] / "launchpad.yaml"


def _resolve(path: str | os.PathLike, base: Path) -> Path:
    path = Path(os.path.expandvars(str(path))).expanduser()
    return path if path.is_absolute() else base / path


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read and validate launchpad.yaml; raise PhasefireError naming the problem and the fix."""
    source = Path(path).resolve() if path else find_launchpad_file()
    if not source.is_file():
        raise PhasefireError(
            f"no launchpad.yaml at {source}; copy the one from the phasefire repository "
            "or set PHASEFIRE_LAUNCHPAD to its path"
        )
    try:
        raw = yaml.safe_load(source.read_text()) or {}
    except yaml.YAMLError as exc:
        raise PhasefireError(f"{source} is not valid YAML ({exc.__class__.__name__}); fix its syntax") from None
    if not isinstance(raw, dict):
        raise PhasefireError(f"{source} must be a mapping with a 'store' key; see the README")
    validate(raw, source)
    store = raw.get("store", "embedded")

    base = source.parent
    data_dir = os.environ.get("PHASEFIRE_DATA_DIR")
    embedded = raw.get("embedded") or {}
    store_path = _resolve(embedded.get("path", "data/launchpad.db"), base)
    configured = raw.get("worker") or {}
    worker = {**DEFAULT_WORKER, **configured}
    origins = {key: "launchpad.yaml" if key in configured else "default" for key in worker}
    origins["store_path"] = "launchpad.yaml" if "path" in embedded else "default"
    runs_dir = _resolve(worker["runs_dir"], base)
    if data_dir:
        store_path = Path(data_dir).resolve() / store_path.name
        runs_dir = Path(data_dir).resolve() / "runs"
        origins["store_path"] = origins["runs_dir"] = "PHASEFIRE_DATA_DIR"
    worker["runs_dir"] = str(runs_dir)
    for key, variable in WORKER_ENV_OVERRIDES.items():
        if os.environ.get(variable):
            worker[key] = os.environ[variable]
            origins[key] = variable
    if worker.get("potcar_dir"):
        worker["potcar_dir"] = str(_resolve(worker["potcar_dir"], base))
    queue = raw.get("queue") or {}

    return Settings(
        source=source,
        store=store,
        store_path=store_path,
        lock_timeout_s=float(embedded.get("lock_timeout_s", 120)),
        mongodb=dict(raw.get("mongodb") or {}),
        worker=worker,
        queue=dict(queue),
        origins=origins,
        queue_configured=bool(queue.get("q_type")),
    )


def how_found(settings: Settings) -> str:
    """How ``settings.source`` was chosen (for ``phasefire config``)."""
    if os.environ.get("PHASEFIRE_LAUNCHPAD"):
        return "PHASEFIRE_LAUNCHPAD"
    here = Path.cwd().resolve()
    if settings.source.parent in (here, *here.parents):
        return "found from the current folder upwards"
    return "the copy beside the installed phasefire (none found from the current folder upwards)"


def describe(settings: Settings) -> dict[str, Any]:
    """What ``phasefire config`` prints: which file, store, runs folder and worker settings are in effect."""
    if settings.store == "embedded":
        store = {"kind": "embedded", "path": str(settings.store_path), "lock_timeout_s": settings.lock_timeout_s,
                 "from": settings.origins.get("store_path", "default")}  # fmt: skip
    else:
        mongo = settings.mongodb
        store = {"kind": "mongodb", "host": mongo.get("host", "localhost"), "port": mongo.get("port", 27017),
                 "name": mongo.get("name", "phasefire"), "username": mongo.get("username"),
                 "password_env": mongo.get("password_env")}  # fmt: skip
    overrides = {variable: os.environ[variable] for variable in WORKER_ENV_OVERRIDES.values() if variable in os.environ}
    return {
        "launchpad_file": str(settings.source),
        "launchpad_file_from": how_found(settings),
        "store": store,
        "runs_dir": str(settings.runs_dir),
        "worker": {
            key: {"value": value, "from": settings.origins.get(key, "default")}
            for key, value in settings.worker.items()
        },
        "environment_overrides": overrides,
        "queue": dict(settings.queue) if settings.queue_configured else None,
    }
