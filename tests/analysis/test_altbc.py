"""ALTBC and the Peierls-like distortion measure: undistorted and distorted lattices,
a brute-force loop, bad input."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from benchmarks._standins import rsa_frame
from phasefire.analysis.altbc import altbc
from phasefire.workflows.errors import PhasefireError


def test_simple_cubic_is_undistorted():
    result = altbc(bulk("Sb", "sc", a=3.0) * (6, 6, 6), cutoff=3.3)
    assert result.pld == pytest.approx(0.0, abs=1e-12)  # equal bonds (to rounding of wrapped positions)
    assert result.pairs_per_atom == pytest.approx(3.0)  # three collinear pairs per atom
    peak = np.unravel_index(np.argmax(result.histogram), result.histogram.shape)
    assert result.r[peak[0]] == pytest.approx(3.0, abs=0.02) and peak[0] == peak[1]
    width = result.r[1] - result.r[0]
    assert result.histogram.sum() * width**2 == pytest.approx(2 * 3.0)


def test_dimerised_chains_give_the_expected_distortion():
    # sc lattice with every other x-plane shifted by 0.2 Å: x-bonds alternate 2.8 / 3.2 Å
    positions = [
        [ix * 3.0 + 0.2 * (ix % 2), iy * 3.0, iz * 3.0] for ix in range(8) for iy in range(6) for iz in range(6)
    ]
    atoms = Atoms("Sb" * len(positions), positions=positions, cell=[24, 18, 18], pbc=True)
    result = altbc(atoms, cutoff=3.3)
    assert result.pld == pytest.approx((0.4 / 6.0) / 3)
    assert result.histogram[np.argmin(abs(result.r - 2.81)), np.argmin(abs(result.r - 3.19))] > 0
    assert result.histogram == pytest.approx(result.histogram.T)


def test_matches_brute_force_loop():
    atoms = rsa_frame(200, seed=7)
    result = altbc(atoms, cutoff=3.8, angle_min=150.0)
    vectors = atoms.get_all_distances(mic=True, vector=True)
    lengths = np.linalg.norm(vectors, axis=-1)
    asymmetry = []
    for centre in range(len(atoms)):
        bonded = [k for k in range(len(atoms)) if k != centre and lengths[centre, k] < 3.8]
        for a, b in combinations(bonded, 2):
            cosine = vectors[centre, a] @ vectors[centre, b] / (lengths[centre, a] * lengths[centre, b])
            if np.degrees(np.arccos(np.clip(cosine, -1, 1))) > 150.0:
                r1, r2 = lengths[centre, a], lengths[centre, b]
                asymmetry.append(abs(r1 - r2) / (r1 + r2))
    assert result.pairs_per_atom == pytest.approx(len(asymmetry) / len(atoms))
    assert result.pld == pytest.approx(np.mean(asymmetry))


def test_bad_input():
    with pytest.raises(PhasefireError, match="no bond pairs with angle above"):
        altbc(bulk("Si", "diamond", a=5.43, cubic=True) * (3, 3, 3), cutoff=2.6)
    with pytest.raises(PhasefireError, match="angle_min"):
        altbc(rsa_frame(300), angle_min=45.0)
