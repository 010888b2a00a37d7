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

import os
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


@dataclass(frozen=True)
class Settings:
    """Resolved settings; paths are absolute."""

    source: Path
    store: str
    store_path: Path
    lock_timeout_s: float
    mongodb: dict[str, Any]
    worker: dict[str, Any] = field(default_factory=dict)
    queue: dict[str, Any] = field(default_factory=dict)

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
    store = raw.get("store", "embedded")
    if store not in STORES:
        raise PhasefireError(f"{source}: store '{store}' is unknown; use one of {', '.join(STORES)}")

    base = source.parent
    data_dir = os.environ.get("PHASEFIRE_DATA_DIR")
    embedded = raw.get("embedded") or {}
    store_path = _resolve(embedded.get("path", "data/launchpad.db"), base)
    worker = {**DEFAULT_WORKER, **(raw.get("worker") or {})}
    runs_dir = _resolve(worker["runs_dir"], base)
    if data_dir:
        store_path = Path(data_dir).resolve() / store_path.name
        runs_dir = Path(data_dir).resolve() / "runs"
    worker["runs_dir"] = str(runs_dir)
    for key, variable in WORKER_ENV_OVERRIDES.items():
        if os.environ.get(variable):
            worker[key] = os.environ[variable]
    if worker.get("potcar_dir"):
        worker["potcar_dir"] = str(_resolve(worker["potcar_dir"], base))

    return Settings(
        source=source,
        store=store,
        store_path=store_path,
        lock_timeout_s=float(embedded.get("lock_timeout_s", 120)),
        mongodb=dict(raw.get("mongodb") or {}),
        worker=worker,
        queue=dict(raw.get("queue") or {}),
    )
