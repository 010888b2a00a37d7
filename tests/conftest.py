"""Shared fixtures: an isolated embedded store per test, fake POTCARs and the VASP stand-in."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"
STANDIN = Path(__file__).with_name("vasp_standin.py")


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh embedded store and runs folder under tmp_path; yields the Settings."""
    import phasefire.workflows.launchpad
    from phasefire.workflows.config import load_settings

    monkeypatch.setenv("PHASEFIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PHASEFIRE_LAUNCHPAD", str(REPO / "launchpad.yaml"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(phasefire.workflows.launchpad, "_OPEN", {})
    yield load_settings()


@pytest.fixture
def fake_vasp(tmp_path, monkeypatch):
    """Point the VASP engine at the stand-in and a fake POTCAR library; returns plan(steps)."""
    from tests.fake_potcars import write_fake_potcar_library

    library = write_fake_potcar_library(
        tmp_path / "potcars", ["Si", "Ag", "Se", "Cs", "Pb", "Br", "Cl", "I", "Sb", "N", "H"]
    )
    monkeypatch.setenv("PMG_VASP_PSP_DIR", str(library))
    monkeypatch.setenv("PHASEFIRE_VASP_CMD", f"{sys.executable} {STANDIN}")

    def plan(steps: list[dict]) -> None:
        path = tmp_path / "standin_plan.json"
        path.write_text(json.dumps(steps))
        monkeypatch.setenv("PHASEFIRE_STANDIN_PLAN", str(path))

    return plan


def run_all(settings) -> int:
    """Run every ready firework in this process (no spawn) and return how many ran."""
    from phasefire.workflows.worker import run_worker

    cwd = os.getcwd()
    try:
        return run_worker(str(settings.source))
    finally:
        os.chdir(cwd)
