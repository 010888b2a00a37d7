"""Ring statistics: known lattices, a brute-force reference, matscipy, bad input."""

from __future__ import annotations

import json
from collections import deque
from itertools import combinations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, graphene

from benchmarks._standins import rsa_frame
from phasefire.analysis.rings import bond_graph, count_rings, find_rings, ring_statistics
from phasefire.workflows.errors import PhasefireError

# ----------------------------------------------------------------------------- reference
# A literal, slow implementation of the three definitions on the infinite periodic graph
# (nodes are (atom, image) pairs): every simple cycle through each root atom is listed
# by depth-first search, then tested against the definition with plain BFS.


def _adjacency(n_atoms, i, j, shifts):
    adjacency = [[] for _ in range(n_atoms)]
    for a, b, s in zip(i, j, np.asarray(shifts)):
        adjacency[a].append((int(b), tuple(int(x) for x in s)))
    return adjacency


def _neighbours(adjacency, node):
    atom, image = node
    return [(b, tuple(x + y for x, y in zip(image, s))) for b, s in adjacency[atom]]


def _distance(adjacency, source, target, limit, banned_node=None, banned_edge=None):
    """Bonds on the shortest path source -> target (None beyond limit)."""
    seen, queue = {source: 0}, deque([source])
    while queue:
        node = queue.popleft()
        if node == target:
            return seen[node]
        if seen[node] == limit:
            continue
        for other in _neighbours(adjacency, node):
            if other == banned_node or {node, other} == banned_edge or other in seen:
                continue
            seen[other] = seen[node] + 1
            queue.append(other)
    return None


def _reference_rings(n_atoms, i, j, shifts, max_size):
    """Ring counts by size (index = atoms per ring) for each criterion."""
    adjacency = _adjacency(n_atoms, i, j, shifts)
    cycles = {}
    for root in range(n_atoms):
        start = (root, (0, 0, 0))
        stack = [[start]]
        while stack:
            path = stack.pop()
            for other in _neighbours(adjacency, path[-1]):
                if other == start and len(path) >= 3:
                    # lowest rotation of either direction, images relative to the first node
                    cycles[
                        min(
                            tuple((a, tuple(x - y for x, y in zip(im, seq[k][1]))) for a, im in seq[k:] + seq[:k])
                            for seq in (path, path[::-1])
                            for k in range(len(path))
                        )
                    ] = path
                elif other not in path and len(path) < max_size:
                    stack.append(path + [other])
    kept = {"shortest-path": [], "king": [], "guttman": []}
    for path in cycles.values():
        size = len(path)
        if all(
            _distance(adjacency, path[a], path[b], size) == min(b - a, size - b + a)
            for a, b in combinations(range(size), 2)
        ):
            kept["shortest-path"].append(size)
        if any(
            _distance(adjacency, path[k - 1], path[(k + 1) % size], size, banned_node=path[k]) == size - 2
            for k in range(size)
        ):
            kept["king"].append(size)
        if any(
            _distance(adjacency, path[k], path[(k + 1) % size], size, banned_edge={path[k], path[(k + 1) % size]})
            == size - 1
            for k in range(size)
        ):
            kept["guttman"].append(size)
    return {name: np.bincount(sizes, minlength=max_size + 1).astype(float) for name, sizes in kept.items()}


def _graph(edges, n_atoms):
    """Non-periodic graph from undirected edges: both directions, zero shifts."""
    i = [a for a, b in edges] + [b for a, b in edges]
    j = [b for a, b in edges] + [a for a, b in edges]
    return n_atoms, np.array(i), np.array(j), np.zeros((len(i), 3), dtype=int)


# ----------------------------------------------------------------------------- lattices


def test_diamond_has_two_six_rings_per_atom():
    silicon = bulk("Si", "diamond", a=5.43, cubic=True).repeat(2)
    stats = ring_statistics(silicon, cutoff=2.6)
    # each atom lies on 12 six-rings, each ring has 6 atoms: 12 / 6 = 2 per atom
    assert stats.rings_per_atom == {3: 0, 4: 0, 5: 0, 6: 2.0, 7: 0, 8: 0, 9: 0, 10: 0}
    assert stats.fraction[6] == 1.0
    i, j, shifts = bond_graph(silicon, 2.6)
    np.testing.assert_array_equal(
        count_rings(64, i, j, shifts, 7), _reference_rings(64, i, j, shifts, 7)["shortest-path"]
    )


def test_graphene_sheet_has_one_hexagon_per_two_atoms():
    sheet = graphene(vacuum=6.0).repeat((4, 4, 1))
    sheet.pbc = True
    stats = ring_statistics(sheet, cutoff=1.6)
    assert stats.ring_size_counts[6] == len(sheet) / 2
    assert sum(stats.ring_size_counts.values()) == len(sheet) / 2


