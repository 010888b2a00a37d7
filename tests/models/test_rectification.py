"""Perovskite rectification model (phasefire.models.rectification, ``phasefire model rectification``).

Default runs use 100-400 cells (about a second each); the 1,000-cell figures are marked slow.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import sparse

from phasefire.models import rectification as rect
from phasefire.workflows.cli import main

HOURS = 4.0
GRID = 400


@pytest.fixture(scope="module")
def runs_at_4():
    """Forward and reverse 4 h runs at ±4 V/µm with the paper's boundary conditions and the default
    one-sided (electrochemical) sources."""
    return rect.simulate(4.0, HOURS, GRID), rect.simulate(-4.0, HOURS, GRID)


@pytest.fixture(scope="module")
def forward_sweep(runs_at_4):
    biases = np.array([1.5, 2.0, 3.0, 4.0])
    lengths = [rect.simulate(b, HOURS, GRID, snapshots=2).migration_length_um for b in biases[:-1]]
    return biases, np.array(lengths + [runs_at_4[0].migration_length_um])


def test_halide_budget_conserved_to_1e_8(runs_at_4):
    for run in runs_at_4:
        assert run.halide_sites_relative_error <= 1e-8
        # site fractions stay physical: x_Cl = 1 - x_Br - x_V >= 0, x_V >= 0 within tolerance
        assert np.all(1.0 - run.x_br - run.x_v > -1e-9)
        assert run.x_v.min() > -1e-12


def test_poisson_solved_exactly_with_paper_boundary_conditions():
    """psi solves the discrete Poisson equation to round-off, with phi on the contact-line faces."""
    params = rect.RectificationParameters()
    model = rect.WireModel(params, 4.0, 200, None)
    assert model.dirichlet_z_um == pytest.approx((1.5, 8.5))
    y = model.initial_state()
    y[: 2 * model.n : 2] *= 1.0 + 0.5 * np.random.default_rng(1).random(model.n)
    psi = model.potential(y)
    residual = (
        model.poisson_matrix @ psi
        + model.poisson_boundary
        + model.dz**2 * model.kappa2 * (y[: 2 * model.n : 2] - model.u0)
    )
    assert np.abs(residual).max() < 1e-9 * np.abs(psi).max()
    # contact-line potentials are +-E0 (gap)/2 = +-14 V; zero field at the wire ends (ghost-free rows)
    assert np.array(model.psi_contacts) * params.thermal_voltage_V == pytest.approx((14.0, -14.0))
    assert model.poisson_matrix[0, 0] == -1.0 and model.poisson_matrix[-1, -1] == -1.0


def test_bordered_newton_solve_equals_dense_exact_jacobian():
    """BorderedBDF's sparse bordered LU solves (I - c J) d = r with the dense J = F_y + F_psi dpsi/dy."""
    model = rect.WireModel(rect.RectificationParameters(), 4.0, 100, None)
    y = model.initial_state()
    y[: 2 * model.n : 2] *= 1.0 + 0.3 * np.random.default_rng(2).random(model.n)
    c = 0.37
    newton = sparse.identity(model.size, format="csc") - c * model.jacobian(0.0, y)
    r = np.random.default_rng(3).standard_normal(model.size)
    bordered = model.newton_solve(model.newton_factor(newton), r)
    dense = np.linalg.solve(np.eye(model.size) - c * model.dense_jacobian(0.0, y), r)
    assert bordered == pytest.approx(dense, rel=1e-6, abs=1e-9 * np.abs(dense).max())


def test_injecting_zone_charges_up_and_injects_at_full_rate(runs_at_4):
    """Default one-sided sources with the paper's BCs: the positive (injecting) zone only creates
    vacancies, they charge it until their own field pushes them through the contact line at the full
    creation rate r_c w, and the front moves at that vacancy flux: L = alpha E0 w t."""
    forward, _ = runs_at_4
    params = rect.RectificationParameters()
    zone = forward.z_um < params.contact_width_um
    x_eq = params.vacancy_fraction_br_rich
    assert np.mean(forward.x_v[-1][zone] / x_eq) > 1.1  # charged above equilibrium (1.35 measured)
    field_in_zone = -np.diff(forward.potential_V[-1][zone]) / np.diff(forward.z_um[zone])
    assert np.all(field_in_zone > 0) and field_in_zone.max() < 1.0  # V/µm, towards the contact line
    gap = (forward.z_um > params.contact_width_um) & (forward.z_um < params.wire_length_um - params.contact_width_um)
    assert forward.x_v[-1][gap].min() > 0.1 * x_eq  # the depleted gap is fed (0.17 x_eq measured)
    estimate = params.source_coefficient_forward_um_per_V_s * 4.0 * params.contact_width_um * HOURS * 3600.0
    # 0.992 / 0.999 / 1.000 of the estimate on 400 / 1,000 / 2,000 cells
    assert 0.97 < forward.migration_length_um / estimate < 1.01


