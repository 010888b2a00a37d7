"""Sb2Se3 report additions: the X-ray-weighted g(r), the two slopes of the S(q) principal peak, the LDA/HDA
branch fits, the crossover against the crystal MD and the barostat settling check."""

from __future__ import annotations

import numpy as np
import pytest

from phasefire.analysis.rdf import radial_distribution
from phasefire.structures import build
from phasefire.workflows.reports.sb2se3 import (
    branch_crossing,
    branch_volume,
    compare_with_paper,
    comparison_rows,
    linear_crossover,
    q1_slopes,
    two_branch_fit,
    volume_settling,
    xray_weighted_gr,
)


def test_xray_weighted_gr_is_the_number_weighted_one_for_one_species_and_favours_heavy_pairs():
    atoms = build("sb2se3-pnma", (1, 3, 1))
    atoms.rattle(0.05, seed=3)
    rdf = radial_distribution(atoms, r_max=5.5, bins=110)
    selenium = atoms.copy()
    selenium.set_chemical_symbols(["Se"] * len(atoms))
    single = radial_distribution(selenium, r_max=5.5, bins=110)
    np.testing.assert_allclose(xray_weighted_gr(single), single.total, rtol=1e-12)
    xray = xray_weighted_gr(rdf)
    # pair weights Z_a Z_b / <Z>^2 vs 1: Sb-Sb (51*51) counts more, Se-Se (34*34) less than in number weighting
    z_mean = 0.4 * 51 + 0.6 * 34
    expected = (0.16 * 51 * 51 * rdf.partial["Sb-Sb"] + 0.48 * 51 * 34 * rdf.partial["Sb-Se"]
                + 0.36 * 34 * 34 * rdf.partial["Se-Se"]) / z_mean**2  # fmt: skip
    np.testing.assert_allclose(xray, expected, rtol=1e-12)
    assert not np.allclose(xray, rdf.total)


def test_q1_slopes_fit_each_branch():
    stages = [{"target_pressure_GPa": p, "q1_inv_A": 2.0 + (0.02 * p if p <= 16 else 0.32 + 0.005 * (p - 16))}
              for p in (0, 4, 8, 12, 16, 20, 24, 30)]  # fmt: skip
    slopes = q1_slopes(stages, break_GPa=16)
    assert slopes["below_inv_A_per_GPa"] == pytest.approx(0.02)
    assert slopes["above_inv_A_per_GPa"] == pytest.approx(0.005)
    assert slopes["paper"]["below_inv_A_per_GPa"] == 0.021
    assert slopes["below_error_inv_A_per_GPa"] == pytest.approx(0, abs=1e-12)  # exact lines: no scatter


def test_q1_slope_errors_are_the_standard_errors_of_the_fit():
    """Scattered q1 (a flat 0 GPa peak moves by ~0.2 Å⁻¹ between runs): the error is
    sqrt(sum(residual^2) / (n - 2) / sum((P - <P>)^2)), computed here by hand."""
    pressures = np.array([0.0, 4.0, 8.0, 12.0])
    q1 = np.array([2.62, 2.42, 2.45, 2.48])
    slopes = q1_slopes([{"target_pressure_GPa": p, "q1_inv_A": q} for p, q in zip(pressures, q1)], break_GPa=15.7)
    slope = np.sum((pressures - pressures.mean()) * (q1 - q1.mean())) / np.sum((pressures - pressures.mean()) ** 2)
    residual = q1 - (q1.mean() + slope * (pressures - pressures.mean()))
    error = np.sqrt(np.sum(residual**2) / (len(q1) - 2) / np.sum((pressures - pressures.mean()) ** 2))
    assert slopes["below_inv_A_per_GPa"] == pytest.approx(slope) and slope < 0
    assert slopes["below_error_inv_A_per_GPa"] == pytest.approx(error) and error > abs(slope)  # not resolved
    assert slopes["above_inv_A_per_GPa"] is None and slopes["above_error_inv_A_per_GPa"] is None
    two = q1_slopes([{"target_pressure_GPa": p, "q1_inv_A": q} for p, q in zip(pressures[:2], q1[:2])], 15.7)
    assert two["below_inv_A_per_GPa"] == pytest.approx(-0.05) and two["below_error_inv_A_per_GPa"] is None


