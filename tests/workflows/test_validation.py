"""`phasefire validate models`: relaxations through the workflow machinery, the table re-read from
the results database, and the V(P) / barrier rows built from the stored documents."""

from __future__ import annotations

import json

import pytest

from phasefire.workflows.cli import main
from phasefire.workflows.studies.validation import barrier_row, choice_name, choices


def test_choices_cover_every_shipped_model_and_dispersion():
    names = [choice_name(spec) for spec in choices()]
    assert names == ["chgnet", "chgnet+d3bj", "7net-0", "7net-0+d3bj", "7net-l3i5", "7net-l3i5+d3bj",
                     "7net-mf-0", "7net-mf-0+d3bj"]  # fmt: skip


def test_quick_validation_relaxes_cspbbr3_and_rereads_the_table(store, capsys):
    assert main(["validate", "models", "--quick", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    (result,) = summary["results"]
    assert (result["model"], result["dispersion"]) == ("chgnet", "none")
    (row,) = result["lattice"]
    assert row["crystal"] == "cspbbr3-cubic" and row["converged"] and row["space_group"] == "Pm-3m"
    assert row["a_error_percent"] == pytest.approx(2.6, abs=0.3)  # CHGNet 0.3.0: a = 6.03 Å vs 5.874 Å
    assert row["volume_error_percent"] == pytest.approx(100 * ((1 + row["a_error_percent"] / 100) ** 3 - 1))
    assert result["time_per_force_call_s"] > 0 and result["timing_atoms"] == 5
    assert main(["validate", "models", "--from-workflow", summary["workflow"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == summary  # the table lives in the database


def test_validate_rejects_an_unknown_model(store, capsys):
    assert main(["validate", "models", "--models", "mace"]) == 1
    assert "unknown MLIP model 'mace'" in capsys.readouterr().err


def test_barrier_row_reports_endpoint_asymmetry():
    document = {"task_type": "neb", "task_id": 7, "converged": True,
                "output": {"barrier_forward_eV": 0.31, "barrier_backward_eV": 0.28}}  # fmt: skip
    row = barrier_row([document])
    assert row["migration_barrier_eV"] == 0.31
    assert row["endpoint_energy_difference_eV"] == pytest.approx(0.03)
    assert row["experiment_eV"] == 0.25


@pytest.mark.slow
def test_sb2se3_volume_pressure_curve_and_barrier_with_chgnet(store, capsys):
    assert main(["validate", "models", "--models", "chgnet", "--dispersion", "none", "--crystals", "sb2se3-pnma",
                 "--json"]) == 0  # fmt: skip
    (result,) = json.loads(capsys.readouterr().out)["results"]
    volumes = [p["volume_ratio_to_0GPa"] for p in result["eos"]]
    assert [p["pressure_GPa"] for p in result["eos"]] == [0, 5, 10, 15, 20]
    assert volumes[0] == 1 and all(a > b for a, b in zip(volumes, volumes[1:]))  # compressed monotonically
    assert 0.1 < result["barrier"]["migration_barrier_eV"] < 0.6


def test_study_defaults_apply_unless_the_user_chooses(store):
    from phasefire.workflows.studies.sb2se3 import study_workflow
    from phasefire.workflows.studies.validation import engine_choice_note, engine_description, study_engine_params

    workflow, _ = study_workflow(
        "paper", {"pressures_GPa": [0, 4], "elf": False}, "mlip", seed=0, name="amorphous/defaults"
    )
    engine = workflow.fws[0].tasks[0]["engine"]
    assert (engine["model"], engine["dispersion"]) == ("7net-l3i5", "d3bj")  # Sb2Se3: layered, D3 (V -3.6 %)
    assert engine_description(engine) == "mlip (model 7net-l3i5, dispersion d3bj)"
    assert engine_choice_note("sb2se3", "paper", engine) is None
    # the quick profile's time budget takes the fastest model, and says why
    workflow, _ = study_workflow("quick", {"pressures_GPa": [0, 4]}, "mlip", seed=0, name="amorphous/quick-defaults")
    engine = workflow.fws[0].tasks[0]["engine"]
    assert (engine["model"], engine["dispersion"]) == ("chgnet", "none")
    assert "7net-l3i5 + D3(BJ)" in engine_choice_note("sb2se3", "quick", engine)
    chosen = study_engine_params("sb2se3", "mlip", {"model": "7net-l3i5", "dispersion": "d3bj"}, "quick")
    assert engine_choice_note("sb2se3", "quick", {"name": "mlip", **chosen}) is None  # the user's choice
    assert study_engine_params("sb2se3", "mlip", {"model": "chgnet"}) == {"model": "chgnet"}
    assert study_engine_params("ag2se", "mlip", {}) == {"model": "7net-mf-0", "dispersion": "none"}
    assert study_engine_params("ag2se", "vasp", {}) == {}