def test_forward_front_moves_towards_bromide_linearly_in_time(runs_at_4):
    forward, _ = runs_at_4
    displacement = forward.front_um[0] - forward.front_um
    assert 1.08 < forward.migration_length_um < 1.15  # µm after 4 h at 4 V/µm (1.114-1.123 on 400-2,000 cells)
    assert rect.linear_fit_r2(forward.times_s, displacement) > 0.999  # "shifted proportionally with time"


def test_forward_migration_length_linear_in_bias(forward_sweep):
    """Injection at the full creation rate alpha E0 w: L proportional to E0 (paper Fig. 1e: linear)."""
    biases, lengths = forward_sweep
    assert np.all(np.diff(lengths) > 0)
    assert rect.linear_fit_r2(biases, lengths) > 0.9999
    assert rect.linear_fit_r2(biases, lengths) > rect.linear_fit_r2(np.sqrt(biases), lengths)
    assert lengths[-1] / lengths[0] == pytest.approx(4.0 / 1.5, rel=0.03)


def test_reverse_migration_near_zero(runs_at_4):
    forward, reverse = runs_at_4
    weak_reverse = rect.simulate(-1.5, HOURS, GRID, snapshots=2)
    for run in (reverse, weak_reverse):
        assert -0.05 * forward.migration_length_um < run.migration_length_um < 0.0  # towards CsPbCl3


def test_rectification_ratio_band(runs_at_4):
    """Paper: ~20 (experiment).  The model's ratio is set by the caption's alpha_f/alpha_r = 34.2: 37.5 /
    35.8 / 34.8 on 400 / 1,000 / 2,000 cells, so the band [32, 40] holds that grid spread."""
    forward, reverse = runs_at_4
    ratio = rect.rectification_ratio(forward.migration_length_um, reverse.migration_length_um)
    assert 32.0 <= ratio <= 40.0


def test_halide_mobility_near_paper(forward_sweep):
    biases, lengths = forward_sweep
    # the single-bias definition mu = L / (E t) in cm²/V/s
    mobility = rect.halide_mobility_cm2_per_V_s(4.0, lengths[-1], HOURS)
    assert mobility == pytest.approx(lengths[-1] / (4.0 * HOURS * 3600.0) * 1e-8)
    params = rect.RectificationParameters()
    alpha_w = params.source_coefficient_forward_um_per_V_s * params.contact_width_um * 1e-8  # 1.95e-13
    assert mobility == pytest.approx(alpha_w, rel=0.03)  # 1.93e-13 (400) ... 1.95e-13 (2,000)
    assert mobility == pytest.approx(1.7e-13, rel=0.2)  # paper
    assert rect.halide_mobility_cm2_per_V_s(biases, lengths, HOURS) == pytest.approx(alpha_w, rel=0.03)


@pytest.fixture(scope="module")
def equilibrating_runs():
    """The earlier source law (both zones relax to x_V^eq) with the paper's BCs."""
    return {b: rect.simulate(b, HOURS, GRID, snapshots=2, sources="equilibrating") for b in (1.5, 2.5, 4.0, -4.0)}


def test_equilibrating_sources_field_free_zones_sqrt_law(equilibrating_runs):
    """sources="equilibrating": the fast destruction pins the field-free zones at x_V^eq and vacancies
    are made only in a ~0.2 µm reaction-diffusion layer at the contact line: injection
    ~ sqrt(D_V r_c x_eq), so L ~ sqrt(E0) and 0.118 µm at 4 V/µm (1/10 of the default law)."""
    forward = equilibrating_runs[4.0]
    params = rect.RectificationParameters()
    zone = forward.z_um < params.contact_width_um
    field_in_zone = -np.diff(forward.potential_V[-1][zone]) / np.diff(forward.z_um[zone])
    assert np.abs(field_in_zone).max() < 0.5
    assert np.mean(forward.x_v[-1][zone] / params.vacancy_fraction_br_rich) > 0.8
    assert 0.10 < forward.migration_length_um < 0.14  # 0.117-0.118 on 400-1,000 cells
    assert forward.halide_sites_relative_error <= 1e-8
    biases = np.array([1.5, 2.5, 4.0])
    lengths = np.array([equilibrating_runs[b].migration_length_um for b in biases])
    assert rect.linear_fit_r2(np.sqrt(biases), lengths) > rect.linear_fit_r2(biases, lengths)
    ratio = rect.rectification_ratio(forward.migration_length_um, equilibrating_runs[-4.0].migration_length_um)
    assert 40.0 <= ratio <= 80.0  # 67 / 60 / 46 on 400 / 1,000 / 2,000 cells


