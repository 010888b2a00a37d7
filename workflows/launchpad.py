"""Open the LaunchPad that ``launchpad.yaml`` selects: the embedded store or MongoDB."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from fireworks import FWorker, LaunchPad

from phasefire.workflows.config import Settings, load_settings
from phasefire.workflows.errors import PhasefireError

_OPEN: dict[tuple[str, str], LaunchPad] = {}


class MongoLaunchPad(LaunchPad):
    """A LaunchPad on MongoDB whose serialised form names the password's environment
    variable instead of holding the password."""

    password_env: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["password"] = None
        d["password_env"] = self.password_env
        return d


def open_launchpad(settings: Settings | None = None) -> LaunchPad:
    """The LaunchPad for ``settings`` (default: launchpad.yaml), one per process and store."""
    settings = settings or load_settings()
    key = (str(settings.source), settings.store if settings.store == "mongodb" else str(settings.store_path))
    if key not in _OPEN:
        launchpad = _embedded(settings) if settings.store == "embedded" else _mongodb(settings)
        _initialise_if_new(launchpad)
        _OPEN[key] = launchpad
    return _OPEN[key]


#: collection recording which phasefire layout a database holds (absent: phasefire 0.1)
META = "phasefire_meta"
#: the layout of this version: fireworks run the generic CalculationTask
STORE_VERSION = 2


def _initialise_if_new(launchpad: LaunchPad) -> None:
    """Give a brand-new database FireWorks' id counters and indexes (``lpad reset`` on nothing);
    upgrade, once, the fireworks of a database phasefire 0.1 wrote (``migrations``)."""
    from phasefire.workflows.migrations import migrate_fireworks

    transaction = getattr(launchpad, "transaction", None)
    with transaction() if transaction else contextlib.nullcontext():
        meta = launchpad.db[META]
        if launchpad.fw_id_assigner.count_documents({}) == 0 and launchpad.workflows.count_documents({}) == 0:
            launchpad.reset("", require_password=False)
        elif (meta.find_one({"_id": "store"}) or {}).get("version", 1) < STORE_VERSION:
            migrate_fireworks(launchpad)
        else:
            return
        meta.replace_one({"_id": "store"}, {"_id": "store", "version": STORE_VERSION}, upsert=True)


def _embedded(settings: Settings) -> LaunchPad:
    from phasefire.workflows.store import EmbeddedLaunchPad

    return EmbeddedLaunchPad(settings.store_path, lock_timeout_s=settings.lock_timeout_s)


def _mongodb(settings: Settings) -> LaunchPad:
    import pymongo.errors

    config = settings.mongodb
    host, port = config.get("host", "localhost"), int(config.get("port", 27017))
    password_env = config.get("password_env")
    password = os.environ.get(password_env) if password_env else None
    if config.get("username") and not password:
        raise PhasefireError(
            f"MongoDB user '{config['username']}' needs a password: export {password_env or 'PHASEFIRE_MONGO_PASSWORD'}"
        )
    timeout_ms = int(config.get("server_selection_timeout_ms", 5000))
    launchpad = MongoLaunchPad(
        host=host,
        port=port,
        name=config.get("name", "phasefire"),
        username=config.get("username"),
        password=password,
        strm_lvl="ERROR",
        mongoclient_kwargs={"serverSelectionTimeoutMS": timeout_ms, "connectTimeoutMS": timeout_ms},
    )
    launchpad.password_env = password_env
    try:
        launchpad.connection.admin.command("ping")
    except pymongo.errors.PyMongoError as exc:
        raise PhasefireError(
            f"cannot reach MongoDB at {host}:{port} ({type(exc).__name__}); start the server, fix "
            f"mongodb.host/port in {settings.source}, or set 'store: embedded'"
        ) from None
    return launchpad


def make_fworker(settings: Settings) -> FWorker:
    """This machine's FWorker: its ``env`` carries how to run codes (atomate's ``env_chk`` idea)."""
    env = {key: value for key, value in settings.worker.items() if key != "name"}
    env["launchpad_file"] = str(settings.source)
    return FWorker(name=settings.worker.get("name", "local"), env=env)
