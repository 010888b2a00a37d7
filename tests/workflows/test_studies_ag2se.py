"""The Ag2Se study's pieces without an MLIP: percolating barriers from NEB documents, the report."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from phasefire.analysis.strain import transformation_strain
from phasefire.structures import build
from phasefire.structures.defects import distinct_hops
from phasefire.workflows.reports.ag2se import write_report
from phasefire.workflows.studies.ag2se import (
    PAPER,
    PROFILES,
    dipole_rows,
    hop_kinds,
    percolation_comparison,
    species_rows,
)


def documents_with_barriers(barriers: dict[str, list[float]]) -> list[dict]:
    """NEB documents of every distinct alpha-Ag2Se hop with the given migration barriers (eV)."""
    atoms, documents = build("ag2se-alpha"), []
    for species in ("Ag", "Se"):
        for k, (hop, barrier) in enumerate(zip(distinct_hops(atoms, species), barriers[species])):
            record = {**asdict(hop), "label": hop.label, "supercell": [3, 2, 2], "index": k}
            documents.append({
                "task_type": "neb", "task_id": len(documents) + 1, "label": f"{species} {k}", "converged": True,
                "nsites": 143, "wall_time_s": 1.0, "input": {"metadata": {"hop": record}},
                "output": {"barrier_forward_eV": barrier, "barrier_backward_eV": barrier,
                           "endpoint_check": {"energy_difference_eV": 0.03 * k, "flagged": k == 1}},
            })  # fmt: skip
    return documents


def test_percolating_barriers_not_the_shortest_hop_set_the_ratio():
    """Ag: the 0.05 eV Ag1-Ag1 chain hop is 1-D already; Se: 3.98 A hop 1.0 eV is 1-D, so Se/Ag = 20;
    with the Ag chain hop expensive, the 3.00 A Ag1-Ag2 hop alone makes closed clusters (0-D), adding the
    3.08 A one makes chains at 0.3 eV (1-D), 3-D at 0.4 eV with Ag2-Ag2; the ratio drops to 3.3."""
    documents = documents_with_barriers({"Ag": [0.05, 0.2, 0.3, 0.4, 0.5], "Se": [1.0, 1.5, 2.0]})
    rows = species_rows(documents)
    result = percolation_comparison(build("ag2se-alpha"), hop_kinds(rows, documents))
    assert result["Ag"]["percolating_barrier_eV"] == 0.05 and result["Ag"]["dimensionality"] == "1-D"
    assert result["ratio_Se_over_Ag"] == pytest.approx(20.0)
    documents = documents_with_barriers({"Ag": [0.9, 0.2, 0.3, 0.4, 0.5], "Se": [1.0, 1.5, 2.0]})
    rows = species_rows(documents)
    result = percolation_comparison(build("ag2se-alpha"), hop_kinds(rows, documents))
    assert result["Ag"]["percolating_barrier_eV"] == 0.3 and result["Ag"]["dimensionality"] == "1-D"
    assert [s["dimensionality"] for s in result["Ag"]["steps"]] == [0, 1, 3, 3, 3]
    assert result["ratio_Se_over_Ag"] == pytest.approx(1.0 / 0.3)


def test_report_has_every_section_and_figure(tmp_path):
    alpha, beta = build("ag2se-alpha"), build("ag2se-beta")
    documents = documents_with_barriers({"Ag": [0.05, 0.2, 0.3, 0.4, 0.5], "Se": [1.0, 1.5, 2.0]})
    rows = species_rows(documents)
    dipoles = dipole_rows({"cited alpha": alpha})
    temperatures = np.arange(0.0, 500.0, 10.0)
    results = {
        "profile": "test", "engine": {"name": "mlip"}, "workflow": "w", "timings_s": {"total_s": 1.0},
        "cells": [{"structure": "alpha-Ag2Se", "cited_abc_A": [4.3357, 7.07, 7.774], "relaxed_abc_A": [4.3, 7.0, 8.4],
                   "cited_volume_per_fu_A3": 59.6, "relaxed_volume_per_fu_A3": 63.0, "relaxed_energy_per_atom_eV": -3.2}],
        "dipoles": {k: {**v, "vortices": {kk: vv for kk, vv in v["vortices"].items() if not kk.startswith("_")}}
                    for k, v in dipoles.items()},
        "_dipoles": dipoles,
        "strain": {"cited": transformation_strain(alpha, beta)},
        "qha": {"temperatures_K": temperatures.tolist(), "volumetric_expansion_per_K": (temperatures * 1e-7).tolist(),
                "volume_A3": (238 + temperatures * 0.01).tolist(), "linear_expansion_300K_per_K": 1e-5,
                "volumetric_expansion_300K_per_K": 3e-5, "method": "test", "supercell": [1, 1, 1],
                "imaginary_mesh_modes": [0]},
        "hops": rows, "neb_settings": PROFILES["quick"]["neb"],
        "percolation": percolation_comparison(alpha, hop_kinds(rows, documents)),
        "field_ladder": None, "paper": PAPER,
    }  # fmt: skip
    report = write_report(results, tmp_path / "report")
    text = report.read_text()
    for needle in (
        "## Cells",
        "Abrahams",
        "field ladder did not run",
        "+5.85 %",
        "Ratio Se/Ag of the percolating barriers: 20.0",
        "Climbing-image NEB, 1 climbing image, NEB forces < 0.1 eV/Å; both endpoints relaxed from the same 0.02 Å "
        "rattle to 0.05 eV/Å",
        "| 0.050 | yes | +0.000 |",  # the endpoint check of the first Ag hop
        "| yes | +0.030 FLAGGED |",  # equivalent endpoints 30 meV apart
    ):
        assert needle in text
    assert (tmp_path / "report" / "dipoles-cited-alpha.png").stat().st_size > 10_000
    assert (tmp_path / "report" / "qha.png").is_file() and (tmp_path / "report" / "results.json").is_file()
    assert not list((tmp_path / "report").glob(".tmp-*"))


@pytest.mark.slow
def test_field_ladder_through_the_generic_task_gives_equal_and_opposite_responses(store, tmp_path):
    """alpha relaxed at 0 and ±0.01 V/Å along [011] (the study's 7net-mf-0, nominal Born charges)
    through the stored workflow: Se moves against E, Ag with it, the ±E changes of the dipole
    families mirror each other (measured: ∓2.56 / ±2.61 pm, Se 1.74 pm). CHGNet, softer for Ag2Se,
    already reorients every Se dipole at this field (all four in one family, -30 pm)."""
    import warnings

    from fireworks import Workflow

    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.reports.ag2se import field_ladder_lines
    from phasefire.workflows.studies.ag2se import FIELD_LADDER_V_PER_A, field_ladder_fireworks, field_ladder_results
    from tests.conftest import run_all

    settings = {"field_V_per_A": FIELD_LADDER_V_PER_A, "fmax_eV_per_A": 0.01, "max_steps": 300}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nominal Born charges
        fireworks = field_ladder_fireworks(
            build("ag2se-alpha"), {"name": "mlip", "model": "7net-mf-0"}, "ladder", settings
        )
        open_launchpad().add_wf(Workflow(fireworks, name="ladder"))
        assert run_all(store) == 3
    ladder = field_ladder_results(ResultsDB(open_launchpad()).query(workflow="ladder"))
    assert ladder["converged"]
    plus, minus = ladder["response"]["+E"], ladder["response"]["-E"]
    se_plus = plus["displacements_pm"]["Se"]["mean_displacement_along_direction_pm"]
    ag_plus = plus["displacements_pm"]["Ag"]["mean_displacement_along_direction_pm"]
    assert se_plus < -0.5 and ag_plus > 0.2  # anion against E, cation along, by pm
    assert minus["displacements_pm"]["Se"]["mean_displacement_along_direction_pm"] == pytest.approx(-se_plus, rel=0.2)
    change = ladder["change"]
    common = set(change["+E"]) & set(change["-E"])  # a family exists when both fields leave Se in it
    assert common
    for family in common:
        assert change["+E"][family]["magnitude_change_pm"] == pytest.approx(
            -change["-E"][family]["magnitude_change_pm"], rel=0.25
        )  # linear response plus a second-order part of one sign (measured -2.94 vs +2.59 pm at fmax 0.01)
    assert max(abs(change["+E"][f]["magnitude_change_pm"]) for f in common) > 0.5
    assert field_ladder_results([]) is None
    assert any("nominal oxidation states" in line for line in field_ladder_lines(ladder, PAPER))


def test_a_beta_without_lattice_correspondence_is_reported_not_fatal():
    from phasefire.analysis.strain import transformation_strain
    from phasefire.workflows.studies.ag2se import strain_or_reason

    alpha, beta = build("ag2se-alpha"), build("ag2se-beta")
    sheared = beta.copy()  # Se sublattice no longer bcc: its primitive cell is the whole approximant
    selenium = [i for i, atom in enumerate(beta) if atom.symbol == "Se"]
    sheared.positions[selenium] += np.random.default_rng(1).normal(0.0, 0.4, (len(selenium), 3))
    result = strain_or_reason(transformation_strain, alpha, sheared)
    assert result["minimal"] is None and "no lattice correspondence" in result["reason"]
    assert strain_or_reason(transformation_strain, alpha, beta)["minimal"]["strain_along_axis"] > 0


def test_from_workflow_without_stored_nebs_fails_at_once(store, capsys, monkeypatch):
    """A wrong --from-workflow name is one line naming the fix, before minutes of relaxations."""
    import phasefire.workflows.studies.ag2se
    from phasefire.workflows.cli import main

    def no_relaxation(*args, **kwargs):
        raise AssertionError("a relaxation ran before the stored workflow was checked")

    monkeypatch.setattr(phasefire.workflows.studies.ag2se, "relax_cell", no_relaxation)
    assert main(["reproduce", "ag2se", "--from-workflow", "ag2se/quick/mlip/none"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("phasefire: error: workflow 'ag2se/quick/mlip/none' has no stored NEB documents")
    assert "phasefire db query" in error and len(error.splitlines()) == 1