def test_wire_end_voltages_variant(runs_at_4):
    """boundary="wire-ends": with the default one-sided sources the result does not depend on where the
    voltages are imposed; with equilibrating sources the applied field depletes the zones, which then
    create vacancies at their full rate (the earlier 1.03 µm / ratio ~39 behaviour)."""
    forward = rect.simulate(4.0, HOURS, GRID, snapshots=2, boundary="wire-ends")
    assert forward.halide_sites_relative_error <= 1e-8
    assert forward.migration_length_um == pytest.approx(runs_at_4[0].migration_length_um, rel=0.01)
    forward = rect.simulate(4.0, HOURS, GRID, snapshots=2, boundary="wire-ends", sources="equilibrating")
    reverse = rect.simulate(-4.0, HOURS, GRID, snapshots=2, boundary="wire-ends", sources="equilibrating")
    assert 0.9 < forward.migration_length_um < 1.15
    assert 25.0 <= rect.rectification_ratio(forward.migration_length_um, reverse.migration_length_um) <= 60.0
    params = rect.RectificationParameters()
    injection_limit = params.source_coefficient_forward_um_per_V_s * params.contact_width_um * 1e-8
    mobility = rect.halide_mobility_cm2_per_V_s(4.0, forward.migration_length_um, HOURS)
    assert 0.75 * injection_limit < mobility <= injection_limit


def test_alpha_is_a_per_site_rate():
    """r_c = alpha |E0| per halide site: at 1 V/µm 47 (forward) and 1.4 (reverse) vacancies per 10³
    sites per hour, the caption's "roughly ... 60 and 1.6 per 10³ unit cells per hour"."""
    params = rect.RectificationParameters()
    forward = rect.WireModel(params, 1.0, 200, None).creation_rate_per_s * 3600.0 * 1e3
    reverse = rect.WireModel(params, -1.0, 200, None).creation_rate_per_s * 3600.0 * 1e3
    assert forward == pytest.approx(60.0, rel=0.25) and reverse == pytest.approx(1.6, rel=0.25)
    model = rect.WireModel(params, -1.0, 200, None)  # reverse: the CsPbCl3 zone injects
    assert model.creation_on[model.contact_cells :].all() and not model.creation_on[: model.contact_cells].any()
    assert np.array_equal(model.destruction_on, 1.0 - model.creation_on)


def test_onsager_coefficients_limits():
    l_bb, l_bc, l_cc = rect.onsager_coefficients(np.array([1.0, 0.0]), 0.3, 0.6531)
    # pure lattices: kT L = x_V D_V w_a/w_Br, no cross term
    assert l_bb[0] == pytest.approx(1.0) and l_cc[1] == pytest.approx(0.3)
    assert l_bc == pytest.approx([0.0, 0.0])
    # equal exchange frequencies: each species' drift coefficient sums to its share
    share = np.linspace(0.05, 0.95, 7)
    l_bb, l_bc, l_cc = rect.onsager_coefficients(share, 1.0, 0.6531)
    assert l_bb + l_bc == pytest.approx(share)
    assert l_cc + l_bc == pytest.approx(1.0 - share)
    # positive-definite Onsager matrix
    l_bb, l_bc, l_cc = rect.onsager_coefficients(share, 0.2, 0.6531)
    assert np.all(l_bb * l_cc - l_bc**2 > 0) and np.all(l_bc > 0)


