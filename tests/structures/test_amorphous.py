"""Random dense starts for melt–quench: density, minimum distance, seeded reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from ase.geometry import get_distances

from phasefire.structures.amorphous import (
    AMORPHOUS_SB2SE3_DENSITY_G_CM3,
    PNMA_SB2SE3_DENSITY_G_CM3,
    amorphous_sb2se3_start,
    random_packing,
)


def density_g_cm3(atoms):
    return atoms.get_masses().sum() * 1.66053906660e-24 / (atoms.get_volume() * 1e-24)


def test_amorphous_density_is_16_percent_below_pnma():
    assert PNMA_SB2SE3_DENSITY_G_CM3 == pytest.approx(5.828, abs=1e-3)
    assert AMORPHOUS_SB2SE3_DENSITY_G_CM3 / PNMA_SB2SE3_DENSITY_G_CM3 == pytest.approx(0.84)


def test_start_has_composition_density_and_minimum_distance():
    atoms = amorphous_sb2se3_start(20, np.random.default_rng(3), min_distance_A=2.4)
    assert atoms.get_chemical_formula() == "Sb40Se60"
    assert density_g_cm3(atoms) == pytest.approx(AMORPHOUS_SB2SE3_DENSITY_G_CM3, rel=1e-9)
    _, distances = get_distances(atoms.positions, cell=atoms.cell, pbc=True)
    assert distances[np.triu_indices(len(atoms), 1)].min() >= 2.4


def test_start_is_reproducible_for_a_seed():
    first, again, other = (amorphous_sb2se3_start(10, np.random.default_rng(seed)) for seed in (7, 7, 8))
    assert np.array_equal(first.positions, again.positions)
    assert not np.allclose(first.positions, other.positions)


def test_too_dense_packing_is_refused():
    with pytest.raises(ValueError, match="lower min_distance_A"):
        random_packing({"Se": 50}, 6.0, 4.0, np.random.default_rng(0), max_attempts_per_atom=200)
