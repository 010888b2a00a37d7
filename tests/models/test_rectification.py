"""Perovskite rectification model (phasefire.models.rectification, ``phasefire model rectification``).

Analytic limits (erf interdiffusion, Debye screening, mirror symmetry), conservation, grid convergence,
the sources and the bad inputs.  Default runs use 250-500 cells over 1 h (about a second each); the
1,000/2,000-cell figures are marked slow.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import sparse
from scipy.special import erfc

from phasefire.models import rectification as rect
from phasefire.workflows.cli import main
from phasefire.workflows.errors import PhasefireError

HOURS = 1.0
GRID = 250
PARAMS = rect.RectificationParameters()
#: equal formation energies: Br and Cl become the same species (uniform x_V^eq)
EQUAL_EF = replace(PARAMS, formation_energy_cl_eV=PARAMS.formation_energy_br_eV)


@pytest.fixture(scope="module")
def runs():
    """±4 V/µm and 0 V/µm, 1 h, 250 cells, default (formation-energy) sources."""
    return {b: rect.simulate(b, HOURS, GRID, PARAMS, snapshots=5) for b in (4.0, -4.0, 0.0)}


def test_halide_sites_conserved_to_1e_10(runs):
    for run in runs.values():
        assert run.halide_sites_relative_error <= 1e-10  # measured ~1e-16
        assert np.all(1.0 - run.x_br - run.x_v > -1e-9) and run.x_v.min() > 0


def test_pure_interdiffusion_matches_erf_solution():
    """No field, no sources, equal formation energies, w_Cl = w_Br: the Moleko coefficients give the
    constant interdiffusivity f0 D_V x_V, so x_Br = c_Cl + (c_Br - c_Cl)/2 erfc((z - z0)/(2 sqrt(D t)))."""
    params = replace(EQUAL_EF, vacancy_diffusivity_um2_per_s=2000.0)  # sqrt(D t) = 0.68 µm in 1 h
    diffusivity = params.correlation_factor * params.vacancy_diffusivity_um2_per_s * params.vacancy_fraction_br_rich
    errors = []
    for grid in (250, 500):
        run = rect.simulate(0.0, HOURS, grid, params, snapshots=2, sources="none")
        exact = 0.11 + 0.44 * erfc((run.z_um - 5.0) / (2.0 * math.sqrt(diffusivity * HOURS * 3600.0)))
        errors.append(np.abs(run.x_br[-1] - exact).max())
        assert abs(run.migration_length_um) < 1e-4  # symmetric: the mid-point stays
    assert errors[0] < 2e-4 and errors[1] < 5e-5  # 8.6e-5, 2.6e-5 measured
    assert errors[0] / errors[1] > 3.0  # second order in dz (3.3)


def test_blocking_electrodes_screen_with_the_debye_length():
    """Uniform composition, no sources, a tiny bias (0.014 kT on the contact lines): the steady potential
    decays from the contact line into the gap as exp(-z/lambda_D), lambda_D = sqrt(eps kT/(e² c_s x_V))."""
    grid = 1000
    run = rect.simulate(1e-4, 0.01, grid, EQUAL_EF, snapshots=2, sources="none", initial_x_br=np.full(grid, 0.99))
    psi = run.potential_V[-1] / PARAMS.thermal_voltage_V
    bulk = psi[np.argmin(np.abs(run.z_um - 5.0))]
    near = (run.z_um > 1.6) & (run.z_um < 2.1)  # 0.1-0.6 µm from the contact line
    slope = np.polyfit(run.z_um[near], np.log(np.abs(psi[near] - bulk)), 1)[0]
    assert -1.0 / slope == pytest.approx(PARAMS.debye_length_um, rel=5e-3)  # 0.15248 vs 0.15241 µm
    assert PARAMS.debye_length_um == pytest.approx(0.1524, rel=1e-3)


def test_formation_energy_holds_the_initial_vacancy_step(runs):
    """x_V^eq(y) = 1e-7 exp(-(E_f(y) - E_f,Br)/kT) is held by the formation energy in mu_V, not by space
    charge: after 1 h unbiased |psi| stays below 0.5 kT (0.21 kT measured, from the interdiffusion near the
    front; a step held by space charge alone would
    need ln(x_V,Br / x_V,Cl) = 4.1 kT) and x_V keeps its equilibrium step away from the front."""
    run = runs[0.0]
    psi = run.potential_V[-1] / PARAMS.thermal_voltage_V
    assert np.abs(psi).max() < 0.5
    x_eq = PARAMS.equilibrium_vacancy_fraction(run.x_br[-1] / (1.0 - run.x_v[-1]))
    # local equilibrium away from the front: mu_V + e phi = kT (ln(x_V / x_V^eq(y)) + psi) is uniform
    electrochemical = np.log(run.x_v[-1] / x_eq) + psi
    for side in (run.z_um < 4.0, run.z_um > 6.0):
        assert np.ptp(electrochemical[side]) < 1e-3
    assert run.x_v[0][-1] / run.x_v[0][0] == pytest.approx(math.exp(-0.88 * 0.12 / PARAMS.thermal_voltage_V), rel=1e-9)


def test_signed_lengths_and_asymmetry_from_the_formation_energies(runs):
    """One rate law: the forward front moves into CsPbBr3 (> 0), the reverse one towards CsPbCl3 (< 0)
    and is small because the injecting electrode then sits on the Cl-rich end."""
    forward, reverse = runs[4.0].migration_length_um, runs[-4.0].migration_length_um
    assert 0.22 < forward < 0.26  # 0.2375 µm after 1 h
    assert -0.004 < reverse < -0.001  # -0.0022 µm
    assert 60 < rect.rectification_ratio(forward, reverse) < 160  # 107 after 1 h (69 after 4 h)


def test_equal_formation_energies_make_the_wire_symmetric():
    """With E_f,Cl = E_f,Br (and w_Cl = w_Br) Br and Cl are the same species: L(-E) = -L(E), ratio 1."""
    forward = rect.simulate(4.0, 0.5, GRID, EQUAL_EF, snapshots=2).migration_length_um
    reverse = rect.simulate(-4.0, 0.5, GRID, EQUAL_EF, snapshots=2).migration_length_um
    assert forward > 0.1 and reverse == pytest.approx(-forward, rel=0.04)  # 0.1186 / -0.1224 after 0.5 h


def test_zero_bias_drift_towards_chloride_and_its_cause(runs):
    """Unbiased interdiffusion: the front (x_Br = 0.55) moves towards CsPbCl3, because the halide
    interdiffusivity (proportional to x_V) is ~60x larger on the Br-rich side (Boltzmann-Matano).  With
    equal formation energies the drift vanishes.  The paper says the opposite direction."""
    drift = runs[0.0].migration_length_um
    assert -0.010 < drift < -0.004  # -0.0070 µm after 1 h
    equal = rect.simulate(0.0, HOURS, GRID, EQUAL_EF, snapshots=2, sources="none").migration_length_um
    assert abs(equal) < 0.1 * abs(drift)
    # ... while Cl spreads into CsPbBr3: the x_Br = 0.95 contour moves into the bromide segment
    from phasefire.models.rectification_study import contour_shifts_um

    shifts = contour_shifts_um(runs[0.0])
    assert shifts["0.95"] > 0.05 and shifts["0.55"] == pytest.approx(drift)


@pytest.mark.parametrize("jump_ratio", [0.01, 60.0])
def test_no_jump_ratio_reverses_the_unbiased_drift(jump_ratio):
    """Slow (w_Cl/w_Br = 0.01: -1e-5 µm) or fast (60: -0.030 µm) chloride hops: still towards CsPbCl3."""
    run = rect.simulate(0.0, HOURS, GRID, replace(PARAMS, chloride_jump_ratio=jump_ratio), snapshots=2)
    assert run.migration_length_um < 0


def test_grid_convergence_250_500():
    forward = [rect.simulate(4.0, HOURS, n, PARAMS, snapshots=2).migration_length_um for n in (250, 500)]
    assert forward[1] == pytest.approx(forward[0], rel=0.03)  # 0.2375 / 0.2416 µm


def test_forward_length_is_the_injected_vacancy_budget(runs):
    """Forward bias: the Br-rich positive zone creates k|E0| exp(-dE_f/kT) per site and nothing destroys
    vacancies there, so the front moves by that budget k E0 w theta t plus the (opposing) unbiased drift:
    0.2454 - 0.0070 = 0.2384 vs 0.2375 µm."""
    theta = math.exp(-PARAMS.formation_excess_over_kT(0.99 / (1 - 1e-7)))
    budget = PARAMS.rate_constant_um_per_V_s * 4.0 * PARAMS.contact_width_um * theta * HOURS * 3600.0
    assert runs[4.0].migration_length_um == pytest.approx(budget + runs[0.0].migration_length_um, rel=0.01)


def test_rate_constant_fit_at_2_V_per_um():
    from phasefire.models.rectification_study import fit_rate_constant, paper_forward_length_um

    fit = fit_rate_constant(PARAMS, GRID, HOURS)
    assert fit.target_um == pytest.approx(paper_forward_length_um(2.0, HOURS)) == pytest.approx(0.1224)
    assert fit.migration_length_um == pytest.approx(fit.target_um, rel=2e-3)
    assert fit.rate_constant_um_per_V_s == pytest.approx(1.229e-5, rel=0.01)
    assert fit.evaluations <= 6


def test_sources_none_and_caption_alpha():
    """No sources: the vacancies screen the field and almost nothing moves (paper Fig. S10).  The
    caption-alpha option keeps the earlier law: L = alpha_f E0 w t."""
    none = rect.simulate(4.0, HOURS, GRID, PARAMS, snapshots=2, sources="none").migration_length_um
    assert abs(none) < 0.01
    caption = rect.simulate(4.0, HOURS, GRID, PARAMS, snapshots=2, sources="caption-alpha").migration_length_um
    assert caption == pytest.approx(1.3e-5 * 4.0 * 1.5 * 3600.0, rel=0.03)


def test_poisson_solved_exactly_with_paper_boundary_conditions():
    model = rect.WireModel(PARAMS, 4.0, GRID, None)
    assert model.dirichlet_z_um == pytest.approx((1.52, 8.48))
    y = model.initial_state()
    y[: 2 * model.n : 2] *= 1.0 + 0.5 * np.random.default_rng(1).random(model.n)
    psi = model.potential(y)
    u = y[: 2 * model.n : 2]
    residual = model.poisson_matrix @ psi + model.poisson_boundary + model.dz**2 * model.kappa2 * (u - model.u0)
    assert np.abs(residual).max() < 1e-9 * np.abs(psi).max()
    assert model.poisson_matrix[0, 0] == -1.0 and model.poisson_matrix[-1, -1] == -1.0


def test_bordered_newton_solve_equals_dense_exact_jacobian():
    model = rect.WireModel(PARAMS, 4.0, GRID, None)
    y = model.initial_state()
    y[: 2 * model.n : 2] *= 1.0 + 0.3 * np.random.default_rng(2).random(model.n)
    c = 0.37
    newton = sparse.identity(model.size, format="csc") - c * model.jacobian(0.0, y)
    r = np.random.default_rng(3).standard_normal(model.size)
    bordered = model.newton_solve(model.newton_factor(newton), r)
    dense = np.linalg.solve(np.eye(model.size) - c * model.dense_jacobian(0.0, y), r)
    assert bordered == pytest.approx(dense, rel=1e-6, abs=1e-9 * np.abs(dense).max())


def test_onsager_coefficients_limits():
    l_bb, l_bc, l_cc = rect.onsager_coefficients(np.array([1.0, 0.0]), 0.3, 0.6531)
    assert l_bb[0] == pytest.approx(1.0) and l_cc[1] == pytest.approx(0.3)
    assert l_bc == pytest.approx([0.0, 0.0])
    share = np.linspace(0.05, 0.95, 7)
    l_bb, l_bc, l_cc = rect.onsager_coefficients(share, 1.0, 0.6531)
    assert l_bb + l_bc == pytest.approx(share) and l_cc + l_bc == pytest.approx(1.0 - share)
    # equal frequencies: l_BrCl = (1 - f0) c_Br c_Cl, so the interdiffusivity is f0 D_V x_V
    assert l_bc == pytest.approx((1 - 0.6531) * share * (1 - share))
    l_bb, l_bc, l_cc = rect.onsager_coefficients(share, 0.2, 0.6531)
    assert np.all(l_bb * l_cc - l_bc**2 > 0) and np.all(l_bc > 0)


def test_parameters_from_barrier_use_analysis_transport():
    params = rect.parameters_from_barrier(0.30)
    hop_um = 5.8e-4 / math.sqrt(2.0)
    expected = 8 * 1e13 * math.exp(-0.30 / (rect.BOLTZMANN_eV_per_K * 300.0)) * hop_um**2 / 6.0
    assert params.vacancy_diffusivity_um2_per_s == pytest.approx(expected, rel=1e-12)
    assert params.vacancy_diffusivity_um2_per_s == pytest.approx(PARAMS.vacancy_diffusivity_um2_per_s, rel=0.05)
    slower = rect.parameters_from_barrier(0.40, chloride_barrier_eV=0.45)
    assert slower.chloride_jump_ratio == pytest.approx(math.exp(-0.05 / (rect.BOLTZMANN_eV_per_K * 300.0)))


def test_neb_document_accessors():
    from phasefire.models.rectification_study import neb_barriers, neb_transport

    def doc(species, barrier, converged=True):
        return {
            "task_id": 7,
            "task_type": "neb",
            "converged": converged,
            "input": {"metadata": {"hop": {"species": species}}},
            "output": {
                **({"barrier_forward_eV": barrier} if converged else {}),
                "transport": {"attempt_frequency_Hz": 2e12, "temperature_K": 310.0},
            },
        }

    info = neb_transport(doc("Br", 0.28))
    assert info == {"species": "Br", "barrier_eV": 0.28, "attempt_frequency_Hz": 2e12, "temperature_K": 310.0}
    assert neb_barriers([doc("Br", 0.28), doc("Cl", 0.31)]) == {"Br": 0.28, "Cl": 0.31}
    with pytest.raises(PhasefireError, match="no converged barrier"):
        neb_transport(doc("Br", None, converged=False))


def test_landmarks_flag_agreement_and_disagreement():
    from phasefire.models.rectification_study import landmarks

    summary = {
        "curve": [
            {"bias_V_per_um": b, "migration_length_um": x} for b, x in ((-4.0, -0.01), (0.0, -0.03), (4.0, 0.98))
        ],
        "forward_linear_r2": 0.9999,
        "rectification_ratio": 98.0,
        "ratio_bias_V_per_um": 4.0,
        "zero_bias_migration_length_um": -0.03,
    }
    rows = {row["statement"].split(" ")[0]: row for row in landmarks(summary)}
    assert rows["forward"]["agrees"] and rows["reverse"]["agrees"] and rows["halide"]["agrees"]
    assert not rows["rectification"]["agrees"] and "E_f,Cl" in rows["rectification"]["why"]
    assert not rows["unbiased"]["agrees"] and "Matano" in rows["unbiased"]["why"]


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: rect.simulate(float("nan"), 1.0, GRID), "not finite"),
        (lambda: rect.simulate(float("inf"), 1.0, GRID), "not finite"),
        (lambda: rect.simulate(4.0, float("nan"), GRID), "not finite"),
        (lambda: rect.simulate(4.0, -1.0, GRID), "must be > 0"),
        (lambda: rect.simulate(4.0, 1.0, 100), "use --grid 230 or more"),
        (lambda: rect.RectificationParameters(formation_energy_br_eV=1320.0), "give it in eV"),
        (lambda: rect.RectificationParameters(formation_energy_cl_eV=1.44e-19), "give it in eV"),
        (lambda: rect.simulate(4.0, 1.0, GRID, initial_x_br=np.full(GRID, -0.1)), "negative"),
        (lambda: rect.simulate(4.0, 1.0, GRID, initial_x_br=np.full(10, 0.5)), "one per cell"),
        (lambda: rect.simulate(4.0, 1.0, GRID, sources="both"), "not one of"),
        (lambda: rect.RectificationParameters(vacancy_fraction_br_rich=0.1), "not dilute"),
        (lambda: rect.RectificationParameters(rate_constant_um_per_V_s=-1.0), "negative"),
        (lambda: rect.parameters_from_barrier(-0.3), "barrier"),
    ],
)
def test_bad_input_one_line_error(call, fragment):
    with pytest.raises(PhasefireError, match=fragment) as info:
        call()
    assert "\n" not in str(info.value)


REPORT_KEYS = (
    "migration_length_forward_um",
    "migration_length_reverse_um",
    "rectification_ratio",
    "halide_sites_relative_error",
    "rate_constant_um_per_V_s",
)


def test_cli_json_fits_the_rate_constant(capsys):
    assert main(["model", "rectification", "--json", "--grid", "250", "--hours", "0.25"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in REPORT_KEYS:
        assert isinstance(report[key], float)
    assert report["rate_constant_fitted"] and report["rate_constant_um_per_V_s"] == pytest.approx(1.435e-5, rel=0.01)
    assert report["migration_length_forward_um"] > 0 > report["migration_length_reverse_um"]
    assert report["rectification_ratio"] == pytest.approx(
        report["migration_length_forward_um"] / abs(report["migration_length_reverse_um"])
    )
    assert report["halide_sites_relative_error"] <= 1e-10


def test_cli_zero_bias_is_the_interdiffusion_run(capsys):
    assert main(["model", "rectification", "--json", "--bias", "0", "--grid", "250", "--hours", "1", "--rate-constant", "1.2e-5"]) == 0  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert report["migration_length_forward_um"] == report["migration_length_reverse_um"] < 0
    assert report["rectification_ratio"] is None and not report["rate_constant_fitted"]


def test_cli_sweep_writes_figures_and_compares_with_the_paper(tmp_path, capsys, monkeypatch):
    from phasefire.models import rectification_study as study

    monkeypatch.setattr(study, "FIG1E_BIASES_V_PER_UM", (-4.0, -1.5, 0.0, 1.5, 4.0))
    out = tmp_path / "figs"
    args = ["model", "rectification", "--sweep", "--out", str(out), "--grid", "250", "--hours", "0.1"]
    assert main([*args, "--rate-constant", "1.2e-5"]) == 0
    text = capsys.readouterr().out
    for name in ("fig1e.png", "fig2b.png", "fig2d.png", "fig3a.png", "fig3b.png"):
        assert (out / name).stat().st_size > 10_000 and f"wrote {out / name}" in text
    assert "DISAGREES" in text and "Matano" in text


def test_cli_from_barrier_and_plot(tmp_path, capsys):
    png = tmp_path / "profiles.png"
    args = ["model", "rectification", "--json", "--barrier-eV", "0.25", "--grid", "250", "--hours", "0.25"]
    assert main([*args, "--rate-constant", "1.2e-5", "--plot", str(png)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["vacancy_diffusivity_um2_per_s"] == pytest.approx(141.6, rel=1e-3)
    assert png.stat().st_size > 10_000 and report["plot"] == str(png)


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--hours", "-1"], "must be > 0"),
        (["--bias", "nan"], "not finite"),
        (["--hours", "inf"], "not finite"),
        (["--grid", "100"], "use --grid 230 or more"),
        (["--barrier-eV", "-0.2"], "barrier"),
    ],
)
def test_cli_bad_input_exit_1(capsys, extra, fragment):
    assert main(["model", "rectification", "--grid", "250", "--rate-constant", "1e-5", *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("phasefire: error:") and err.count("\n") == 1 and fragment in err


@pytest.mark.slow
def test_grid_convergence_table_to_2000_cells():
    """Forward/reverse at ±4 V/µm after 4 h on 250/500/1000/2000 cells: successive changes shrink."""
    from phasefire.models.rectification_study import grid_convergence

    rows = grid_convergence(PARAMS)
    changes = [abs(row["forward_change_from_previous_um"]) for row in rows[1:]]
    assert changes[-1] < changes[0] and changes[-1] < 0.005
    assert all(row["halide_sites_relative_error"] <= 1e-10 for row in rows)


@pytest.mark.slow
def test_paper_figures_at_1000_cells():
    """Fig. 1e at 1000 cells, 4 h, the default rate constant (fitted at +2 V/µm): L(+2) = 0.49 µm, forward
    linear above 1.5 V/µm, mobility at +4 V/µm within 5% of the paper's 1.7e-13 cm²/V/s."""
    from phasefire.models.rectification_study import run_biases, sweep_summary

    runs = run_biases((1.5, 2.0, 3.0, 4.0, -4.0, 0.0), PARAMS, 4.0, 1000)
    summary = sweep_summary(runs, 4.0)
    assert runs[2.0].migration_length_um == pytest.approx(0.4896, rel=0.01)
    assert summary["forward_linear_r2"] > 0.9999
    assert rect.halide_mobility_cm2_per_V_s(4.0, runs[4.0].migration_length_um, 4.0) == pytest.approx(1.7e-13, rel=0.05)
    assert runs[-4.0].migration_length_um < 0 and summary["zero_bias_migration_length_um"] < 0


def test_cli_from_task_reads_the_neb_document(store, capsys):
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad

    document = {  # the fields of a NEB task document that the model reads
        "schema_version": 2,
        "task_id": 1,
        "task_type": "neb",
        "label": "cspbbr3-cubic Br-vacancy hop0",
        "converged": True,
        "input": {"metadata": {"hop": {"species": "Br"}}},
        "output": {"barrier_forward_eV": 0.25, "transport": {"attempt_frequency_Hz": 1e13, "temperature_K": 300.0}},
    }
    ResultsDB(open_launchpad()).tasks.insert_one(document)
    task_id = 1
    args = ["model", "rectification", "--json", "--from-task", str(task_id), "--grid", "250", "--hours", "0.25"]
    assert main([*args, "--rate-constant", "1.2e-5"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["transport"]["source"] == f"NEB task {task_id}" and report["transport"]["barrier_eV"] == 0.25
    assert report["vacancy_diffusivity_um2_per_s"] == pytest.approx(141.6, rel=1e-3)
    assert main([*args[:4], "999", *args[5:], "--rate-constant", "1.2e-5"]) == 1
    assert "no task document 999" in capsys.readouterr().err
