"""Which launchpad.yaml is trusted: one found in a parent folder must be ours and not writable by others."""

from __future__ import annotations

import os

import pytest

from phasefire.workflows import config
from phasefire.workflows.config import find_launchpad_file

FALLBACK = config.Path(config.__file__).resolve().parents[1] / "launchpad.yaml"


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """tmp/outer/launchpad.yaml and tmp/outer/project/work, searched from work."""
    monkeypatch.delenv("PHASEFIRE_LAUNCHPAD", raising=False)
    monkeypatch.setattr(config, "_REFUSED", set())
    work = tmp_path / "outer" / "project" / "work"
    work.mkdir(parents=True)
    found = tmp_path / "outer" / "launchpad.yaml"
    found.write_text("store: embedded\nqueue:\n  pre_rocket: touch /tmp/pwned-pre-rocket\n")
    found.chmod(0o644)
    return work, found


def test_own_file_in_a_parent_folder_is_used(tree, capsys):
    work, found = tree
    assert find_launchpad_file(work) == found
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("mode", [0o664, 0o646, 0o666])
def test_group_or_world_writable_file_is_refused_with_one_line(tree, capsys, mode):
    work, found = tree
    found.chmod(mode)
    assert find_launchpad_file(work) == FALLBACK
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"ignoring {found}" in err and "writable by" in err and "chmod go-w" in err


@pytest.mark.skipif(os.geteuid() != 0, reason="making a file owned by another user needs root")
def test_file_owned_by_another_user_is_refused(tree, capsys):
    work, found = tree
    os.chown(found, 4242, 4242)
    assert find_launchpad_file(work) == FALLBACK
    err = capsys.readouterr().err
    assert "owned by uid 4242" in err and err.count("\n") == 1


def test_refused_file_lets_the_search_go_on_upwards(tree, capsys):
    work, found = tree
    nearer = work.parent / "launchpad.yaml"
    nearer.write_text("store: embedded\n")
    nearer.chmod(0o666)
    assert find_launchpad_file(work) == found
    assert "ignoring" in capsys.readouterr().err
    find_launchpad_file(work)
    assert capsys.readouterr().err == "", "each refusal is said once per process"


def test_explicit_path_is_taken_as_given(tree, monkeypatch):
    work, found = tree
    found.chmod(0o666)
    monkeypatch.setenv("PHASEFIRE_LAUNCHPAD", str(found))
    assert find_launchpad_file(work) == found
