"""The embedded store: FireWorks' LaunchPad on mongomock, persisted in SQLite, shared by local processes.

Design (written here because no library does it; FireWorks' mongomock-persistence mode loads
one JSON file when a process starts and writes it back when it exits, so two workers sharing it
each run every firework, and any change costs a rewrite of the whole file):

* **Query engine: mongomock**, so FireWorks' queries, updates and aggregations keep MongoDB's
  semantics. Each process holds an in-memory replica of the database.
* **Indexes**: every collection keeps hash indexes (``IndexedCollectionStore``) on the fields
  FireWorks and phasefire look documents up by (``DEFAULT_INDEXED`` plus the first field of every
  ``create_index``). A query whose top level (or ``$and``) holds an equality or ``$in`` on an
  indexed field is evaluated by mongomock on that index's candidates only, so checking out,
  updating and refreshing a firework or looking up task documents by ``formula_pretty`` cost
  the same in a store of 5,000 workflows as in an empty one. Other queries scan, as mongomock does.
* **Persistence: SQLite** (``launchpad.db``), one row per document holding its BSON (as MongoDB
  stores it; pymongo's C codec) and the sequence number of the write that last changed it
  (deleted documents stay as rows without a body). Every database operation (one collection
  call, or a whole LaunchPad method, ``TRANSACTIONAL_METHODS``) runs under an inter-process file
  lock (``filelock``; flock, released by the kernel if the holder dies); it first replays the
  rows written since this process last looked (``seq >`` its own: an indexed range, usually a
  handful of rows), runs, then writes the documents it touched in one SQLite transaction. So the
  cost of an operation follows what it touches, not the store's size. SQLite makes each write
  atomic and durable when any process is killed, even by SIGKILL (WAL, ``synchronous=NORMAL``),
  and the lock gives the single-document atomicity FireWorks relies on from MongoDB
  (``find_one_and_update`` to check a firework out): each firework runs once.
* **Files are owner-only**: the store, its WAL and lock file are 0600 and a new store folder 0700.
  Stale ``launchpad.json*.tmp`` files of the former whole-file writer are removed under the lock.
  A ``launchpad.json`` of that former format beside a new store is imported once.

Reading it with FireWorks' ``lpad`` (``python -m phasefire.workflows.store --help``):

* ``python -m phasefire.workflows.store lpad get_wflows -d more`` runs FireWorks' own ``lpad``
  command line on the store (through ``EmbeddedLaunchPad``, so under the same lock; writes too);
* ``python -m phasefire.workflows.store export snapshot.json`` writes a consistent snapshot in
  mongomock-persistence's format and ``snapshot.yaml`` naming the database, for
  ``MONGOMOCK_SERVERSTORE_FILE=snapshot.json lpad -l snapshot.yaml get_wflows`` (a read-only view:
  changes made there do not come back).

Limits:

* one machine: a local file lock and SQLite's WAL need a local file system (not NFS/Lustre);
  across nodes use MongoDB (``store: mongodb``);
* each process holds the whole store in memory and loads it when it first opens it: about
  0.2 s per 1,000 workflows on the (loaded, 2-core) development machine, 0.9 s at 5,000; after
  that, cost per operation is flat (``benchmarks/bench_store_scale.py``);
* only equality / ``$in`` on indexed fields narrow a query; others (``$regex`` on ``workflow``,
  listings of every firework as in ``phasefire status``) scan as mongomock does;
* operations are serialised across processes, fine for a few dozen workers whose fireworks
  take seconds or more;
* a power cut (not a killed process) may lose the last committed writes (never corrupt the
  file): a firework whose completion was lost then runs again;
* FireWorks' WFLock is never seen by other processes (each workflow refresh is one locked
  transaction), and deleted documents leave a small row behind.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import os
import re
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bson.json_util
import filelock
import mongomock
import mongomock.collection
from fireworks import LaunchPad
from mongomock import helpers
from mongomock.filtering import filter_applies
from mongomock.store import CollectionStore, DatabaseStore, ServerStore

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

#: LaunchPad methods run as one locked transaction (one catch-up, one write) instead of one per call
TRANSACTIONAL_METHODS = (
    "add_wf", "append_wf", "checkout_fw", "reserve_fw", "complete_launch", "ping_launch",
    "change_launch_dir", "rerun_fw", "defuse_fw", "reignite_fw", "pause_fw", "resume_fw",
    "delete_wf", "detect_lostruns", "detect_unreserved", "reset", "_refresh_wf", "get_new_fw_id",
    "get_new_launch_id", "_upsert_fws", "_update_wf", "maintain", "run_exists", "future_run_exists",
    "get_fw_ids", "get_wf_ids", "get_fw_by_id", "get_wf_by_fw_id", "get_launch_by_id",
    "get_wf_by_fw_id_lzyfw", "get_fw_dict_by_id", "add_offline_run", "recover_offline",
    "cancel_reservation", "set_reservation_id", "_steal_launches", "_check_fw_for_uniqueness",
)  # fmt: skip

#: fields indexed in every collection (FireWorks' ids and states, phasefire's task look-ups)
DEFAULT_INDEXED = (
    "fw_id", "launch_id", "state", "nodes", "launches", "task_id", "formula_pretty", "task_label", "workflow",
    "chemsys",
)  # fmt: skip

#: FireWorks' collections: indexed on DEFAULT_INDEXED only
FIREWORKS_COLLECTIONS = frozenset({"fireworks", "launches", "workflows", "fw_id_assigner", "offline_runs"})

DATABASE_SUFFIX = ".db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (db TEXT NOT NULL, coll TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL,
                                 body BLOB, PRIMARY KEY (db, coll, id));
CREATE INDEX IF NOT EXISTS docs_seq ON docs (seq);
CREATE TABLE IF NOT EXISTS colls (db TEXT NOT NULL, coll TEXT NOT NULL, seq INTEGER NOT NULL, indexes TEXT NOT NULL,
                                  PRIMARY KEY (db, coll));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('seq', 0);
"""


