"""Which launchpad.yaml is trusted: one found in a parent folder must be ours and not writable by others."""

from __future__ import annotations

import json
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


# -- launchpad.yaml is validated: unknown keys and wrong types name the key and the file --------------


@pytest.fixture
def write_config(tmp_path, monkeypatch):
    def write(text: str):
        path = tmp_path / "launchpad.yaml"
        path.write_text(text)
        monkeypatch.setenv("PHASEFIRE_LAUNCHPAD", str(path))
        return path

    return write


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stroe: mongodb\n", "unknown key 'stroe'; did you mean 'store'?"),
        ("quue:\n  q_type: SLURM\n", "unknown key 'quue'; did you mean 'queue'?"),
        ("worker:\n  vasp_cmnd: srun vasp\n", "unknown key 'worker.vasp_cmnd'; did you mean 'vasp_cmd'?"),
        ("queue:\n  q_type: SLURM\n  node: 2\n", "unknown key 'queue.node'; did you mean 'nodes'?"),
        ("queue:\n  q_type: SLRUM\n", "'queue.q_type' 'SLRUM' is unknown; did you mean 'SLURM'?"),
        ("embedded:\n  lock_timeout_s: soon\n", "'embedded.lock_timeout_s' must be a positive number, got 'soon'"),
        ("mongodb:\n  port: 27017x\n", "'mongodb.port' must be a port number (1-65535), got '27017x'"),
        ("worker:\n  mlip_threads: 0\n", "'worker.mlip_threads' must be a positive integer, got 0"),
        ("store: sqlite\n", "'store' must be one of embedded, mongodb, got 'sqlite'"),
    ],
)
def test_bad_launchpad_yaml_is_one_line_naming_key_and_file(write_config, capsys, text, expected):
    from phasefire.workflows.cli import main

    path = write_config(text)
    assert main(["config"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"phasefire: error: {path}: ") and expected in err and "\n" not in err


def test_config_shows_what_is_in_effect(write_config, tmp_path, monkeypatch, capsys):
    from phasefire.workflows.cli import main

    monkeypatch.delenv("PHASEFIRE_DATA_DIR", raising=False)
    monkeypatch.setenv("PHASEFIRE_VASP_CMD", "srun vasp_std")
    path = write_config(
        "store: embedded\nembedded:\n  path: db/lp.db\nworker:\n  runs_dir: scratch\n  mlip_threads: 2\n"
    )
    assert main(["config", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["launchpad_file"] == str(path) and info["launchpad_file_from"] == "PHASEFIRE_LAUNCHPAD"
    assert info["store"] == {
        "kind": "embedded",
        "path": str(tmp_path / "db" / "lp.db"),
        "lock_timeout_s": 120.0,
        "from": "launchpad.yaml",
    }
    assert info["runs_dir"] == str(tmp_path / "scratch")
    assert info["worker"]["vasp_cmd"] == {"value": "srun vasp_std", "from": "PHASEFIRE_VASP_CMD"}
    assert info["worker"]["mlip_threads"] == {"value": 2, "from": "launchpad.yaml"}
    assert info["worker"]["mlip_device"] == {"value": "cpu", "from": "default"}
    assert info["queue"] is None
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert f"launchpad.yaml: {path}" in out and "queue:          none" in out
