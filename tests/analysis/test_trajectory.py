"""One streaming pass: equals the per-frame analyses averaged by hand, reads a generator once."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks._standins import rsa_frame
from phasefire.analysis.angles import bond_angle_distribution
from phasefire.analysis.bonds import BondCutoff, parse_bond_cutoff
from phasefire.analysis.coordination import coordination_numbers
from phasefire.analysis.rdf import radial_distribution
from phasefire.analysis.trajectory import PassSettings, analyze_trajectory
from phasefire.workflows.errors import PhasefireError


def _frames():
    frames = []
    for seed in range(3):
        frame = rsa_frame(400, seed=0)
        frame.rattle(0.1, seed=seed)
        frames.append(frame)
    return frames


def test_stream_equals_per_frame_means():
    frames = _frames()
    consumed = []

    def stream():
        for frame in frames:
            consumed.append(1)
            yield frame

    settings = PassSettings(r_max_A=6.0, rdf_bins=120, ring_max_size=6, atoms_per_batch=800)  # 2 frames a batch
    results = analyze_trajectory(stream(), settings=settings)
    assert len(consumed) == 3  # every frame read once
    singles = [radial_distribution(f, r_max=6.0, bins=120) for f in frames]
    np.testing.assert_allclose(results["rdf"].total, np.mean([s.total for s in singles], axis=0), rtol=1e-12)
    cns = [coordination_numbers(f, 3.2).cn for f in frames]
    for key, value in results["cn"].cn.items():
        assert value == pytest.approx(np.mean([c[key] for c in cns]))
    counts = sum(bond_angle_distribution(f, 3.2).counts for f in frames)
    np.testing.assert_array_equal(results["adf"].counts, counts)
    assert results["rings"].n_frames == 3 and results["altbc"].n_frames == 3


def test_auto_cutoff_needs_two_passes():
    frames = _frames()
    settings = PassSettings(cutoff=BondCutoff.of("auto"))
    with pytest.raises(PhasefireError, match="one-shot iterator"):
        analyze_trajectory(iter(frames), ("cn",), settings)
    result = analyze_trajectory(frames, ("cn",), settings)["cn"]
    assert result.source == "g(r) first minimum"
    assert result.cn == coordination_numbers(frames, "auto").cn


def test_cutoff_specification():
    assert BondCutoff.of(None).by_pair(("Sb", "Se")) == {"Sb-Sb": 3.2, "Sb-Se": 3.2, "Se-Se": 3.2}
    assert parse_bond_cutoff("Se-Sb=3.1").by_pair(("Sb", "Se")) == {"Sb-Sb": 0.0, "Sb-Se": 3.1, "Se-Se": 0.0}
    assert parse_bond_cutoff(" AUTO ").auto
    for bad, message in [("x", "neither a distance"), ("-1", "positive"), ("Sb=3", "not a species pair")]:
        with pytest.raises(PhasefireError, match=message):
            parse_bond_cutoff(bad)
    with pytest.raises(PhasefireError, match="unknown analysis"):
        analyze_trajectory(_frames(), ("elf",))
    with pytest.raises(PhasefireError, match="frame 1 has 399 atoms"):
        analyze_trajectory([rsa_frame(400), rsa_frame(399)], ("cn",))
