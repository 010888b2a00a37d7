"""``reproduce cspbx3`` report: the model curve and the paper comparison rendered from the study numbers."""

from __future__ import annotations

from phasefire.models import rectification as rect
from phasefire.models.rectification_study import rectification_runs, rectification_study
from phasefire.workflows.reports.cspbx3 import write_report


def test_report_puts_the_model_beside_the_paper(tmp_path):
    params = rect.RectificationParameters()
    hours, grid = 0.1, 250
    study = rectification_study(params, hours, grid, (-4.0, 0.0, 4.0), barriers_eV=(0.30,))
    runs = rectification_runs(params, [4.0], hours, grid)
    assert runs["forward_migration_um"][0] > 0 > runs["zero_bias_migration_um"]
    summary = {
        "workflow": "cspbx3-neb/test",
        "engine": "mlip",
        "profile": "quick",
        "temperature_K": 300.0,
        "barriers_eV": {"Br": 0.30, "Cl": 0.32},
        "neb": {
            "Br": {
                "profile": {"reaction_coordinate_A": [0.0, 1.0, 2.0], "energies_eV": [0.0, 0.3, -0.054]},
                "barrier_forward_eV": 0.30,
                "barrier_backward_eV": 0.354,
                "endpoint_check": {"energy_difference_eV": -0.054, "flagged": True},
            }
        },
        "rectification": {"neb": runs, "paper": runs, "study": study},
        "wall_time_s": {"neb_workflow": 1.0, "rectification_model": 2.0},
    }
    text = write_report(summary, tmp_path).read_text()
    assert (tmp_path / "cspbx3.png").stat().st_size > 10_000
    assert "The model beside the paper's statements" in text
    assert "unbiased interdiffusion shifts the front towards the bromide-rich side" in text and "**no**" in text
    assert "| 0.30 | 20.5 |" in text  # barrier scan row: 0.30 eV gives D_V = 20.5 µm²/s
    assert study["barrier_scan"][0]["migration_length_forward_um"] > 0
    # the -0.054 eV endpoint mismatch of the old CsPbBr3 run: ±0.027 eV, D_V uncertain by exp(0.027/kT) = 2.84
    assert "| Br | 0.300 | 0.027 | -0.054 | 2.84 | **flagged**: differ beyond tolerance |" in text
    assert "Engine: mlip." in text  # a summary without engine_spec: the name alone


def test_a_neb_whose_highest_image_is_an_endpoint_is_kept_out_of_the_model(tmp_path):
    """The quick CHGNet CsPbCl3 run of this change: endpoints relaxed 0.946 eV apart, saddle = last image."""
    from phasefire.workflows.commands.reproduce_cspbx3 import flagged_hops

    def document(energies, flagged):
        check = {
            "energy_difference_eV": energies[-1],
            "tolerance_eV": 0.01,
            "flagged": flagged,
            "relaxed_equivalent": False,
        }
        profile = {"energies_eV": energies, "saddle_index": max(range(len(energies)), key=energies.__getitem__)}
        return {"output": {"energy_profile": profile, "endpoint_check": check}}

    reasons = flagged_hops({
        "Br": document([0.0, 0.03, 0.101, 0.07, 0.045], True),  # flagged, but a barrier: carried as uncertainty
        "Cl": document([0.0, 0.032, 0.204, 0.931, 0.946], True),
    })  # fmt: skip
    assert list(reasons) == ["Cl"]
    assert "highest image is an endpoint" in reasons["Cl"] and "+0.946 eV" in reasons["Cl"]