def test_two_branch_fit_recovers_a_known_break_and_slopes():
    """Piecewise-linear V(P) with a kink at 13.5 GPa (between ladder points): the split with the least
    two-line residual is found and the break is where the lines meet."""
    pressures = np.array([0, 4, 8, 12, 16, 20, 24, 30, 35, 40])
    volumes = np.where(pressures < 13.5, 33.0 - 0.40 * pressures, 33.0 - 0.40 * 13.5 - 0.10 * (pressures - 13.5))
    fit = two_branch_fit(pressures, volumes)
    assert fit["data_decide"] and fit["break_GPa"] == pytest.approx(13.5, abs=1e-9)
    assert fit["low"]["slope_A3_per_GPa"] == pytest.approx(-0.40) and fit["high"]["slope_A3_per_GPa"] == pytest.approx(
        -0.10
    )
    assert fit["low"]["pressure_range_GPa"] == [0, 12] and fit["high"]["pressure_range_GPa"] == [16, 40]
    assert fit["low"]["rms_residual_A3"] < 1e-9
    # noise of 0.02 Å^3 (the scatter of a 100-atom NPT mean) moves the break by less than a ladder step
    noisy = volumes + np.random.default_rng(0).normal(0, 0.02, len(volumes))
    assert abs(two_branch_fit(pressures, noisy)["break_GPa"] - 13.5) < 4
    # the same data through the branch model: V at any pressure is the right line's
    assert branch_volume(fit, 30.0) == pytest.approx(33.0 - 0.40 * 13.5 - 0.10 * 16.5)


def test_two_branch_fit_falls_back_to_the_paper_break_when_the_data_do_not_decide():
    pressures = np.array([0, 4, 8, 12, 16, 20, 24, 30])
    fit = two_branch_fit(pressures, 30.0 - 0.2 * pressures + np.random.default_rng(1).normal(0, 0.05, 8))
    assert not fit["data_decide"] and fit["break_GPa"] == 16.0
    assert fit["low"]["pressure_range_GPa"] == [0, 16] and fit["high"]["pressure_range_GPa"] == [16, 30]
    assert fit["low"]["slope_A3_per_GPa"] == pytest.approx(-0.2, abs=0.03)
    assert two_branch_fit(pressures[:5], pressures[:5]) is None  # fewer than 2 x 3 points


def test_branch_crossing_meets_a_crystal_line_where_algebra_says():
    pressures = [0, 4, 8, 12, 16, 20, 24, 30]
    volumes = [33.0 - 0.5 * p if p < 12 else 27.0 - 0.1 * (p - 12) for p in pressures]
    fit = two_branch_fit(pressures, volumes)
    assert fit["break_GPa"] == pytest.approx(12.0)
    crystal = [{"pressure_GPa": p, "volume_per_atom_A3": 28.0 - 0.06 * p} for p in (0, 10, 20, 30)]
    # HDA line 28.2 - 0.1 P meets 28 - 0.06 P at P = 5 (before the break: LDA is still above) -> at the break
    # LDA line 33 - 0.5 P meets it at 5 / 0.44 = 11.36 GPa
    assert branch_crossing(fit, crystal) == pytest.approx(5 / 0.44, abs=0.05)
    assert branch_crossing(fit, [{"pressure_GPa": p, "volume_per_atom_A3": 20.0} for p in (0, 30)]) is None


def test_volume_settling_compares_the_halves_of_the_sampling_window():
    base = build("sb2se3-pnma")
    frames = []
    for scale in (1.00, 1.00, 1.02, 1.02):  # volume 2 % larger in the second half
        atoms = base.copy()
        atoms.set_cell(base.cell.array * scale ** (1 / 3), scale_atoms=True)
        frames.append(atoms)
    settling = volume_settling(frames)
    assert settling["volume_drift_percent"] == pytest.approx(100 * 0.02 / 1.01)
    assert settling["volume_std_percent"] == pytest.approx(100 * 0.01 / 1.01)
    assert volume_settling(frames[:1])["volume_drift_percent"] is None


def bm_ladder(eos, pressures):
    return [{"target_pressure_GPa": p, "pressure_GPa": p, "pressure_std_GPa": 0.3, "volume_per_atom_A3": eos.volume(p),
             "temperature_K": 300.0, "target_temperature_K": 300.0, "density_g_cm3": 5.0, "n_atoms": 60,
             "supercell": [1, 3, 1], "volume_drift_percent": 0.1, "volume_std_percent": 0.5} for p in pressures]  # fmt: skip