def test_graphene_rings_up_to_sixteen_atoms_are_hexagons():
    # rings of more than 15 atoms outgrow the precomputed balls: shortcuts of the 10- to
    # 16-atom cycles around groups of hexagons are found by balls grown per test
    sheet = graphene(vacuum=6.0).repeat((6, 6, 1))
    sheet.pbc = True
    stats = ring_statistics(sheet, cutoff=1.6, max_size=16)
    assert stats.ring_size_counts[6] == len(sheet) / 2
    assert sum(stats.ring_size_counts.values()) == len(sheet) / 2


def test_simple_cubic_squares_and_cube_hexagons():
    cubic = bulk("Po", "sc", a=2.5).repeat(3)
    stats = ring_statistics(cubic, cutoff=2.6, max_size=8)
    # 3 squares per atom; each unit cube (one per atom) carries 4 shortest-path hexagons
    # (Franzblau 1991): opposite corners of the cube are 3 bonds apart either way round
    assert stats.rings_per_atom[4] == 3.0
    assert stats.rings_per_atom[6] == 4.0
    assert sum(stats.ring_size_counts.values()) == 7 * 27
    i, j, shifts = bond_graph(cubic, 2.6)
    reference = _reference_rings(27, i, j, shifts, 6)
    for criterion, expected in reference.items():
        np.testing.assert_array_equal(count_rings(27, i, j, shifts, 6, criterion), expected, err_msg=criterion)


def test_chain_closing_through_the_boundary_is_not_a_ring():
    # four atoms 2 Å apart along x in a cell 8 Å long: 0-1-2-3-0 closes only via an image
    chain = Atoms("C4", positions=[[2.0 * k, 0, 0] for k in range(4)], cell=[8.0, 20.0, 20.0], pbc=True)
    i, j, shifts = bond_graph(chain, 2.5)
    assert len(i) == 8
    for criterion in ("shortest-path", "king", "guttman"):
        assert ring_statistics(chain, cutoff=2.5, max_size=8, criterion=criterion).ring_size_counts[4] == 0


def test_ring_through_two_images_of_one_atom_is_counted_once():
    # atom 0 bonds to atom 1 in its own image and in the next one along x either way: the
    # square (0, 1, 0 + x, 1 + x) visits each atom twice and reads the same from both images
    i, j = [0, 0, 0, 1, 1, 1], [1, 1, 1, 0, 0, 0]
    shifts = np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 0], [-1, 0, 0], [1, 0, 0]])
    reference = _reference_rings(2, i, j, shifts, 6)
    assert list(reference["shortest-path"]) == [0, 0, 0, 0, 1, 0, 0]
    for criterion, expected in reference.items():
        np.testing.assert_array_equal(count_rings(2, i, j, shifts, 6, criterion), expected, err_msg=criterion)
    assert find_rings(2, i, j, shifts, 6) == [(0, 1, 0, 1)]


def test_ring_listing_is_canonical():
    square = _graph([(0, 1), (1, 2), (2, 3), (3, 0)], 4)
    assert find_rings(*square, max_size=6) == [(0, 1, 2, 3)]


# ----------------------------------------------------------------------------- criteria


def test_criteria_on_graphs_where_they_differ():
    # theta graph: A=0 and B=1 joined by paths of 2, 3 and 3 bonds
    theta = _graph([(0, 2), (2, 1), (0, 3), (3, 4), (4, 1), (0, 5), (5, 6), (6, 1)], 7)
    # both 5-cycles are shortest-path, King and Guttman rings; the 6-cycle has a shortcut
    # through atom 2 (not shortest-path), is the shortest way from 3 to 5 avoiding A
    # (King), but every one of its bonds lies on a 5-cycle (not Guttman)
    assert find_rings(*theta, max_size=10) == [(0, 2, 1, 4, 3), (0, 2, 1, 6, 5)]
    assert find_rings(*theta, max_size=10, criterion="king") == [(0, 2, 1, 4, 3), (0, 2, 1, 6, 5), (0, 3, 4, 1, 6, 5)]
    assert find_rings(*theta, max_size=10, criterion="guttman") == [(0, 2, 1, 4, 3), (0, 2, 1, 6, 5)]
    # edge graph of a cube: 6 faces; the 4 hexagons around body diagonals are
    # shortest-path rings, but neither King nor Guttman rings (a face is shorter)
    cube = _graph([(a, a ^ bit) for a in range(8) for bit in (1, 2, 4) if a < a ^ bit], 8)
    assert list(count_rings(*cube, max_size=8)) == [0, 0, 0, 0, 6, 0, 4, 0, 0]
    for criterion in ("king", "guttman"):
        assert list(count_rings(*cube, max_size=8, criterion=criterion)) == [0, 0, 0, 0, 6, 0, 0, 0, 0]


