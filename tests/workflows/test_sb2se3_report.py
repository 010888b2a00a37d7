"""Sb2Se3 report additions: the X-ray-weighted g(r) and the two slopes of the S(q) principal peak."""

from __future__ import annotations

import numpy as np
import pytest

from phasefire.analysis.rdf import radial_distribution
from phasefire.structures import build
from phasefire.workflows.reports.sb2se3 import q1_slopes, xray_weighted_gr


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
