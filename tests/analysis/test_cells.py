"""Cell-list kernels against a brute-force all-pairs, all-images reference on skewed,
triclinic and small cells (few bins per direction, stencils that wrap), single frames
split into blocks and batches of frames with different cells."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

from phasefire.analysis import cells

# (cell rows in Å, atoms): triclinic and skewed cells down to 2 bins per direction
CELLS = [
    ([[7.0, 0, 0], [3.1, 6.8, 0], [-2.0, 1.5, 7.2]], 40),
    ([[13.0, 0, 0], [6.0, 12.5, 0], [4.0, -3.0, 11.0]], 60),
    ([[6.5, 0, 0], [0, 6.5, 0], [0, 0, 30.0]], 45),
    ([[26.0, 0, 0], [12.0, 22.0, 0], [5.0, 7.0, 24.0]], 600),  # two blocks of bins
]
CUTOFFS = np.array([[3.2, 3.0], [3.0, 0.0]])  # species 1 never bonds to species 1


def _frame(cell, n_atoms, seed):
    """Random positions (Å) up to two cells outside the cell, random species codes 0/1."""
    rng = np.random.default_rng(seed)
    cell = np.asarray(cell, dtype=float)
    fractional = rng.random((n_atoms, 3)) + rng.integers(-2, 3, (n_atoms, 3))
    return fractional @ cell, cell, rng.integers(0, 2, n_atoms)


def _scale(cell, length):
    """length (Å) shrunk so that it stays below half the shortest cell height."""
    return min(length, 0.49 * cells.heights(cell[None])[0].min())


def _all_images(positions, cell, limit):
    """Every pair (i, j) closer than limit (Å), i ≠ j or a nonzero shift, searched over 27 images
    around the nearest: i, j, the integer shift S (n, 3) and |r_j + S @ cell - r_i| (Å)."""
    fractional = positions @ np.linalg.inv(cell)
    i, j = np.meshgrid(np.arange(len(positions)), np.arange(len(positions)), indexing="ij")
    i, j = i.ravel(), j.ravel()
    nearest = -np.floor(fractional[j] - fractional[i] + 0.5)
    vector = positions[j] + nearest @ cell - positions[i]
    found = []
    for image in np.array(np.meshgrid(*[[-1, 0, 1]] * 3, indexing="ij")).reshape(3, -1).T:
        image_vector = vector + image @ cell
        distance = np.sqrt(np.einsum("nc,nc->n", image_vector, image_vector))
        keep = distance < limit
        found.append((i[keep], j[keep], (nearest[keep] + image).astype(int), distance[keep]))
    i, j, shift, distance = (np.concatenate(column) for column in zip(*found))
    keep = (i != j) | np.any(shift != 0, axis=1)
    return i[keep], j[keep], shift[keep], distance[keep]


def _bonds(positions, cell, codes, cutoffs):
    i, j, shift, distance = _all_images(positions, cell, cutoffs.max())
    bonded = distance < cutoffs[codes[i], codes[j]]
    return i[bonded], j[bonded], shift[bonded]


@pytest.mark.parametrize("case", range(len(CELLS)))
def test_bond_list_and_graph_match_brute_force(case):
    positions, cell, codes = _frame(*CELLS[case], seed=case)
    cutoffs = CUTOFFS * _scale(cell, 3.2) / 3.2
    batch = cells.prepare(positions[None], cell[None])
    i, j, shift = cells.bond_list(batch, codes, cutoffs)
    assert (i.dtype, j.dtype, shift.dtype) == (np.int64, np.int64, np.int32)
    bond_i, bond_j, bond_shift = _bonds(positions, cell, codes, cutoffs)
    expected = sorted(zip(bond_i, bond_j, map(tuple, bond_shift)))
    assert len(expected) > len(positions)
    assert sorted(zip(i, j, map(tuple, shift))) == expected
    # grouped by centre: each centre's bonds are one run
    runs = i[np.flatnonzero(np.diff(i, prepend=-1))]
    assert len(runs) == len(np.unique(i))
    # bond_graph: the same bonds in the same order, in cell-list numbering
    indptr, neighbor, graph_shift, order = cells.bond_graph(batch, codes, cutoffs)
    np.testing.assert_array_equal(order[np.repeat(np.arange(len(order)), np.diff(indptr))], i)
    np.testing.assert_array_equal(order[neighbor], j)
    np.testing.assert_array_equal(graph_shift, shift)


@pytest.mark.parametrize("case", range(len(CELLS)))
def test_pair_histogram_matches_brute_force(case):
    positions, cell, codes = _frame(*CELLS[case], seed=10 + case)
    r_max, bins = _scale(cell, 10.0), 37
    pair_index = np.array([[0, 1], [1, 2]])
    counts = cells.pair_histogram(cells.prepare(positions[None], cell[None]), codes, pair_index, r_max, bins)
    i, j, _, distance = _all_images(positions, cell, r_max)
    keep = i < j
    expected = np.zeros((3, bins), dtype=np.int64)
    np.add.at(expected, (pair_index[codes[i[keep]], codes[j[keep]]], (distance[keep] * bins / r_max).astype(int)), 1)
    assert expected.sum() > len(positions)
    np.testing.assert_array_equal(counts[0], expected)


def _bond_counts(positions, cell, codes, cutoffs, angle_bins):
    """cn (2, 2) and angles per centre species (2, angle_bins) from the brute-force bonds."""
    i, j, shift = _bonds(positions, cell, codes, cutoffs)
    cn = np.zeros((2, 2), dtype=np.int64)
    np.add.at(cn, (codes[i], codes[j]), 1)
    adf = np.zeros((2, angle_bins), dtype=np.int64)
    for centre in range(len(positions)):
        vectors = positions[j[i == centre]] + shift[i == centre] @ cell - positions[centre]
        for u, v in combinations(vectors, 2):
            angle = np.degrees(np.arccos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v), -1, 1)))
            adf[codes[centre], min(int(angle * angle_bins / 180), angle_bins - 1)] += 1
    return cn, adf


@pytest.mark.parametrize("case", range(len(CELLS)))
def test_bond_counts_and_angles_match_brute_force(case):
    positions, cell, codes = _frame(*CELLS[case], seed=20 + case)
    cutoffs = CUTOFFS * _scale(cell, 3.2) / 3.2
    batch = cells.prepare(positions[None], cell[None])
    counts = cells.bond_histograms(batch, codes, cutoffs, angle_bins=90)
    cn, adf = _bond_counts(positions, cell, codes, cutoffs, 90)
    assert cn.sum() > len(positions) and adf.sum() > len(positions)
    np.testing.assert_array_equal(counts.cn[0], cn)
    np.testing.assert_array_equal(counts.adf[0], adf)
    # bond counts alone take the half stencil
    np.testing.assert_array_equal(cells.bond_histograms(batch, codes, cutoffs).cn[0], cn)


def test_batch_of_frames_with_different_cells():
    base, cell, codes = _frame(*CELLS[1], seed=30)
    frames = [(base * (1 + 0.2 * k), cell * (1 + 0.2 * k)) for k in range(5)]  # 2 to 3 bins per direction
    batch = cells.prepare(np.array([p for p, _ in frames]), np.array([c for _, c in frames]))
    cutoffs = CUTOFFS * _scale(cell, 3.2) / 3.2
    r_max = _scale(cell, 10.0)
    assert len({tuple(n) for n in cells.grid(batch.cells, len(base), r_max, cells.SUBDIVISION_LONG)[0]}) > 1
    pairs = cells.pair_histogram(batch, codes, np.array([[0, 1], [1, 2]]), r_max, 20)
    bonds = cells.bond_histograms(batch, codes, cutoffs, angle_bins=30)
    for k, (positions, frame_cell) in enumerate(frames):
        i, j, _, _ = _all_images(positions, frame_cell, r_max)
        assert pairs[k].sum() == np.count_nonzero(i < j)
        cn, adf = _bond_counts(positions, frame_cell, codes, cutoffs, 30)
        np.testing.assert_array_equal(bonds.cn[k], cn)
        np.testing.assert_array_equal(bonds.adf[k], adf)


@pytest.mark.parametrize("bins", [1, 7, 90, 180, 360])
@pytest.mark.parametrize("angle_min", [0.0, 155.0, 180.0])
def test_angle_bins_without_arccos_match_arccos_at_every_edge(bins, angle_min):
    bound, start, wide_cosine = cells.cosine_bounds(bins, angle_min)
    rng = np.random.default_rng(bins)
    edges = np.cos(np.radians(np.append(np.arange(bins + 1) * 180.0 / bins, angle_min)))
    near_edges = edges[:, None] + np.arange(-3, 4) * np.spacing(edges)[:, None]
    cosines = np.concatenate([rng.uniform(-1, 1, 2000), near_edges.ravel(), [-1 - 2e-16, -1, 1, 1 + 2e-16]])
    for c in cosines:
        angle = math.acos(min(1.0, max(-1.0, c))) * (180.0 / math.pi)  # the kernels' former arccos
        assert cells._angle_bin(c, bound, start) == min(int(angle * (bins / 180.0)), bins - 1)
        assert (c <= wide_cosine) == (angle > angle_min)


def test_work_split_among_threads_changes_nothing(monkeypatch):
    positions, cell, codes = _frame(*CELLS[3], seed=40)
    cutoffs = CUTOFFS * _scale(cell, 3.2) / 3.2
    batch = cells.prepare(positions[None], cell[None])

    def outputs():
        counts = cells.bond_histograms(batch, codes, cutoffs, 90, 150.0, 1.0, 8)
        return (*cells.bond_list(batch, codes, cutoffs), counts.cn, counts.adf, counts.altbc, counts.altbc_moments)

    monkeypatch.setenv("PHASEFIRE_THREADS", "1")
    alone = outputs()
    monkeypatch.setenv("PHASEFIRE_THREADS", "3")
    monkeypatch.setattr(cells, "MIN_ATOMS_PER_THREAD", 50)  # 600 atoms: three threads,
    monkeypatch.setattr(cells, "BLOCK_ATOMS", 100)  # six blocks of bins
    split = outputs()
    for one, three in zip(alone[:-1], split[:-1]):
        np.testing.assert_array_equal(one, three)
    np.testing.assert_allclose(alone[-1], split[-1], rtol=1e-12)  # sums in another order
    bond_i, bond_j, bond_shift = _bonds(positions, cell, codes, cutoffs)
    assert sorted(zip(*split[:2], map(tuple, split[2]))) == sorted(zip(bond_i, bond_j, map(tuple, bond_shift)))
    assert split[5].sum() > 0


def test_heights_are_volume_over_face_area():
    stack = np.array([np.asarray(cell, dtype=float) for cell, _ in CELLS])
    for cell, height in zip(stack, cells.heights(stack)):
        areas = [np.linalg.norm(np.cross(cell[(c + 1) % 3], cell[(c + 2) % 3])) for c in range(3)]
        np.testing.assert_allclose(height, abs(np.linalg.det(cell)) / np.array(areas), rtol=1e-12)
