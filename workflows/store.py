"""The embedded store: FireWorks' mongomock-persistence mode, made safe for several processes.

FireWorks can run on mongomock with mongomock-persistence (``MONGOMOCK_SERVERSTORE_FILE``):
every process loads the JSON file when it starts and writes it back when it exits, so two
workers sharing a file each run every firework and the last one to exit wins.

Written here because no library does it: every database operation (one MongoDB call, or a
whole LaunchPad method, see ``TRANSACTIONAL_METHODS``) runs under an inter-process file lock
(``filelock``, ``flock`` underneath, released by the kernel if the holder dies), reloads the
file first when another process has changed it, and after a write replaces the file
atomically (write to a temporary file, fsync, ``os.replace``). That gives the single-document
atomicity FireWorks relies on from MongoDB (``find_one_and_update`` to check a firework out),
so each firework runs exactly once, and a killed process never leaves a half-written store.

The file keeps mongomock-persistence's format (MongoDB extended JSON of every collection), so
FireWorks' own ``lpad`` can read it with ``MONGOMOCK_SERVERSTORE_FILE`` set (while no phasefire
worker is writing).

Limits: one machine only (the lock is a local file lock; use MongoDB across nodes), and every
write rewrites the whole file, so cost grows with the store size: fine for thousands of
fireworks with small documents (large arrays go to files, never into documents).
"""

from __future__ import annotations

import collections
import functools
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bson.json_util
import filelock
import mongomock
from fireworks import LaunchPad
from mongomock.store import ServerStore

from phasefire.workflows.errors import PhasefireError

#: collection methods that change data; everything else only reads
WRITE_METHODS = frozenset(
    {
        "insert_one", "insert_many", "insert", "save",
        "update_one", "update_many", "update", "replace_one",
        "delete_one", "delete_many", "remove",
        "find_one_and_update", "find_one_and_replace", "find_one_and_delete", "find_and_modify",
        "bulk_write", "create_index", "create_indexes", "ensure_index",
        "drop", "drop_index", "drop_indexes", "rename",
    }
)  # fmt: skip

#: LaunchPad methods run as one locked transaction (one reload, one write) instead of one per call
TRANSACTIONAL_METHODS = (
    "add_wf", "append_wf", "checkout_fw", "reserve_fw", "complete_launch", "ping_launch",
    "change_launch_dir", "rerun_fw", "defuse_fw", "reignite_fw", "pause_fw", "resume_fw",
    "delete_wf", "detect_lostruns", "detect_unreserved", "reset", "_refresh_wf", "get_new_fw_id",
    "get_new_launch_id", "_upsert_fws", "_update_wf", "maintain", "run_exists", "future_run_exists",
    "get_fw_ids", "get_wf_ids", "get_fw_by_id", "get_wf_by_fw_id", "get_launch_by_id",
)  # fmt: skip


class StoreFile:
    """One store file shared by processes: lock, reload-if-changed, atomic write."""

    def __init__(self, path: Path, server_store: ServerStore, lock_timeout_s: float) -> None:
        self.path = Path(path)
        self.server_store = server_store
        self.lock_timeout_s = lock_timeout_s
        self._file_lock = filelock.FileLock(str(self.path) + ".lock", thread_local=False)
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._dirty = False
        self._signature: tuple[int, int, int] | None = None

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[None]:
        """Hold the store for one operation (nested calls share the outermost hold)."""
        with self._thread_lock:
            if self._depth == 0:
                self._acquire()
            self._depth += 1
            try:
                if self._depth == 1:
                    self._reload_if_changed()
                yield
            finally:
                self._dirty |= write  # like MongoDB: what an operation changed stays changed
                self._depth -= 1
                if self._depth == 0:
                    try:
                        if self._dirty:
                            self._write()
                    finally:
                        self._dirty = False
                        self._file_lock.release()

    def _acquire(self) -> None:
        try:
            self._file_lock.acquire(timeout=self.lock_timeout_s)
        except filelock.Timeout:
            raise PhasefireError(
                f"the embedded store {self.path} has been locked by another process for more than "
                f"{self.lock_timeout_s:g} s; wait for it to finish (or stop it), or raise "
                "embedded.lock_timeout_s in launchpad.yaml"
            ) from None

    def _stat_signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _reload_if_changed(self) -> None:
        signature = self._stat_signature()
        if signature is not None and signature == self._signature:
            return
        data: dict[str, Any] = {}
        if signature is not None:
            try:
                text = self.path.read_text(encoding="utf-8")
                data = bson.json_util.loads(text) if text.strip() else {}
            except ValueError:
                raise PhasefireError(
                    f"the embedded store {self.path} is not valid JSON; restore it from "
                    f"{self.path}.bak if present, or move it aside to start an empty store"
                ) from None
        for db_name, database in data.items():
            db_store = self.server_store[db_name]
            for coll_name, coll in database.items():
                db_store[coll_name]._documents = collections.OrderedDict(coll["documents"])
            for coll_name, coll_store in db_store._collections.items():
                if coll_name not in database:
                    coll_store._documents = collections.OrderedDict()
        for db_name, db_store in self.server_store._databases.items():
            if db_name not in data:
                for coll_store in db_store._collections.values():
                    coll_store._documents = collections.OrderedDict()
        self._signature = signature

    def _write(self) -> None:
        text = bson.json_util.dumps(_store_to_dict(self.server_store))
        handle, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; keep it readable like other files
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            self._signature = None
            raise
        self._signature = self._stat_signature()


