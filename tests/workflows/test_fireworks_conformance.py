"""FireWorks' own LaunchPad, Rocket and Firework tests (shipped in its wheel) on the embedded store.

The test classes are imported from ``fireworks.core.tests`` and collected here; their module-level
``LaunchPad`` is replaced by ``ConformanceLaunchPad`` (an ``EmbeddedLaunchPad`` on a temporary
store), so every ``LaunchPad(name=..., strm_lvl=...)`` they make, and every ``from_file`` /
``from_dict`` round trip, runs on phasefire's store.

Skipped, each with its reason (``SKIPPED`` below):
"""

from __future__ import annotations

import os

import pytest

fireworks_tests = pytest.importorskip("fireworks.core.tests.test_launchpad")
from fireworks.core.tests import test_firework, test_launchpad, test_rocket  # noqa: E402

from phasefire.workflows.store import EmbeddedLaunchPad  # noqa: E402

_STORE = {"path": None}


class ConformanceLaunchPad(EmbeddedLaunchPad):
    """Takes FireWorks' LaunchPad arguments; every instance opens the session's conformance store."""

    def __init__(self, path=None, lock_timeout_s: float = 120.0, name: str = "fireworks_unittest", **_ignored) -> None:
        super().__init__(path or _STORE["path"], lock_timeout_s=lock_timeout_s, name=name)


#: test id -> why it cannot run on the embedded store
SKIPPED = {
    "AuthenticationTest": "MongoDB users and authSource: the embedded store has no authentication",
    "GridfsStoredDataTest": "GridFS fallback: the embedded store keeps documents small and has no GridFS",
    "WFLockTest": (
        "watches another process hold FireWorks' WFLock in the middle of a workflow refresh; the embedded "
        "store runs each refresh as one locked transaction, so that intermediate state is never visible "
        "(FireWorks' own test then skips itself after waiting 20 s)"
    ),
    "LaunchPadOfflineTest::test__recover_completed": (
        "FireWorks 2.1.4's offline rocket calls monty's zopen() without a mode, which the installed monty "
        "rejects (TypeError on any store, MongoDB included)"
    ),
}

#: skipped by FireWorks itself in this environment, but they pass on the embedded store: run them
UNSKIPPED = {"LaunchPadLostRunsDetectTest": "FireWorks skips it on pymongo >= 4 (a MongoDB server matter)"}

__doc__ += "".join(f"\n* ``{name}``: {reason}" for name, reason in SKIPPED.items())
__doc__ += "\n\nRun although FireWorks skips them here:" + "".join(
    f"\n* ``{name}``: {reason}" for name, reason in UNSKIPPED.items()
)


@pytest.fixture(scope="module", autouse=True)
def _conformance_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("conformance")
    _STORE["path"] = folder / "launchpad.db"
    cwd = os.getcwd()
    os.chdir(folder)  # their launch folders and FW.json files land here
    patched = [(module, module.LaunchPad) for module in (test_launchpad, test_rocket) if hasattr(module, "LaunchPad")]
    for module, _ in patched:
        module.LaunchPad = ConformanceLaunchPad
    yield
    for module, original in patched:
        module.LaunchPad = original
    os.chdir(cwd)


def _collect(module) -> dict:
    import unittest

    classes = {}
    for name, obj in vars(module).items():
        if isinstance(obj, type) and issubclass(obj, unittest.TestCase) and obj.__module__ == module.__name__:
            skipped_methods = {
                key.split("::")[1]: unittest.skip(reason)(getattr(obj, key.split("::")[1]))
                for key, reason in SKIPPED.items()
                if key.startswith(f"{name}::")
            }
            if name in UNSKIPPED:
                skipped_methods["__unittest_skip__"] = False
            obj = type(name, (obj,), skipped_methods)
            if name in SKIPPED:
                obj = unittest.skip(SKIPPED[name])(obj)
            classes[f"FW_{module.__name__.rsplit('.', 1)[-1]}_{name}"] = obj
        elif isinstance(obj, type) and name.startswith("Test") and obj.__module__ == module.__name__:
            classes[name] = obj  # a pytest-style class
    return classes


for _module in (test_launchpad, test_rocket, test_firework):
    globals().update(_collect(_module))