def test_parameters_from_barrier():
    params = rect.parameters_from_barrier(0.30)
    hop_um = 5.8e-4 / math.sqrt(2.0)
    expected = 8 * 1e13 * math.exp(-0.30 / (rect.BOLTZMANN_eV_per_K * 300.0)) * hop_um**2 / 6.0
    assert params.vacancy_diffusivity_um2_per_s == pytest.approx(expected)
    assert params.vacancy_diffusivity_um2_per_s == pytest.approx(20.0, rel=0.05)  # the default D_V
    slower = rect.parameters_from_barrier(0.40, chloride_barrier_eV=0.45)
    assert slower.vacancy_diffusivity_um2_per_s < params.vacancy_diffusivity_um2_per_s / 40
    assert slower.chloride_jump_ratio == pytest.approx(math.exp(-0.05 / (rect.BOLTZMANN_eV_per_K * 300.0)))
    run = rect.simulate(4.0, 0.5, 200, slower, snapshots=2)
    assert run.halide_sites_relative_error <= 1e-8


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: rect.simulate(4.0, 1.0, 200, initial_x_br=np.full(200, -0.1)), "negative"),
        (lambda: rect.simulate(4.0, 1.0, 200, initial_x_br=np.full(200, np.nan)), "non-finite"),
        (lambda: rect.simulate(4.0, 1.0, 200, initial_x_br=np.full(10, 0.5)), "one per cell"),
        (lambda: rect.simulate(float("nan"), 1.0, 200), "not finite"),
        (lambda: rect.simulate(4.0, -1.0, 200), "must be > 0"),
        (lambda: rect.simulate(4.0, 1.0, 40), "Debye length"),
        (lambda: rect.simulate(4.0, 1.0, 200, boundary="ends"), "not one of"),
        (lambda: rect.simulate(4.0, 1.0, 200, sources="both"), "not one of"),
        (lambda: rect.RectificationParameters(vacancy_diffusivity_um2_per_s=-1.0), "must be > 0"),
        (lambda: rect.RectificationParameters(vacancy_fraction_br_rich=0.1), "not dilute"),
        (lambda: rect.RectificationParameters(x_br_chloride_segment=0.7), "must lie between"),
        (lambda: rect.RectificationParameters(source_coefficient_forward_um_per_V_s=float("inf")), "not finite"),
        (lambda: rect.RectificationParameters(contact_width_um=6.0), "overlap"),
        (lambda: rect.parameters_from_barrier(-0.3), "positive finite"),
    ],
)
def test_bad_input_one_line_error(call, fragment):
    with pytest.raises(ValueError, match=fragment) as info:
        call()
    assert "\n" not in str(info.value)


def test_cli_json(capsys):
    assert main(["model", "rectification", "--json", "--grid", "200", "--hours", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in (
        "migration_length_forward_um",
        "migration_length_reverse_um",
        "rectification_ratio",
        "halide_sites_relative_error",
    ):
        assert isinstance(report[key], float)
    assert report["migration_length_forward_um"] > 10 * abs(report["migration_length_reverse_um"])
    assert report["halide_sites_relative_error"] <= 1e-8
    assert report["sources"] == "electrochemical"


def test_cli_equilibrating_sources(capsys):
    assert (
        main(["model", "rectification", "--json", "--grid", "200", "--hours", "1", "--sources", "equilibrating"]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["sources"] == "equilibrating"
    assert 0.0 < report["migration_length_forward_um"] < 0.1  # vs ~0.28 µm with the default sources


def test_cli_sweep_from_barrier(capsys):
    args = ["model", "rectification", "--json", "--sweep", "--barrier-eV", "0.30", "--grid", "200", "--hours", "0.5"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["vacancy_diffusivity_um2_per_s"] == pytest.approx(20.0, rel=0.05)
    biases = [point["bias_V_per_um"] for point in report["sweep"]]
    assert biases == [-4.0, -3.5, -3.0, -2.5, -2.0, -1.5, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
    assert report["sweep_forward_linear_r2"] > 0.99


def test_cli_table_and_plot(tmp_path, capsys):
    png = tmp_path / "rect.png"
    assert main(["model", "rectification", "--grid", "200", "--hours", "0.5", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "rectification ratio" in out and "migration length forward" in out
    assert png.stat().st_size > 10_000


def test_cli_bad_input_exit_1(capsys):
    assert main(["model", "rectification", "--hours", "-1", "--grid", "200"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("phasefire: error:") and err.count("\n") == 1


@pytest.mark.slow
def test_paper_figures_at_1000_cells():
    """Figs. 1e/3a/b at the production grid with the paper's BCs and the default one-sided sources:
    forward 1.122 µm, reverse -0.031 µm, ratio 36, L linear in E0, mobility 1.95e-13 cm²/V/s; each run < 10 s."""
    forward, reverse = rect.simulate(4.0, HOURS, 1000), rect.simulate(-4.0, HOURS, 1000)
    assert forward.migration_length_um == pytest.approx(1.122, abs=0.01)
    assert rect.rectification_ratio(forward.migration_length_um, reverse.migration_length_um) == pytest.approx(
        35.8, rel=0.1
    )
    assert forward.wall_time_s < 10.0 and reverse.wall_time_s < 10.0
    sweep = [rect.simulate(b, HOURS, 1000, snapshots=2).migration_length_um for b in (1.5, 2.5, 3.5)]
    biases = np.array([1.5, 2.5, 3.5, 4.0])
    lengths = sweep + [forward.migration_length_um]
    assert rect.linear_fit_r2(biases, lengths) > 0.99999
    assert rect.halide_mobility_cm2_per_V_s(4.0, lengths[-1], HOURS) == pytest.approx(1.95e-13, rel=0.02)