def _store_to_dict(server_store: ServerStore) -> dict[str, Any]:
    """mongomock-persistence's file layout: {db: {collection: {name, documents: [[_id, doc], ...]}}}."""
    return {
        db_name: {
            coll_name: {"name": coll_name, "documents": list(coll._documents.items())}
            for coll_name, coll in db_store._collections.items()
        }
        for db_name, db_store in server_store._databases.items()
    }


class LockedCollection:
    """A mongomock collection whose every call runs inside a store transaction."""

    def __init__(self, collection: mongomock.Collection, store: StoreFile) -> None:
        self._collection = collection
        self._store = store

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if isinstance(attribute, mongomock.Collection):  # sub-collection, e.g. fs.files
            return LockedCollection(attribute, self._store)
        if not callable(attribute):
            return attribute
        write = name in WRITE_METHODS

        @functools.wraps(attribute)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._store.transaction(write=write):
                result = attribute(*args, **kwargs)
                if isinstance(result, mongomock.collection.Cursor):
                    result = _MaterialisedCursor(result, self._store)
                return result

        return locked

    def __getitem__(self, name: str) -> LockedCollection:
        return LockedCollection(self._collection[name], self._store)


class _MaterialisedCursor:
    """A cursor whose rows are read under the lock; sort/skip/limit chain as usual."""

    CHAINING = frozenset({"sort", "skip", "limit", "batch_size", "hint", "max_time_ms", "collation"})

    def __init__(self, cursor: mongomock.collection.Cursor, store: StoreFile) -> None:
        self._cursor = cursor
        self._store = store

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._cursor, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._store.transaction():
                result = attribute(*args, **kwargs)
            return self if name in self.CHAINING else result

        return locked

    def __iter__(self) -> Iterator[dict]:
        with self._store.transaction():
            return iter(list(self._cursor))

    def __getitem__(self, index: int) -> dict:
        with self._store.transaction():
            return self._cursor[index]


class LockedDatabase:
    """A mongomock database handing out LockedCollections."""

    def __init__(self, database: mongomock.Database, store: StoreFile) -> None:
        self._database = database
        self._store = store

    @property
    def name(self) -> str:
        return self._database.name

    def __getitem__(self, name: str) -> LockedCollection:
        return LockedCollection(self._database[name], self._store)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._database, name)
        if isinstance(attribute, mongomock.Collection):
            return LockedCollection(attribute, self._store)
        if not callable(attribute):
            return attribute
        write = name.startswith(("drop", "create", "rename"))

        @functools.wraps(attribute)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._store.transaction(write=write):
                return attribute(*args, **kwargs)

        return locked


def _transactional(method_name: str):
    method = getattr(LaunchPad, method_name)

    @functools.wraps(method)
    def wrapper(self: EmbeddedLaunchPad, *args: Any, **kwargs: Any) -> Any:
        with self.store.transaction(write=False):
            return method(self, *args, **kwargs)

    return wrapper


class EmbeddedLaunchPad(LaunchPad):
    """A FireWorks LaunchPad on a mongomock-persistence file shared safely by local processes."""

    def __init__(self, path: str | os.PathLike, lock_timeout_s: float = 120.0, name: str = "phasefire") -> None:
        path = Path(path).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        server_store = ServerStore.__new__(ServerStore)  # bypass the env-driven, exit-time-writing init
        server_store._databases = {}
        self.store = StoreFile(path, server_store, lock_timeout_s)
        self.store_path = path
        client = mongomock.MongoClient(_store=server_store)
        with _launchpad_client(client):
            super().__init__(name=name, strm_lvl="ERROR")
        self.db = LockedDatabase(self.connection[name], self.store)
        self.fireworks = self.db.fireworks
        self.launches = self.db.launches
        self.offline_runs = self.db.offline_runs
        self.fw_id_assigner = self.db.fw_id_assigner
        self.workflows = self.db.workflows
        self.gridfs_fallback = None  # documents stay small: large arrays go to files
        with self.store.transaction(write=False):
            pass  # load the file now, so a corrupt store fails here with a clear message

    def to_dict(self) -> dict[str, Any]:
        return {"store": "embedded", "path": str(self.store_path), "lock_timeout_s": self.store.lock_timeout_s}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EmbeddedLaunchPad:
        return cls(d["path"], d.get("lock_timeout_s", 120.0))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the store across several calls (e.g. read-modify-write of a results document)."""
        with self.store.transaction(write=False):
            yield


for _name in TRANSACTIONAL_METHODS:
    if hasattr(LaunchPad, _name):
        setattr(EmbeddedLaunchPad, _name, _transactional(_name))


@contextmanager
def _launchpad_client(client: mongomock.MongoClient) -> Iterator[None]:
    """Make LaunchPad.__init__ connect to ``client`` (it builds its own client from a module global)
    and skip its GridFS fallback (pymongo's GridFS refuses a mongomock database)."""
    import fireworks.core.launchpad as launchpad_module

    original = launchpad_module.MongoClient, launchpad_module.GRIDFS_FALLBACK_COLLECTION
    launchpad_module.MongoClient = lambda *args, **kwargs: client
    launchpad_module.GRIDFS_FALLBACK_COLLECTION = None
    try:
        yield
    finally:
        launchpad_module.MongoClient, launchpad_module.GRIDFS_FALLBACK_COLLECTION = original
