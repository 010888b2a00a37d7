"""Packaging: the user's folders install as one ``phasefire`` namespace, nothing bare."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = {"phasefire": "phasefire", "structures": "phasefire.structures", "workflows": "phasefire.workflows",
                  "analysis": "phasefire.analysis", "models": "phasefire.models"}  # fmt: skip


def test_every_source_package_is_installed_under_phasefire():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    expected = set()
    for folder, package in SOURCE_FOLDERS.items():
        assert config["package-dir"][package] == folder
        for init in (REPO / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(REPO / folder).parts
            expected.add(".".join((package, *parts)))
    assert set(config["packages"]) == expected


def test_namespace_imports_from_outside_the_checkout(tmp_path):
    ok = subprocess.run(
        [sys.executable, "-c", "import phasefire.analysis.rings, phasefire.workflows, phasefire.structures, phasefire.models"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    for bare in ("analysis", "workflows", "structures", "models"):
        result = subprocess.run([sys.executable, "-c", f"import {bare}"], cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr, bare