def test_crossover_is_taken_against_the_crystal_md_with_the_0K_one_beside_it():
    """Three Birch–Murnaghan curves with known crossings: the headline is the one against the 300 K crystal."""
    from scipy.optimize import brentq

    from phasefire.analysis.eos import BirchMurnaghanFit

    amorphous = BirchMurnaghanFit(32.5, 14.0, 6.0, 0, 0, 0, 0, (0.0, 60.0))
    cold = BirchMurnaghanFit(27.3, 40.0, 5.0, 0, 0, 0, 0, (0.0, 60.0))
    warm = BirchMurnaghanFit(27.9, 40.0, 5.0, 0, 0, 0, 0, (0.0, 60.0))  # thermal expansion at 300 K
    pressures = [0, 4, 8, 12, 16, 20, 24, 30, 40, 60]

    def truth(crystal):
        return brentq(lambda p: amorphous.volume(p) - crystal.volume(p), 1, 59)

    stages = bm_ladder(amorphous, pressures)
    crystal = [{"pressure_GPa": p, "volume_per_atom_A3": cold.volume(p)} for p in pressures]
    comparison = compare_with_paper_landmarks_only(stages, crystal, bm_ladder(warm, pressures))
    assert truth(warm) < truth(cold) - 10  # the warm crystal is less dense: the compressed glass reaches it sooner
    assert comparison["density_crossover_GPa"]["value"] == pytest.approx(truth(warm), abs=1e-3)
    assert comparison["density_crossover_GPa"]["reference"] == "Pnma NPT MD at 300 K"
    assert comparison["density_crossover_crystal_0K_GPa"]["value"] == pytest.approx(truth(cold), abs=1e-3)
    assert comparison["density_crossover_crystal_0K_GPa"]["reference"] == "Pnma relaxed at 0 K"
    assert set(comparison["eos"]) == {"amorphous", "crystal", "crystal_md"}
    assert comparison["eos"]["crystal_md"]["V0_per_atom_A3"] == pytest.approx(27.9, abs=1e-6)
    # linear interpolation between ladder points (the fallback route) agrees to the ladder's resolution
    assert linear_crossover(stages, bm_ladder(warm, pressures)) == pytest.approx(truth(warm), abs=0.5)
    # without crystal MD (older campaigns) the 0 K crystal is the headline and says so
    old = compare_with_paper_landmarks_only(stages, crystal, None)
    assert old["density_crossover_GPa"]["value"] == pytest.approx(truth(cold), abs=1e-3)
    assert old["density_crossover_GPa"]["reference"] == "Pnma relaxed at 0 K"


def test_a_crossover_not_found_reports_how_near_the_volumes_came():
    """The glass stays 0.5-1.5 % less dense than the crystal (CHGNet's near-tangent curves): no crossover,
    and the report says where the volumes came closest and by how much."""
    from phasefire.analysis.eos import BirchMurnaghanFit

    crystal_eos = BirchMurnaghanFit(27.9, 40.0, 5.0, 0, 0, 0, 0, (0.0, 40.0))
    pressures = [0, 4, 8, 12, 16, 20, 24, 35]
    excess_percent = [12.0, 4.0, 2.0, 1.3, 0.8, 0.6, 0.5, 1.3]
    crystal_md = bm_ladder(crystal_eos, pressures)
    stages = [{**c, "volume_per_atom_A3": c["volume_per_atom_A3"] * (1 + x / 100)}
              for c, x in zip(crystal_md, excess_percent)]  # fmt: skip
    comparison = compare_with_paper_landmarks_only(stages, crystal_md, crystal_md)
    headline = comparison["density_crossover_GPa"]
    assert headline["value"] is None and linear_crossover(stages, crystal_md) is None
    assert headline["closest_approach"]["pressure_GPa"] == 24
    assert headline["closest_approach"]["volume_difference_percent"] == pytest.approx(0.5, rel=1e-9)
    (row,) = [r for r in comparison_rows(comparison) if r[0].startswith("density crossover a-Sb2Se3")]
    assert row[2] == "not found (closest: V_am +0.50 % at 24 GPa)"


def compare_with_paper_landmarks_only(stages, crystal, crystal_md):
    """compare_with_paper on a ladder that only has volumes: the structural landmarks get neutral inputs."""
    for stage in stages:
        stage.update(weight_near_60=0.02, ring_fraction={"4": 1.0}, r1_A=2.8, r1_error_A=0.01)
    return compare_with_paper(stages, crystal, crystal_md)