# --------------------------------------------------------------------------------------------
# Indexed in-memory collections (mongomock's stores with hash indexes)


class _Unindexable(Exception):
    pass


def _canonical(value: Any) -> Any:
    """A hashable stand-in for a BSON value; equal values map to equal keys (a superset is fine:
    mongomock's own filter decides on every candidate)."""
    if isinstance(value, dict):
        return ("\0d", tuple(sorted((k, _canonical(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("\0l", tuple(_canonical(v) for v in value))
    if isinstance(value, float) and math.isnan(value):
        raise _Unindexable
    if isinstance(value, re.Pattern):
        raise _Unindexable
    hash(value)  # TypeError for anything else unhashable
    return value


def _index_keys(document: dict, path: str) -> set | None:
    """Keys ``document`` has under ``path`` (the value, and each element of an array);
    None if the path runs through an array (then the document is always a candidate)."""
    value: Any = document
    for part in path.split("."):
        if isinstance(value, list):
            return None
        if not isinstance(value, dict) or part not in value:
            return set()
        value = value[part]
    try:
        keys = {_canonical(value)}
        if isinstance(value, list):
            keys.update(_canonical(v) for v in value)
    except (_Unindexable, TypeError):
        return None
    return keys


def _equality_terms(query: Any) -> Iterator[tuple[str, list]]:
    """(field, values) pairs a document must match one of, from a filter's top level and $and."""
    if not isinstance(query, dict):
        return
    for field, condition in query.items():
        if field == "$and" and isinstance(condition, list):
            for sub in condition:
                yield from _equality_terms(sub)
        elif field.startswith("$"):
            continue
        elif isinstance(condition, dict) and any(str(k).startswith("$") for k in condition):
            if "$eq" in condition:
                values = [condition["$eq"]]
            elif isinstance(condition.get("$in"), list | tuple):
                values = list(condition["$in"])
            else:
                continue
            if not any(v is None or isinstance(v, re.Pattern) for v in values):
                yield field, values
        elif condition is not None and not isinstance(condition, re.Pattern):
            yield field, [condition]


def _document_key(doc_id: Any) -> Any:
    return helpers.hashdict(doc_id) if isinstance(doc_id, dict) else doc_id


class IndexedCollectionStore(CollectionStore):
    """A mongomock collection store with hash indexes that tracks what changed (for persistence)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._paths: set[str] = set(DEFAULT_INDEXED)
        self._index: dict[str, dict[Any, set]] = {path: {} for path in self._paths}
        self._unindexed: dict[str, set] = {path: set() for path in self._paths}
        self._keys: dict[Any, dict[str, set | None]] = {}
        self._ordinal: dict[Any, int] = {}
        self._next_ordinal = 0
        self.dirty: set = set()  # document keys written since the last persist
        self.indexes_dirty = False
        self.writing = 0  # > 0 inside a write call: documents mongomock hands out may change in place
        self.touched: dict[Any, dict] = {}  # documents handed to mongomock's update code in this call
        self.stale: dict[Any, dict] = {}  # of those, the ones whose index entries may be out of date

    # -- index maintenance
    def _unindex(self, key: Any) -> None:
        for path, keys in self._keys.pop(key, {}).items():
            if keys is None:
                self._unindexed[path].discard(key)
                continue
            for k in keys:
                bucket = self._index[path].get(k)
                if bucket is not None:
                    bucket.discard(key)
                    if not bucket:
                        del self._index[path][k]

    def _reindex(self, key: Any, document: dict) -> None:
        self._unindex(key)
        entry = {}
        for path in self._paths:
            keys = _index_keys(document, path)
            entry[path] = keys
            if keys is None:
                self._unindexed[path].add(key)
            else:
                for k in keys:
                    self._index[path].setdefault(k, set()).add(key)
        self._keys[key] = entry

    def add_path(self, path: str) -> None:
        if path in self._paths or path == "_id" or path.startswith("$"):
            return
        self._paths.add(path)
        self._index[path], self._unindexed[path] = {}, set()
        for key, document in self._documents.items():
            self._reindex(key, document)

    def refresh_stale(self) -> None:
        """Re-index documents mongomock may have changed in place (its updates do that)."""
        for key, document in self.stale.items():
            if self._documents.get(key) is document:
                self._reindex(key, document)
        self.stale.clear()

    @contextmanager
    def write_call(self) -> Iterator[None]:
        """One write call (update, find_one_and_update, ...): persist what it changed in place."""
        self.writing += 1
        try:
            yield
        finally:
            self.writing -= 1
            self.refresh_stale()
            if not self.writing:
                self.dirty.update(key for key, doc in self.touched.items() if self._documents.get(key) is doc)
                self.touched.clear()

    # -- mongomock's CollectionStore interface
    def __setitem__(self, key: Any, value: dict) -> None:
        self.load(key, value)
        self.dirty.add(key)

    def __delitem__(self, key: Any) -> None:
        self.unload(key)
        self.dirty.add(key)

    def create_index(self, index_name: str, index_dict: dict) -> None:
        super().create_index(index_name, index_dict)
        self.indexes_dirty = True
        self._index_first_field(index_dict)

    def _index_first_field(self, index_dict: dict) -> None:
        """Index the first field of a MongoDB index, except in FireWorks' own collections, whose
        look-ups DEFAULT_INDEXED covers (its other indexes serve sorts and the web frontend)."""
        if self.name in FIREWORKS_COLLECTIONS:
            return
        for field, _direction in index_dict.get("key", ()):
            self.add_path(field)
            break

    def drop_index(self, index_name: str) -> None:
        super().drop_index(index_name)
        self.indexes_dirty = True

    def drop(self) -> None:
        self.dirty.update(self._documents)
        for key in list(self._documents):
            self.unload(key)
        super().drop()
        self.indexes_dirty = True

    # -- raw access (replaying what other processes wrote: nothing to persist)
    def load(self, key: Any, value: dict) -> None:
        if key not in self._ordinal:
            self._ordinal[key] = self._next_ordinal
            self._next_ordinal += 1
        self._documents[key] = value
        self._reindex(key, value)

    def unload(self, key: Any) -> None:
        if key in self._documents:
            del self._documents[key]
        self._ordinal.pop(key, None)
        self._unindex(key)

    def set_indexes(self, indexes: dict) -> None:
        for index in indexes.values():  # JSON made mongomock's (field, direction) tuples lists
            if "key" in index:
                index["key"] = [tuple(pair) for pair in index["key"]]
        self.indexes = indexes
        self._ttl_indexes = {}
        for index in indexes.values():
            self._index_first_field(index)

    def candidates(self, query: Any) -> list[dict] | None:
        """The documents that can match ``query`` per the indexes (in natural order), or None."""
        self.refresh_stale()
        best: set | None = None
        for field, values in _equality_terms(query):
            if field == "_id":
                try:
                    keys = {_document_key(v) for v in values}
                except TypeError:
                    continue
                keys = {k for k in keys if k in self._documents}
            elif field in self._index:
                try:
                    canon = [_canonical(v) for v in values]
                except (_Unindexable, TypeError):
                    continue
                keys = set(self._unindexed[field])
                for k in canon:
                    keys.update(self._index[field].get(k, ()))
            else:
                continue
            if best is None or len(keys) < len(best):
                best = keys
            if not best:
                break
        if best is None:
            return None
        return [self._documents[key] for key in sorted(best, key=self._ordinal.__getitem__)]


class IndexedDatabaseStore(DatabaseStore):
    def __getitem__(self, col_name: str) -> IndexedCollectionStore:
        try:
            return self._collections[col_name]
        except KeyError:
            col = self._collections[col_name] = IndexedCollectionStore(col_name)
            return col

    def rename(self, name: str, new_name: str) -> None:
        raise NotImplementedError("renaming collections is not supported by the embedded store")


class IndexedServerStore(ServerStore):
    def __getitem__(self, db_name: str) -> IndexedDatabaseStore:
        try:
            return self._databases[db_name]
        except KeyError:
            db = self._databases[db_name] = IndexedDatabaseStore()
            return db

    def collection_stores(self) -> Iterator[tuple[str, str, IndexedCollectionStore]]:
        for db_name, db_store in list(self._databases.items()):
            for coll_name, coll_store in list(db_store._collections.items()):
                yield db_name, coll_name, coll_store


_mongomock_iter_documents = mongomock.collection.Collection._iter_documents


def _iter_documents(self: mongomock.Collection, filter: Any) -> Iterator[dict]:
    """mongomock's document scan, narrowed to index candidates for an IndexedCollectionStore.

    The documents it yields are mongomock's stored dicts, which its update code changes in place:
    they are remembered so that their index entries are refreshed and the change persisted."""
    store = self._store
    if not isinstance(store, IndexedCollectionStore):
        return _mongomock_iter_documents(self, filter)
    if not store._documents:
        filter_applies(filter, {})  # mongomock validates the filter even on an empty collection
    documents = store.candidates(filter)
    if documents is None:
        documents = list(store._documents.values())
    matching = (doc for doc in documents if not filter or filter_applies(filter, doc))
    return _remember(store, matching) if store.writing else matching


def _remember(store: IndexedCollectionStore, documents: Iterator[dict]) -> Iterator[dict]:
    for document in documents:
        key = _document_key(document["_id"])
        store.touched[key] = store.stale[key] = document
        yield document


mongomock.collection.Collection._iter_documents = _iter_documents


# --------------------------------------------------------------------------------------------
# Persistence


def database_path(path: str | os.PathLike) -> Path:
    """The SQLite file for a configured store path (``data/launchpad.json`` -> ``data/launchpad.db``)."""
    path = Path(path)
    return path.with_suffix(DATABASE_SUFFIX) if path.suffix == ".json" else path


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and missing parents owner-only (0700); existing folders are left alone."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        with contextlib.suppress(FileExistsError):
            candidate.mkdir(mode=0o700)


class StoreFile:
    """One SQLite store shared by processes: file lock, incremental catch-up, per-document writes."""

    def __init__(self, path: Path, server_store: IndexedServerStore, lock_timeout_s: float) -> None:
        self.path = Path(path)
        self.server_store = server_store
        self.lock_timeout_s = lock_timeout_s
        self._file_lock = self._new_file_lock()
        self._lock_pid = os.getpid()
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._seq = 0
        self._connection: sqlite3.Connection | None = None
        self._pid = os.getpid()

    # -- the lock
    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[None]:
        """Hold the store for one operation (nested calls share the outermost hold)."""
        with self._thread_lock:
            if self._depth == 0:
                self._acquire()
            self._depth += 1
            try:
                if self._depth == 1:
                    self._catch_up()
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    try:
                        self._persist()  # like MongoDB: what an operation changed stays changed
                    finally:
                        self._file_lock.release()

    def _new_file_lock(self) -> filelock.FileLock:
        return filelock.FileLock(str(self.path) + ".lock", thread_local=False, mode=0o600, poll_interval=0.002)

    def _acquire(self) -> None:
        if self._lock_pid != os.getpid():  # a forked child (FireWorks' tests do that) takes its own lock
            self._file_lock, self._lock_pid = self._new_file_lock(), os.getpid()
        try:
            self._file_lock.acquire(timeout=self.lock_timeout_s)
        except filelock.Timeout:
            raise PhasefireError(
                f"the embedded store {self.path} has been locked by another process for more than "
                f"{self.lock_timeout_s:g} s; wait for it to finish (or stop it), or raise "
                "embedded.lock_timeout_s in launchpad.yaml"
            ) from None

    # -- SQLite
    def _db(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():  # a forked child opens its own
            self._pid = os.getpid()
            self._connection = self._open()
        return self._connection

    def _open(self) -> sqlite3.Connection:
        new = not self.path.exists()
        if new:
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))  # SQLite's WAL copies this mode
        try:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL: atomic and durable under SIGKILL
            connection.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise PhasefireError(
                f"the embedded store {self.path} cannot be read as a phasefire store ({exc}); move it "
                "aside to start an empty store, or point embedded.path in launchpad.yaml at the right file"
            ) from None
        if new:
            self._import_legacy(connection)
        return connection

    def _import_legacy(self, connection: sqlite3.Connection) -> None:
        """Import a store of the former whole-file format (``launchpad.json`` beside the new file)."""
        legacy = self.path.with_suffix(".json")
        if not legacy.is_file():
            return
        try:
            data = bson.json_util.loads(legacy.read_text(encoding="utf-8") or "{}")
        except ValueError:
            raise PhasefireError(
                f"the former store {legacy} is not valid JSON; restore it from a backup, or move it aside "
                "to start an empty store"
            ) from None
        rows = [
            (db_name, coll_name, bson.json_util.dumps(doc_id), 1, bson.encode(doc))
            for db_name, database in data.items()
            for coll_name, coll in database.items()
            for doc_id, doc in coll["documents"]
        ]
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany("INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?)", rows)
        connection.execute("UPDATE meta SET value = 1 WHERE key = 'seq'")
        connection.execute("COMMIT")

    def _catch_up(self) -> None:
        """Replay what other processes wrote since this one last looked."""
        connection = self._db()
        (latest,) = connection.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        if latest == self._seq:
            return
        if latest < self._seq:  # the store was replaced under us: start again
            self.forget()
        first_load = self._seq == 0
        order = "rowid" if first_load else "seq"
        for db_name, coll_name, indexes in connection.execute(
            "SELECT db, coll, indexes FROM colls WHERE seq > ?", (self._seq,)
        ):
            self.server_store[db_name][coll_name].set_indexes(bson.json_util.loads(indexes))
        rows = connection.execute(
            f"SELECT db, coll, body, id FROM docs WHERE seq > ? {'AND body IS NOT NULL' * first_load} ORDER BY {order}",
            (self._seq,),
        )
        for db_name, coll_name, body, doc_id in rows:
            coll_store = self.server_store[db_name][coll_name]
            if body is None:
                coll_store.unload(_document_key(bson.json_util.loads(doc_id)))
            else:
                document = bson.decode(body)
                coll_store.load(_document_key(document["_id"]), document)
        self._seq = latest

    def forget(self) -> None:
        self.server_store._databases.clear()
        self._seq = 0

    def _persist(self) -> None:
        changed = []
        for db_name, coll_name, coll_store in self.server_store.collection_stores():
            if coll_store.dirty or coll_store.indexes_dirty:
                changed.append((db_name, coll_name, coll_store))
        if not changed:
            return
        connection = self._db()
        seq = self._seq + 1
        try:
            connection.execute("BEGIN IMMEDIATE")
            for db_name, coll_name, coll_store in changed:
                rows = []
                for key in coll_store.dirty:
                    document = coll_store._documents.get(key)
                    body = None if document is None else bson.encode(document)
                    rows.append((db_name, coll_name, bson.json_util.dumps(key), seq, body))
                connection.executemany(
                    "INSERT INTO docs VALUES (?, ?, ?, ?, ?) ON CONFLICT (db, coll, id) "
                    "DO UPDATE SET seq = excluded.seq, body = excluded.body",
                    rows,
                )
                if coll_store.indexes_dirty:
                    connection.execute(
                        "INSERT OR REPLACE INTO colls VALUES (?, ?, ?, ?)",
                        (db_name, coll_name, seq, bson.json_util.dumps(coll_store.indexes)),
                    )
            connection.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (seq,))
            connection.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            self.forget()  # memory is ahead of the file: reload from the file next time
            raise
        finally:
            for _, _, coll_store in changed:
                coll_store.dirty.clear()
                coll_store.indexes_dirty = False
        self._seq = seq

    def remove_stale_temporaries(self) -> int:
        """Delete temporary files the former whole-file writer left behind when killed (under the lock)."""
        removed = 0
        with self.transaction():
            for stale in self.path.parent.glob(glob_escape(self.path.with_suffix(".json").name) + "*.tmp"):
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
                    removed += 1
        return removed

    def snapshot(self) -> dict[str, Any]:
        """The whole store in mongomock-persistence's layout: {db: {coll: {name, documents}}}."""
        with self.transaction():
            return {
                db_name: {
                    coll_name: {"name": coll_name, "documents": list(coll._documents.items())}
                    for coll_name, coll in db_store._collections.items()
                    if coll._documents
                }
                for db_name, db_store in self.server_store._databases.items()
            }


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


# --------------------------------------------------------------------------------------------
# Locked mongomock objects and the LaunchPad


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
                with self._collection._store.write_call() if write else contextlib.nullcontext():
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
    """A FireWorks LaunchPad on the embedded store (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, lock_timeout_s: float = 120.0, name: str = "phasefire") -> None:
        configured = Path(path).resolve()
        path = database_path(configured)
        make_private_dirs(path.parent)
        server_store = IndexedServerStore()
        self.store = StoreFile(path, server_store, lock_timeout_s)
        self.store_path = path
        self.configured_path = configured
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
        self.store.remove_stale_temporaries()  # also loads the store now, so a bad file fails here

    def to_dict(self) -> dict[str, Any]:
        return {"store": "embedded", "path": str(self.configured_path), "lock_timeout_s": self.store.lock_timeout_s}

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


# --------------------------------------------------------------------------------------------
# python -m phasefire.workflows.store: FireWorks' lpad on the store, and snapshots for it


def _open_configured() -> EmbeddedLaunchPad:
    from phasefire.workflows.config import load_settings
    from phasefire.workflows.launchpad import open_launchpad

    settings = load_settings()
    if settings.store != "embedded":
        raise PhasefireError(f"{settings.source} selects store '{settings.store}'; use lpad directly for MongoDB")
    return open_launchpad(settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m phasefire.workflows.store",
        description="FireWorks' lpad on the embedded store that launchpad.yaml selects.",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("lpad", help="run FireWorks' lpad on the store, e.g. `lpad get_wflows -d more`", add_help=False)
    export = actions.add_parser("export", help="write a mongomock-persistence snapshot for MONGOMOCK_SERVERSTORE_FILE")
    export.add_argument("output", help="the JSON file to write")
    argv = sys.argv[1:] if argv is None else argv
    args, rest = parser.parse_known_args(argv)
    try:
        launchpad = _open_configured()
        if args.action == "export":
            output = Path(args.output)
            text = bson.json_util.dumps(launchpad.store.snapshot())
            with open(os.open(output, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "w") as fh:
                fh.write(text)
            config = output.with_suffix(".yaml")  # names the database for lpad (its default is "fireworks")
            config.write_text(f"host: localhost\nname: {launchpad.db.name}\nstrm_lvl: ERROR\n")
            print(
                f"wrote {output} and {config}; read them with: MONGOMOCK_SERVERSTORE_FILE={output} lpad -l {config} get_wflows"
            )
            return 0
    except PhasefireError as exc:
        print(f"phasefire: error: {exc}", file=sys.stderr)
        return 1
    from fireworks.scripts import lpad_run

    lpad_run.get_lp = lambda _args: launchpad
    return lpad_run.lpad(rest) or 0


if __name__ == "__main__":
    sys.exit(main())
