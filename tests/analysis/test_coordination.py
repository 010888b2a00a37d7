"""Partial coordination numbers: lattices, brute force, default cutoffs, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from benchmarks._standins import rsa_frame
from phasefire.analysis.coordination import coordination_numbers
from phasefire.workflows.errors import PhasefireError


@pytest.mark.parametrize(
    "name, structure, a, expected",
    [("Cu", "fcc", 3.6, 12.0), ("Fe", "bcc", 2.87, 8.0), ("Si", "diamond", 5.43, 4.0)],
)
def test_lattices_with_auto_cutoffs(name, structure, a, expected):
    result = coordination_numbers(bulk(name, structure, a=a, cubic=True) * (5, 5, 5), cutoff="auto")
    assert result.cn == {f"{name}-{name}": expected}
    assert result.source == "g(r) first minimum"


def test_rocksalt_per_pair_cutoffs():
    crystal = bulk("NaCl", "rocksalt", a=5.64, cubic=True) * (4, 4, 4)
    result = coordination_numbers(crystal, {"Na-Cl": 3.2, "Na-Na": 4.2, "Cl-Cl": 4.2})
    assert result.cn == {"Na-Na": 12.0, "Na-Cl": 6.0, "Cl-Na": 6.0, "Cl-Cl": 12.0}
    assert result.by_species == {"Na": 18.0, "Cl": 18.0}
    assert coordination_numbers(crystal, 3.2).cn["Na-Na"] == 0.0


def test_matches_brute_force_minimum_image_count():
    atoms = rsa_frame(500, seed=4)
    cutoffs = {"Sb-Sb": 3.0, "Sb-Se": 3.3, "Se-Se": 2.9}
    result = coordination_numbers(atoms, cutoffs)
    distances = atoms.get_all_distances(mic=True)
    symbols = np.array(atoms.get_chemical_symbols())
    for a in ("Sb", "Se"):
        for b in ("Sb", "Se"):
            cut = cutoffs.get(f"{a}-{b}", cutoffs.get(f"{b}-{a}"))
            block = distances[np.ix_(symbols == a, symbols == b)]
            count = np.sum((block > 0) & (block < cut))
            assert result.cn[f"{a}-{b}"] == pytest.approx(count / np.sum(symbols == a))
    c = {s: np.mean(symbols == s) for s in ("Sb", "Se")}
    assert c["Sb"] * result.cn["Sb-Se"] == pytest.approx(c["Se"] * result.cn["Se-Sb"])


def test_bad_input():
    atoms = rsa_frame(300, seed=0)
    with pytest.raises(PhasefireError, match="empty neighbour shells"):
        coordination_numbers(atoms, 2.0)
    with pytest.raises(PhasefireError, match="names Te, not in this structure"):
        coordination_numbers(atoms, {"Sb-Te": 3.0, "Sb-Se": 3.0})
    # a pair left out of a per-pair cutoff is not bonded
    partial = coordination_numbers(atoms, {"Sb-Sb": 3.2, "Sb-Se": 3.2})
    full = coordination_numbers(atoms, 3.2)
    assert partial.cn["Se-Se"] == 0.0 and partial.cn["Sb-Se"] == full.cn["Sb-Se"] > 0
    assert partial.cutoffs["Se-Se"] == 0.0
    with pytest.raises(PhasefireError, match="half the shortest cell height"):
        coordination_numbers(atoms, 30.0)