def test_criteria_match_reference_on_random_network():
    frame = rsa_frame(100, seed=4)
    i, j, shifts = bond_graph(frame, 3.2)
    reference = _reference_rings(len(frame), i, j, shifts, 7)
    for criterion, expected in reference.items():
        np.testing.assert_array_equal(count_rings(len(frame), i, j, shifts, 7, criterion), expected, err_msg=criterion)
    assert not np.array_equal(reference["king"], reference["shortest-path"])
    # every Guttman ring is a King ring
    king = set(find_rings(len(frame), i, j, shifts, 7, "king"))
    assert set(find_rings(len(frame), i, j, shifts, 7, "guttman")) <= king


# ----------------------------------------------------------------------------- matscipy


@pytest.mark.parametrize("n_atoms, seed, max_size", [(300, 1, 10), (1000, 3, 12), (1000, 0, 10), (2500, 2, 10)])
def test_agrees_with_matscipy_on_the_same_bond_graph(n_atoms, seed, max_size):
    # 12 atoms: shortcut tests beyond the precomputed balls; 2,500 atoms: roots in several threads
    ffi = pytest.importorskip("matscipy.ffi")
    frame = rsa_frame(n_atoms, seed=seed)
    i, j, shifts = bond_graph(frame, 3.2)
    order = np.lexsort((j, i))  # matscipy's graph code needs bonds grouped by i
    i, j, shifts = i[order].astype(np.int32), j[order].astype(np.int32), shifts[order]
    vectors = frame.positions[j] + shifts @ frame.cell.array - frame.positions[i]
    distances = ffi.distances_on_graph(i, j)
    # matscipy's even maxlength L returns rings of up to L-1 atoms (it stops one short);
    # ring_statistics(..., maxlength=11) itself raises on a shape mismatch, so the search
    # is called directly and sizes 3..max_size are compared
    theirs = ffi.find_sp_rings(i, j, vectors, distances, max_size + 2)[: max_size + 1]
    ours = count_rings(n_atoms, i, j, shifts, max_size)
    np.testing.assert_array_equal(ours, theirs)
    assert ours[3:].sum() > 100


# ----------------------------------------------------------------------------- interface


def test_statistics_average_frames_and_serialise():
    frames = [rsa_frame(200, seed=s) for s in (0, 1)]
    frames[1].symbols = frames[0].symbols
    stats = ring_statistics(frames, cutoff=3.2)
    single = [ring_statistics(f, cutoff=3.2).ring_size_counts for f in frames]
    assert stats.n_frames == 2 and stats.n_atoms == 200 and stats.max_size == 10
    for size in range(3, 11):
        assert stats.ring_size_counts[size] == pytest.approx((single[0][size] + single[1][size]) / 2)
        assert stats.rings_per_atom[size] == pytest.approx(stats.ring_size_counts[size] / 200)
    assert sum(stats.fraction.values()) == pytest.approx(1.0)
    data = json.loads(json.dumps(stats.to_dict()))
    assert sorted(data["ring_size_counts"], key=int) == [str(n) for n in range(3, 11)]
    assert data["criterion"] == "shortest-path" and list(data["cutoffs_A"].values()) == [3.2, 3.2, 3.2]


def test_per_pair_cutoff():
    frame = rsa_frame(200, seed=2)
    everything = ring_statistics(frame, cutoff={"Sb-Sb": 3.2, "Sb-Se": 3.2, "Se-Se": 3.2})
    assert everything.ring_size_counts == ring_statistics(frame, cutoff=3.2).ring_size_counts
    hetero = ring_statistics(frame, cutoff={"Sb-Se": 3.2})
    assert all(hetero.ring_size_counts[n] == 0 for n in (3, 5, 7, 9))  # Sb-Se only: even rings


@pytest.mark.parametrize(
    "frame, cutoff, message",
    [
        (Atoms("Si2", positions=[[0, 0, 0], [2, 0, 0]]), 2.5, "not periodic"),
        (
            Atoms("Si2", positions=[[0, 0, 0], [2, 0, 0]], cell=[[4, 0, 0], [0, 4, 0], [0, 0, 0]], pbc=True),
            2.5,
            "zero-volume",
        ),
        (bulk("Si", "diamond", a=5.43, cubic=True), 3.0, "exceeds half the shortest cell height"),
        (bulk("Si", "diamond", a=5.43, cubic=True).repeat(2), 1.5, "use a larger cutoff"),
    ],
)
def test_bad_input_gives_one_clear_line(frame, cutoff, message):
    with pytest.raises(PhasefireError, match=message) as error:
        ring_statistics(frame, cutoff)
    assert "\n" not in str(error.value)


def test_bad_options_and_mismatched_frames():
    frame = rsa_frame(100, seed=0)
    with pytest.raises(PhasefireError, match="frame 1"):
        ring_statistics([frame, frame[:-1]], 3.2)
    with pytest.raises(PhasefireError, match="unknown ring criterion"):
        ring_statistics(frame, 3.2, criterion="primitive")
    with pytest.raises(PhasefireError, match="max_size"):
        ring_statistics(frame, 3.2, max_size=2)
