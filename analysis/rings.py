"""Ring statistics of a periodic bond network.

A ring is a closed path of bonds that visits no atom twice. Three definitions are
available (see the R.I.N.G.S. documentation, Le Roux & Jund, Comput. Mater. Sci. 49,
70 (2010), for a comparison):

``"shortest-path"`` (default; Franzblau, Phys. Rev. B 44, 4925 (1991))
    a ring is kept when, for every two of its members, the shortest path through the
    whole network is no shorter than the way round the ring. This is what OVITO's
    FindRingsModifier and matscipy's ``ring_statistics`` count.
``"king"`` (King, Nature 213, 1112 (1967))
    a ring is a shortest path between two neighbours N1, N2 of a node A that does not
    pass through A, closed through A; every such shortest path counts.
``"guttman"`` (Guttman, J. Non-Cryst. Solids 116, 145 (1990))
    a ring is a shortest path from a neighbour N of a node A back to A that does not
    use the bond A-N, closed by that bond; every such shortest path counts.

Guttman rings are a subset of King rings; shortest-path rings are neither a subset
nor a superset of King rings (the 6-rings of a cube's edge graph are shortest-path
rings but not King rings).

The search runs on the infinite periodic graph: a node is an (atom, lattice image)
pair, so a path that returns to its starting atom in another image (a chain wrapping
through the cell boundary) is not closed and is not a ring. Each ring is counted once,
identified by the canonical form of its (atom, image) sequence up to a lattice
translation, rotation and reversal. Memory is linear in the number of atoms: every
atom searches only its own neighbourhood, to ``max_size // 2`` bonds for shortest-path
rings and ``max_size - 1`` bonds for King and Guttman rings.

Shortest-path search: each ring is found once, from its lowest atom (the root). The
breadth-first search from a root visits only atoms >= root; every pair of internally
disjoint shortest paths of that search to the same node (even rings) or to the two ends
of a bond (odd rings) closes a candidate, which contains every shortest-path ring whose
lowest atom is the root. A cycle of L members has no shortcut exactly when, for each
member, the distance through the whole network to the opposite member(s) is the way
round the ring, L // 2 bonds (a shortcut between any two members leaves a shortcut
between one of them and its opposite); each distance is tested by intersecting the
balls of radius (max_size // 2) // 2 (precomputed for every atom) around the two
members, or, for rings of more than 15 atoms, balls grown for the test. A ring through the root in several
images is kept from the image that starts its canonical form. King and Guttman rings
are proposed from every root and matched across roots by a 128-bit hash of their
canonical form.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numba
import numpy as np
from ase import Atoms
from ase.data import chemical_symbols
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import reverse_cuthill_mckee

from phasefire.analysis import cells
from phasefire.analysis.bonds import BondCutoff
from phasefire.analysis.frames import as_frames, pair_label, species_codes, species_order
from phasefire.analysis.neighbors import check_periodic_cell
from phasefire.analysis.rdf import batches, prepare_batch
from phasefire.workflows.errors import PhasefireError

CRITERIA = ("shortest-path", "king", "guttman")
_CRITERION_CODE = {"shortest-path": 0, "king": 1, "guttman": 2}
_MAX_IMAGE = 100  # images are packed into one byte each when hashing rings


@dataclass(frozen=True)
class RingStatistics:
    """Ring counts of a bond network, averaged over frames.

    ring_size_counts: mean number of rings per frame for each size 3..max_size (atoms
    per ring), zeros included; rings_per_atom: the same divided by the atom count;
    fraction: each size's share of all rings up to max_size, the "relative ratio of
    local structure units" of Fig. 3d of the a-Sb2Se3 paper; cutoffs: "A-B" → bond
    cutoff (Å, 0 = not bonded).
    """

    ring_size_counts: dict[int, float]
    rings_per_atom: dict[int, float]
    fraction: dict[int, float]
    n_atoms: int
    n_frames: int
    criterion: str
    max_size: int
    cutoffs: dict[str, float]

    def to_dict(self) -> dict:
        """JSON-serialisable form; ring sizes become string keys."""
        return {
            "ring_size_counts": {str(k): v for k, v in self.ring_size_counts.items()},
            "rings_per_atom": {str(k): v for k, v in self.rings_per_atom.items()},
            "fraction": {str(k): v for k, v in self.fraction.items()},
            "total_rings": sum(self.ring_size_counts.values()),
            "n_atoms": self.n_atoms,
            "n_frames": self.n_frames,
            "criterion": self.criterion,
            "max_size": self.max_size,
            "cutoffs_A": self.cutoffs,
        }


class RingAccumulator:
    """Ring counts frame by frame; frames are searched in parallel threads (the search
    kernel releases the GIL) when ``workers`` > 1."""

    def __init__(self, species: tuple[str, ...], codes: np.ndarray, cutoffs: np.ndarray, max_size: int = 10,
                 criterion: str = "shortest-path", workers: int = 1):  # fmt: skip
        _check_options(max_size, criterion)
        self.species, self.codes, self.cutoffs = species, np.asarray(codes, dtype=np.int64), cutoffs
        self.max_size, self.criterion = max_size, criterion
        self.total = np.zeros(max_size + 1)
        self.n_frames = 0
        self._pool = ThreadPoolExecutor(workers) if workers > 1 else None
        self._pending = []

    def _count(self, batch: cells.Batch) -> np.ndarray:
        # atoms in cell-list order: bonded atoms sit close in memory, as after a Cuthill–McKee relabelling
        indptr, neighbor, shift, order = cells.bond_graph(batch, self.codes, self.cutoffs)
        if len(neighbor) == 0:
            raise PhasefireError(
                f"no bonds shorter than the cutoff ({self.cutoffs.max():g} Å; every neighbour shell is empty); "
                "use a larger cutoff, e.g. the first minimum of g(r)"
            )
        sizes, _ = _search_csr(indptr, neighbor, shift, order, self.max_size, self.criterion, False,
                               threads=self._pool is None)  # fmt: skip
        return np.bincount(sizes, minlength=self.max_size + 1).astype(float)

    def add(self, batch: cells.Batch) -> None:
        for b in range(batch.wrapped.shape[0]):
            frame = cells.Batch(batch.wrapped[b : b + 1], batch.wrap[b : b + 1], batch.cells[b : b + 1],
                                batch.fractional[b : b + 1])  # fmt: skip
            self.n_frames += 1
            if self._pool is None:
                self.total += self._count(frame)
            else:
                self._pending.append(self._pool.submit(self._count, frame))
                if len(self._pending) > 64:
                    self.total += self._pending.pop(0).result()

    def close(self) -> None:
        """Stop the frame threads (after an error elsewhere in the pass)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def result(self) -> RingStatistics:
        for future in self._pending:
            self.total += future.result()
        self._pending = []
        self.close()
        if self.n_frames == 0:
            raise PhasefireError("no frames given; pass an ase.Atoms or a non-empty list of them")
        mean = self.total / self.n_frames
        sizes = range(3, self.max_size + 1)
        all_rings = mean[3:].sum()
        n_atoms = len(self.codes)
        return RingStatistics(
            ring_size_counts={n: float(mean[n]) for n in sizes},
            rings_per_atom={n: float(mean[n] / n_atoms) for n in sizes},
            fraction={n: float(mean[n] / all_rings) if all_rings else 0.0 for n in sizes},
            n_atoms=n_atoms,
            n_frames=self.n_frames,
            criterion=self.criterion,
            max_size=self.max_size,
            cutoffs={
                pair_label(a, b): float(self.cutoffs[i, j])
                for i, a in enumerate(self.species)
                for j, b in enumerate(self.species)
                if i <= j
            },
        )


def ring_statistics(
    frames: Atoms | Sequence[Atoms],
    cutoff=None,
    max_size: int = 10,
    criterion: str = "shortest-path",
) -> RingStatistics:
    """Rings of 3..max_size atoms in the bond network of each frame, averaged over frames.

    cutoff: ``BondCutoff`` or what ``BondCutoff.of`` takes (Å, e.g. {"Sb-Se": 3.2} per pair
    with unlisted pairs not bonded, "auto"; default 3.2 Å). criterion: "shortest-path"
    (Franzblau), "king" or "guttman".
    """
    _check_options(max_size, criterion)
    frames = as_frames(frames)
    species = species_order(frames[0])
    cutoffs = BondCutoff.of(cutoff).with_first_minima(frames).matrix(species)
    as_frames(frames, cutoff=float(cutoffs.max()))
    accumulator = RingAccumulator(species, species_codes(frames[0], species), cutoffs, max_size, criterion)
    for batch, _ in batches(frames):
        accumulator.add(batch)
    return accumulator.result()


def bond_graph(atoms: Atoms, cutoff=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bonds (both directions) of a periodic frame: i, j and the integer lattice image
    shift S of j, so that the bond vector is r_j + S @ cell - r_i (grouped by i, in cell-list order)."""
    species, codes = _species_and_codes(atoms.numbers)
    cutoffs = BondCutoff.of(cutoff).matrix(species)
    check_periodic_cell(atoms, float(cutoffs.max()))
    batch, _ = prepare_batch([atoms])
    i, j, shift = cells.bond_list(batch, codes, cutoffs)
    if len(j) == 0:
        raise PhasefireError(
            f"no bonds shorter than the cutoff ({cutoffs.max():g} Å; every neighbour shell is empty); "
            "use a larger cutoff, e.g. the first minimum of g(r)"
        )
    return i, j, shift


def _species_and_codes(numbers: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """``species_order`` and ``species_codes`` of atomic numbers without sorting them."""
    numbers = np.asarray(numbers)
    present = np.flatnonzero(np.bincount(numbers))
    first = [int(np.argmax(numbers == z)) for z in present]
    by_first = present[np.argsort(first)]
    lookup = np.zeros(int(numbers.max()) + 1, dtype=np.intp)
    lookup[by_first] = np.arange(len(by_first))
    return tuple(chemical_symbols[z] for z in by_first), lookup[numbers]


def count_rings(
    n_atoms: int,
    i: np.ndarray,
    j: np.ndarray,
    shifts: np.ndarray,
    max_size: int = 10,
    criterion: str = "shortest-path",
) -> np.ndarray:
    """Number of rings of each size (index = atoms per ring, 0..max_size) in a bond graph.

    i, j: bonded atom indices listing every bond in both directions; shifts: (n_bonds, 3)
    integer lattice image of j relative to i (all zero for a non-periodic graph).
    """
    sizes, _ = _search(n_atoms, i, j, shifts, max_size, criterion, store=False)
    return np.bincount(sizes, minlength=max_size + 1).astype(float)


def find_rings(
    n_atoms: int,
    i: np.ndarray,
    j: np.ndarray,
    shifts: np.ndarray,
    max_size: int = 10,
    criterion: str = "shortest-path",
) -> list[tuple[int, ...]]:
    """The rings of a bond graph (arguments as in ``count_rings``), each as its atom
    indices in ring order, starting from the lowest index."""
    _, rings = _search(n_atoms, i, j, shifts, max_size, criterion, store=True)
    return rings


def _check_options(max_size: int, criterion: str) -> None:
    if criterion not in CRITERIA:
        raise PhasefireError(f"unknown ring criterion {criterion!r}; choose one of {', '.join(CRITERIA)}")
    if int(max_size) != max_size or not 3 <= max_size <= 2 * _MAX_IMAGE:
        raise PhasefireError(f"max_size must be an integer from 3 up (atoms per ring), got {max_size}")


def _search(n_atoms, i, j, shifts, max_size, criterion, store, threads=True):
    """Run the numba search on a bond list. Returns the size of every distinct ring and, when
    store is set, the rings as sorted atom-index tuples (else None)."""
    _check_options(max_size, criterion)
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    shifts = np.asarray(shifts, dtype=np.int32).reshape(-1, 3)
    # relabel atoms in reverse Cuthill-McKee order so that bonded atoms sit close in
    # memory (1.5x faster at 20k atoms); stored rings are mapped back at the end
    old_label = reverse_cuthill_mckee(
        csr_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n_atoms, n_atoms)), symmetric_mode=True
    ).astype(np.int64)
    new_label = np.empty(n_atoms, dtype=np.int64)
    new_label[old_label] = np.arange(n_atoms)
    i, j = new_label[i], new_label[j]
    order = np.argsort(i, kind="stable")
    indptr = np.zeros(n_atoms + 1, dtype=np.int64)
    np.cumsum(np.bincount(i, minlength=n_atoms), out=indptr[1:])
    neighbor, neighbor_shift = j[order], np.ascontiguousarray(shifts[order])
    return _search_csr(indptr, neighbor, neighbor_shift, old_label, max_size, criterion, store, threads)


def _search_csr(indptr, neighbor, neighbor_shift, old_label, max_size, criterion, store, threads=True):
    """The search on a CSR bond graph whose atom k is atom old_label[k] of the frame."""
    n_atoms = len(indptr) - 1
    code = _CRITERION_CODE[criterion]
    # roots are split into blocks searched by parallel threads (the kernel drops the GIL)
    n_blocks = max(1, min(len(os.sched_getaffinity(0)), n_atoms // 1000)) if threads else 1
    bounds = np.linspace(0, n_atoms, n_blocks + 1).astype(np.int64)

    if code == 0:
        return _shortest_path_rings(indptr, neighbor, neighbor_shift, old_label, max_size, store, n_blocks)

    def search_block(block):
        # buffer rows for nodes, paths and ring proposals (~30 per atom in an amorphous
        # network for rings <= 10); a status > 0 asks for a larger one
        first_root, last_root = bounds[block], bounds[block + 1]
        capacity = np.array([256, 64, 48 * (last_root - first_root) + 1024], dtype=np.int64)
        while True:
            status, *found = _ring_kernel(
                indptr, neighbor, neighbor_shift, max_size, code, store, capacity, first_root, last_root
            )
            if status == 0:
                hashes, sizes, stored_hash, stored, n_found, n_stored = found
                return hashes[:n_found], sizes[:n_found], stored_hash[:n_stored], stored[:n_stored]
            capacity[status - 1] *= 4

    if n_blocks == 1:
        blocks = [search_block(0)]
    else:
        with ThreadPoolExecutor(n_blocks) as pool:
            blocks = list(pool.map(search_block, range(n_blocks)))
    hashes, sizes, stored_hash, stored = (np.concatenate(parts) for parts in zip(*blocks))
    n_found = len(sizes)
    order = np.argsort(hashes[:, 0])
    same_first = hashes[order[1:], 0] == hashes[order[:-1], 0]
    if np.any(same_first & (hashes[order[1:], 1] != hashes[order[:-1], 1])):
        order = np.lexsort((hashes[:, 1], hashes[:, 0]))  # first halves collide: sort both
    hashes, sizes = hashes[order], sizes[order]
    first = np.ones(n_found, dtype=bool)
    first[1:] = (hashes[1:, 0] != hashes[:-1, 0]) | (hashes[1:, 1] != hashes[:-1, 1])
    starts = np.flatnonzero(first)
    ring_sizes = sizes[starts]
    if not store:
        return ring_sizes, None
    wanted = {(int(a), int(b)) for a, b in hashes[starts]}
    rings = {}
    for (a, b), row in zip(stored_hash, stored):
        if (int(a), int(b)) in wanted:
            rings[(int(a), int(b))] = _lowest_rotation(old_label[row[1 : 1 + row[0]]].tolist())
    return ring_sizes, sorted(rings.values(), key=lambda ring: (len(ring), ring))


def _shortest_path_rings(indptr, neighbor, neighbor_shift, old_label, max_size, store, n_threads):
    """Shortest-path rings of a CSR bond graph, each found once from its lowest atom; chunks
    of roots go to n_threads threads (the kernels drop the GIL)."""
    n_atoms = len(indptr) - 1
    n_chunks = 1 if n_threads == 1 else 8 * n_threads
    bounds = np.linspace(0, n_atoms, n_chunks + 1).astype(np.int64)
    # balls of radius 3 around every atom answer "is there a shortcut" for rings of up to 15 atoms
    radius = min(3, (max_size // 2) // 2)
    largest_shift = int(np.abs(neighbor_shift).max()) if neighbor_shift.size else 0
    if 2 * largest_shift * (max_size // 2) >= _KEY_REACH:  # image differences within a ring must fit a key
        raise PhasefireError(f"bonds to lattice images {largest_shift} cells away are too long for rings of "
                             f"{max_size} atoms; use a larger cell or smaller rings")  # fmt: skip
    shift_key = (neighbor_shift[:, 0].astype(np.int64) << 20) + (neighbor_shift[:, 1].astype(np.int64) << 10)
    shift_key += neighbor_shift[:, 2]

    def balls_chunk(chunk):
        first, last = bounds[chunk], bounds[chunk + 1]
        capacity = np.array([256, 24 * (last - first) + 256], dtype=np.int64)
        while True:
            status, *found = _balls(indptr, neighbor, shift_key, radius, first, last, capacity)
            if status == 0:
                return found
            capacity[status - 1] *= 4

    def search_chunk(chunk):
        first_root, last_root = bounds[chunk], bounds[chunk + 1]
        capacity = np.array([256, 64, 8 * (last_root - first_root) + 1024], dtype=np.int64)
        while True:
            status, counts, stored, n_stored = _sp_kernel(indptr, neighbor, shift_key, max_size, store,
                                                          capacity, first_root, last_root, radius, ball_ptr, ball_len,
                                                          ball_key, near_depth)  # fmt: skip
            if status == 0:
                return counts, stored[:n_stored]
            capacity[status - 1] *= 4

    with ThreadPoolExecutor(n_threads) if n_chunks > 1 else nullcontext() as pool:
        chunks = range(n_chunks)
        found = pool.map(balls_chunk, chunks) if pool else [balls_chunk(0)]
        ball_key, near_depth, ball_len = (np.concatenate(part) for part in zip(*found))
        ball_ptr = np.zeros(n_atoms + 1, dtype=np.int64)
        np.cumsum(ball_len, out=ball_ptr[1:])
        parts = list(pool.map(search_chunk, chunks)) if pool else [search_chunk(0)]
    counts = sum(part[0] for part in parts)
    ring_sizes = np.repeat(np.arange(max_size + 1), counts)
    if not store:
        return ring_sizes, None
    rings = [_lowest_rotation(old_label[row[1 : 1 + row[0]]].tolist()) for part in parts for row in part[1]]
    return ring_sizes, sorted(rings, key=lambda ring: (len(ring), ring))


def _lowest_rotation(ring: list[int]) -> tuple[int, ...]:
    """The lowest of a ring's rotations and reversals, as a tuple of atom indices."""
    backwards = ring[::-1]
    return min(tuple(seq[k:] + seq[:k]) for seq in (ring, backwards) for k in range(len(ring)))


# ----------------------------------------------------------------------------- numba kernels


@numba.njit(cache=True, inline="always")
def _mix(x):
    """splitmix64 finaliser (uint64 -> uint64)."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@numba.njit(cache=True)
def _canonical(ring_atom, ring_image, size, out_atom):
    """Canonical order of a ring: the lowest (atom, relative image) sequence over
    rotations and reversals. Writes its atoms to out_atom; returns (hash1, hash2, start),
    start being the position in the input that the canonical order begins with."""
    lowest = ring_atom[0]
    for t in range(1, size):
        lowest = min(lowest, ring_atom[t])
    best_start, best_step = -1, 1
    for start in range(size):
        if ring_atom[start] != lowest:
            continue
        for step in (1, -1):
            if best_start < 0:
                best_start, best_step = start, step
                continue
            for t in range(1, size):
                a = (start + step * t) % size
                b = (best_start + best_step * t) % size
                diff = ring_atom[a] - ring_atom[b]
                for c in range(3):
                    if diff != 0:
                        break
                    diff = (ring_image[a, c] - ring_image[start, c]) - (ring_image[b, c] - ring_image[best_start, c])
                if diff != 0:
                    if diff < 0:
                        best_start, best_step = start, step
                    break
    h1 = np.uint64(0x9E3779B97F4A7C15)
    h2 = np.uint64(0x632BE59BD9B4E019) ^ np.uint64(size)
    for t in range(size):
        a = (best_start + best_step * t) % size
        out_atom[t] = ring_atom[a]
        packed = np.uint64(ring_atom[a]) << np.uint64(24)
        for c in range(3):
            offset = ring_image[a, c] - ring_image[best_start, c] + 128
            packed |= np.uint64(offset) << np.uint64(8 * (2 - c))
        h1 = _mix(h1 ^ packed)
        h2 = _mix(h2 + packed * np.uint64(0xD6E8FEB86659FD93) + np.uint64(t))
    return h1, h2, best_start


@numba.njit(cache=True)
def _find_node(atom, x, y, z, stamp, atom_stamp, atom_head, node_image, node_next):
    """Local index of node (atom, image x y z) in the current search, or -1."""
    if atom_stamp[atom] != stamp:
        return -1
    w = atom_head[atom]
    while w >= 0:
        if node_image[w, 0] == x and node_image[w, 1] == y and node_image[w, 2] == z:
            return w
        w = node_next[w]
    return -1


@numba.njit(cache=True)
def _find_neighbor_node(edge, neighbor, neighbor_shift, stamp, atom_stamp, atom_head, node_image, node_next):
    """``_find_node`` of the bond ``edge``'s far end (its atom and lattice shift)."""
    x, y, z = neighbor_shift[edge, 0], neighbor_shift[edge, 1], neighbor_shift[edge, 2]
    return _find_node(neighbor[edge], x, y, z, stamp, atom_stamp, atom_head, node_image, node_next)


@numba.njit(cache=True)
def _shortest_paths(target, node_depth, pred_head, pred_node, pred_next, paths, cursor):
    """All shortest paths from node 0 to target, as rows of node indices 0..depth.
    Returns their number, or -1 when paths has too few rows."""
    k = node_depth[target]
    count = 0
    level = k
    paths[0, k] = target
    cursor[k] = pred_head[target]
    while level <= k:
        if level == 0:
            if count + 1 == paths.shape[0]:  # the last row is scratch for the next path
                return -1
            paths[count + 1, : k + 1] = paths[count, : k + 1]
            count += 1
            level = 1
            continue
        c = cursor[level]
        if c < 0:
            level += 1
            continue
        cursor[level] = pred_next[c]
        p = pred_node[c]
        paths[count, level - 1] = p
        if level > 1:
            cursor[level - 1] = pred_head[p]
        level -= 1
    return count


@numba.njit(cache=True, nogil=True)
def _ring_kernel(indptr, neighbor, neighbor_shift, max_size, criterion, store, capacity, first_root, last_root):
    """Propose King (criterion 1) or Guttman (2) rings from root atoms first_root..last_root-1.
    Returns status (0 done, k>0: capacity[k-1] too small), proposal hashes and sizes, stored
    canonical rings (hashes; size then atoms) and their numbers."""
    n_atoms = len(indptr) - 1
    node_capacity, path_capacity, ring_capacity = capacity[0], capacity[1], capacity[2]
    node_atom = np.empty(node_capacity, np.int64)
    node_image = np.empty((node_capacity, 3), np.int64)
    node_depth = np.empty(node_capacity, np.int64)
    node_next = np.empty(node_capacity, np.int64)  # next node of the same atom
    pred_head = np.empty(node_capacity, np.int64)  # linked lists of predecessors
    pred_node = np.empty(4 * node_capacity, np.int64)
    pred_next = np.empty(4 * node_capacity, np.int64)
    atom_stamp = np.full(n_atoms, -1, np.int64)
    atom_head = np.empty(n_atoms, np.int64)
    paths_a = np.empty((path_capacity, max_size + 1), np.int64)
    cursor = np.empty(max_size + 1, np.int64)
    ring_atom = np.empty(max_size + 1, np.int64)
    ring_image = np.empty((max_size + 1, 3), np.int64)
    canon = np.empty(max_size + 1, np.int64)
    hashes = np.empty((ring_capacity, 2), np.uint64)
    sizes = np.empty(ring_capacity, np.int64)
    stored_hash = np.empty((ring_capacity if store else 1, 2), np.uint64)
    stored = np.empty((ring_capacity if store else 1, 1 + max_size), np.int64)
    n_found, n_stored, stamp = 0, 0, 0
    for root in range(first_root, last_root):
        n_sources = indptr[root + 1] - indptr[root]
        for source in range(n_sources):
            # --- breadth-first search from the source node over (atom, image) nodes
            stamp += 1
            e0 = indptr[root] + source
            node_atom[0] = neighbor[e0]
            node_image[0, :] = neighbor_shift[e0]
            depth_limit = max_size - 1 if criterion == 2 else max_size - 2
            node_depth[0] = 0
            node_next[0] = -1
            pred_head[0] = -1
            atom_stamp[node_atom[0]] = stamp
            atom_head[node_atom[0]] = 0
            n_nodes, n_preds = 1, 0
            head, level_end = 0, 1
            while head < n_nodes:
                if head == level_end:  # a depth is complete: stop once all targets are reached
                    level_end = n_nodes
                    if (
                        criterion == 2
                        and _find_node(root, 0, 0, 0, stamp, atom_stamp, atom_head, node_image, node_next) >= 0
                    ):
                        break
                    if criterion == 1:
                        missing = 0
                        for e2 in range(indptr[root] + source + 1, indptr[root + 1]):
                            if (
                                _find_neighbor_node(
                                    e2, neighbor, neighbor_shift, stamp, atom_stamp, atom_head, node_image, node_next
                                )
                                < 0
                            ):
                                missing += 1
                        if missing == 0:
                            break
                u = head
                head += 1
                du = node_depth[u]
                ua = node_atom[u]
                if du == depth_limit:
                    continue
                if (
                    criterion == 2
                    and ua == root
                    and node_image[u, 0] == 0
                    and node_image[u, 1] == 0
                    and node_image[u, 2] == 0
                ):
                    continue  # Guttman: the root ends every path
                for e in range(indptr[ua], indptr[ua + 1]):
                    va = neighbor[e]
                    vx = node_image[u, 0] + neighbor_shift[e, 0]
                    vy = node_image[u, 1] + neighbor_shift[e, 1]
                    vz = node_image[u, 2] + neighbor_shift[e, 2]
                    if va == root and vx == 0 and vy == 0 and vz == 0:
                        if criterion == 1 or u == 0:
                            continue  # King: avoid the root; Guttman: not the bond root-source
                    v = _find_node(va, vx, vy, vz, stamp, atom_stamp, atom_head, node_image, node_next)
                    if v < 0:
                        if du == depth_limit:
                            continue
                        if n_nodes == node_capacity:
                            return 1, hashes, sizes, stored_hash, stored, 0, 0
                        v = n_nodes
                        n_nodes += 1
                        node_atom[v] = va
                        node_image[v, 0] = vx
                        node_image[v, 1] = vy
                        node_image[v, 2] = vz
                        node_depth[v] = du + 1
                        pred_head[v] = -1
                        node_next[v] = atom_head[va] if atom_stamp[va] == stamp else -1
                        atom_stamp[va] = stamp
                        atom_head[va] = v
                    if node_depth[v] == du + 1:
                        if n_preds == len(pred_node):
                            return 1, hashes, sizes, stored_hash, stored, 0, 0
                        pred_node[n_preds] = u
                        pred_next[n_preds] = pred_head[v]
                        pred_head[v] = n_preds
                        n_preds += 1
            # --- close rings from the shortest paths found
            # King: root + shortest source-target path avoiding the root, for each
            # later neighbour of the root; Guttman: shortest path source -> root
            first_target = indptr[root] + source + 1 if criterion == 1 else 0
            last_target = indptr[root + 1] if criterion == 1 else 1
            for e2 in range(first_target, last_target):
                if criterion == 1:
                    target = _find_neighbor_node(
                        e2, neighbor, neighbor_shift, stamp, atom_stamp, atom_head, node_image, node_next
                    )
                else:
                    target = _find_node(root, 0, 0, 0, stamp, atom_stamp, atom_head, node_image, node_next)
                if target < 0:
                    continue
                k = node_depth[target]
                size = k + 2 if criterion == 1 else k + 1
                if size > max_size or size < 3:
                    continue
                n_a = _shortest_paths(target, node_depth, pred_head, pred_node, pred_next, paths_a, cursor)
                if n_a < 0:
                    return 2, hashes, sizes, stored_hash, stored, 0, 0
                for p in range(n_a):
                    for t in range(k + 1):
                        ring_atom[t] = node_atom[paths_a[p, t]]
                        ring_image[t] = node_image[paths_a[p, t]]
                    if criterion == 1:
                        ring_atom[k + 1] = root
                        ring_image[k + 1] = 0
                    if n_found == ring_capacity:
                        return 3, hashes, sizes, stored_hash, stored, 0, 0
                    h1, h2, start = _canonical(ring_atom, ring_image, size, canon)
                    hashes[n_found, 0], hashes[n_found, 1], sizes[n_found] = h1, h2, size
                    n_found += 1
                    if store:
                        stored_hash[n_stored, 0], stored_hash[n_stored, 1], stored[n_stored, 0] = h1, h2, size
                        stored[n_stored, 1 : 1 + size] = canon[:size]
                        n_stored += 1
    return 0, hashes, sizes, stored_hash, stored, n_found, n_stored


# ----------------------------------------------------------------------------- shortest-path rings
# A node (atom, image x y z) is handled as the atom and one integer image key, so that the
# image of a bonded node is the sum of two keys and a difference of keys compares like the
# difference of images, lexicographically.

_KEY_ATOM = 1 << 30  # ball entries: atom * 2**30 + image key
_KEY_REACH = 512  # image components must stay below this in size


@numba.njit(cache=True, inline="always")
def _image_key(x, y, z):
    """x * 2**20 + y * 2**10 + z: additive, and ordered like (x, y, z) while |x|, |y|, |z| < 512."""
    return x * (1 << 20) + y * (1 << 10) + z


@numba.njit(cache=True, inline="always")
def _key_image(key, out):
    """The image (x, y, z) of a key, written to out."""
    z = ((key + 512) & 1023) - 512
    key = (key - z) >> 10
    y = ((key + 512) & 1023) - 512
    out[0], out[1], out[2] = (key - y) >> 10, y, z


@numba.njit(cache=True, inline="always")
def _node_find(atom, key, stamp, node_stamp, node_head, node_key, node_next):
    """Index of node (atom, image key) in the set recorded under stamp, or -1."""
    if node_stamp[atom] != stamp:
        return -1
    w = node_head[atom]
    while w >= 0:
        if node_key[w] == key:
            return w
        w = node_next[w]
    return -1


@numba.njit(cache=True)
def _within(a, b, b_key, limit, indptr, neighbor, shift_key, stamps, ball_stamp, ball_head, ball_atom, ball_key,
            ball_depth, ball_next):  # fmt: skip
    """Whether node (b, image b_key) lies within limit bonds of node (a, image 0): 1 yes, 0 no,
    -1 when the ball buffers are too small. Grows a ball of radius ceil(limit / 2) around a
    (buffer row 0), then one of radius floor(limit / 2) around b (row 1) until it touches the
    first. For rings longer than the precomputed balls reach."""
    if limit <= 0:
        return 0
    capacity = ball_atom.shape[1]
    for side in range(2):
        stamps[side] += 1
        stamp = stamps[side]
        ball_atom[side, 0] = a if side == 0 else b
        ball_key[side, 0] = 0 if side == 0 else b_key
        radius = (limit + 1) // 2 if side == 0 else limit // 2
        ball_depth[side, 0] = 0
        ball_next[side, 0] = -1
        ball_stamp[side, ball_atom[side, 0]] = stamp
        ball_head[side, ball_atom[side, 0]] = 0
        n, head = 1, 0
        while head < n:
            u = head
            head += 1
            du = ball_depth[side, u]
            if du == radius:
                break  # nodes are in depth order
            ua = ball_atom[side, u]
            for e in range(indptr[ua], indptr[ua + 1]):
                va = neighbor[e]
                vk = ball_key[side, u] + shift_key[e]
                if _node_find(va, vk, stamp, ball_stamp[side], ball_head[side], ball_key[side], ball_next[side]) >= 0:
                    continue
                if side == 0:
                    if va == b and vk == b_key:
                        return 1
                elif _node_find(va, vk, stamps[0], ball_stamp[0], ball_head[0], ball_key[0], ball_next[0]) >= 0:
                    return 1
                if n == capacity:
                    return -1
                ball_atom[side, n] = va
                ball_key[side, n] = vk
                ball_depth[side, n] = du + 1
                ball_next[side, n] = ball_head[side, va] if ball_stamp[side, va] == stamp else -1
                ball_stamp[side, va] = stamp
                ball_head[side, va] = n
                n += 1
    return 0


@numba.njit(cache=True)
def _root_is_canonical_start(ring_atom, ring_key, size, root):
    """Whether position 0 (the root, at image 0) starts the ring's canonical form when the
    root atom occurs more than once (in several images): the lowest relative (atom, image)
    sequence over rotations and reversals. Two starts cannot tie: a ring reading the same
    from two images of an atom would be invariant under a lattice translation."""
    best_start, best_step = 0, 1
    for start in range(size):
        if ring_atom[start] != root:
            continue
        for step in (1, -1):
            if start == 0 and step == 1:
                continue
            diff = 0
            for t in range(1, size):
                a = (start + step * t) % size
                b = (best_start + best_step * t) % size
                diff = ring_atom[a] - ring_atom[b]
                if diff == 0:
                    diff = (ring_key[a] - ring_key[start]) - (ring_key[b] - ring_key[best_start])
                if diff != 0:
                    break
            if diff < 0:
                best_start, best_step = start, step
    return best_start == 0


@numba.njit(cache=True, nogil=True)
def _balls(indptr, neighbor, shift_key, radius, first, last, capacity):
    """The nodes within radius bonds of (atom, image 0) for atoms first..last-1, each ball as
    entries atom * 2**30 + image key in increasing order, with their distances. Returns
    status (0 done, 1: capacity[0] rows too few for one ball, 2: capacity[1] too few for
    all), the entries, distances and ball sizes."""
    n_atoms = len(indptr) - 1
    width, total = capacity[0], capacity[1]
    node_atom = np.empty(width, np.int64)
    node_key = np.empty(width, np.int64)
    node_depth = np.empty(width, np.int64)
    node_next = np.empty(width, np.int64)
    atom_stamp = np.full(n_atoms, -1, np.int64)
    atom_head = np.empty(n_atoms, np.int64)
    ball_key = np.empty(total, np.int64)
    ball_depth = np.empty(total, np.int8)
    ball_len = np.empty(last - first, np.int64)
    base = 0
    for a in range(first, last):
        node_atom[0], node_key[0], node_depth[0], node_next[0] = a, 0, 0, -1
        atom_stamp[a], atom_head[a] = a, 0
        n = 1
        for u in range(width):
            if u == n or node_depth[u] == radius:
                break  # nodes are in depth order
            ua = node_atom[u]
            for e in range(indptr[ua], indptr[ua + 1]):
                va = neighbor[e]
                vk = node_key[u] + shift_key[e]
                if _node_find(va, vk, a, atom_stamp, atom_head, node_key, node_next) >= 0:
                    continue
                if n == width:
                    return 1, ball_key, ball_depth, ball_len
                node_atom[n], node_key[n], node_depth[n] = va, vk, node_depth[u] + 1
                node_next[n] = atom_head[va] if atom_stamp[va] == a else -1
                atom_stamp[va], atom_head[va] = a, n
                n += 1
        if base + n > total:
            return 2, ball_key, ball_depth, ball_len
        ball_len[a - first] = n
        for w in range(n):
            node_key[w] += node_atom[w] * _KEY_ATOM
        if n <= 32:  # insertion sort
            for w in range(n):
                entry, depth = node_key[w], node_depth[w]
                v = base + w
                while v > base and ball_key[v - 1] > entry:
                    ball_key[v] = ball_key[v - 1]
                    ball_depth[v] = ball_depth[v - 1]
                    v -= 1
                ball_key[v] = entry
                ball_depth[v] = depth
        else:
            order = np.argsort(node_key[:n])
            for w in range(n):
                ball_key[base + w] = node_key[order[w]]
                ball_depth[base + w] = node_depth[order[w]]
        base += n
    return 0, ball_key[:base], ball_depth[:base], ball_len


@numba.njit(cache=True, inline="always")
def _meet(a, b, offset, limit, ball_ptr, ball_len, ball_key, ball_depth):
    """Whether the balls around (a, image 0) and (b, image key offset) share a node whose
    distances to the two add up to at most limit."""
    i, i_end = ball_ptr[a], ball_ptr[a] + ball_len[a]
    j, j_end = ball_ptr[b], ball_ptr[b] + ball_len[b]
    while i < i_end and j < j_end:
        ka = ball_key[i]
        kb = ball_key[j] + offset
        if ka < kb:
            i += 1
        elif ka > kb:
            j += 1
        else:
            if ball_depth[i] + ball_depth[j] <= limit:
                return True
            i += 1
            j += 1
    return False


@numba.njit(cache=True)
def _keep_ring(ring_atom, ring_key, size, root, indptr, neighbor, shift_key, radius, ball_ptr, ball_len, near_key,
               near_depth, stamps, ball_stamp, ball_head, ball_atom, ball_key, ball_depth, ball_next):  # fmt: skip
    """Whether a candidate of the search from root is a shortest-path ring counted from this
    root: 1 yes, 0 no, -1 when the ball buffers are too small."""
    for t in range(1, size):
        if ring_atom[t] == root:
            if not _root_is_canonical_start(ring_atom, ring_key, size, root):
                return 0
            break
    half = size // 2
    # even rings: each member and its opposite; odd rings: each member and the first of its two opposites
    for m in range(half if size % 2 == 0 else size):
        o = (m + half) % size
        offset = ring_key[o] - ring_key[m]
        if half - 1 <= 2 * radius:
            if _meet(ring_atom[m], ring_atom[o], offset, half - 1, ball_ptr, ball_len, near_key, near_depth):
                return 0
            continue
        near = _within(ring_atom[m], ring_atom[o], offset, half - 1, indptr, neighbor, shift_key, stamps, ball_stamp,
                       ball_head, ball_atom, ball_key, ball_depth, ball_next)  # fmt: skip
        if near != 0:
            return -1 if near < 0 else 0
    return 1


@numba.njit(cache=True, nogil=True)
def _sp_kernel(indptr, neighbor, shift_key, max_size, store, capacity, first_root, last_root, radius, ball_ptr,
               ball_len, near_key, near_depth):  # fmt: skip
    """Shortest-path rings whose lowest atom is one of first_root..last_root-1. Returns
    status (0 done, k>0: capacity[k-1] too small), ring counts by size, the stored rings
    (size then atoms in canonical order) and their number."""
    n_atoms = len(indptr) - 1
    node_capacity, path_capacity, ring_capacity = capacity[0], capacity[1], capacity[2]
    node_atom = np.empty(node_capacity, np.int64)
    node_key = np.empty(node_capacity, np.int64)
    node_depth = np.empty(node_capacity, np.int64)
    node_next = np.empty(node_capacity, np.int64)  # next node of the same atom
    pred_head = np.empty(node_capacity, np.int64)  # linked lists of predecessors
    pred_node = np.empty(4 * node_capacity, np.int64)
    pred_next = np.empty(4 * node_capacity, np.int64)
    level_edge = np.empty((4 * node_capacity, 2), np.int64)  # bonds within one depth
    atom_stamp = np.full(n_atoms, -1, np.int64)
    atom_head = np.empty(n_atoms, np.int64)
    paths_a = np.empty((path_capacity, max_size + 1), np.int64)
    paths_b = np.empty((path_capacity, max_size + 1), np.int64)
    cursor = np.empty(max_size + 1, np.int64)
    ring_atom = np.empty(max_size + 1, np.int64)
    ring_key = np.empty(max_size + 1, np.int64)
    ring_image = np.empty((max_size + 1, 3), np.int64)
    canon = np.empty(max_size + 1, np.int64)
    stamps = np.zeros(2, np.int64)
    ball_stamp = np.full((2, n_atoms if radius < (max_size // 2) // 2 else 1), -1, np.int64)
    ball_head = np.empty(ball_stamp.shape, np.int64)
    ball_atom = np.empty((2, node_capacity), np.int64)
    ball_key = np.empty((2, node_capacity), np.int64)
    ball_depth = np.empty((2, node_capacity), np.int64)
    ball_next = np.empty((2, node_capacity), np.int64)
    counts = np.zeros(max_size + 1, np.int64)
    stored = np.empty((ring_capacity if store else 1, 1 + max_size), np.int64)
    n_stored, stamp = 0, 0
    depth_limit = max_size // 2
    for root in range(first_root, last_root):
        # --- breadth-first search from the root over (atom, image) nodes of atoms >= root
        stamp += 1
        node_atom[0] = root
        node_key[0] = 0
        node_depth[0] = 0
        node_next[0] = -1
        pred_head[0] = -1
        atom_stamp[root] = stamp
        atom_head[root] = 0
        n_nodes, n_preds, n_level_edges = 1, 0, 0
        head = 0
        while head < n_nodes:
            u = head
            head += 1
            du = node_depth[u]
            ua = node_atom[u]
            if du == depth_limit and 2 * du + 1 > max_size:
                continue
            for e in range(indptr[ua], indptr[ua + 1]):
                va = neighbor[e]
                if va < root:
                    continue
                vk = node_key[u] + shift_key[e]
                v = _node_find(va, vk, stamp, atom_stamp, atom_head, node_key, node_next)
                if v < 0:
                    if du == depth_limit:
                        continue
                    if n_nodes == node_capacity:
                        return 1, counts, stored, 0
                    v = n_nodes
                    n_nodes += 1
                    node_atom[v] = va
                    node_key[v] = vk
                    node_depth[v] = du + 1
                    pred_head[v] = -1
                    node_next[v] = atom_head[va] if atom_stamp[va] == stamp else -1
                    atom_stamp[va] = stamp
                    atom_head[va] = v
                if node_depth[v] == du + 1:
                    if n_preds == len(pred_node):
                        return 1, counts, stored, 0
                    pred_node[n_preds] = u
                    pred_next[n_preds] = pred_head[v]
                    pred_head[v] = n_preds
                    n_preds += 1
                elif node_depth[v] == du and u < v and 2 * du + 1 <= max_size:
                    if n_level_edges == len(level_edge):
                        return 1, counts, stored, 0
                    level_edge[n_level_edges, 0] = u
                    level_edge[n_level_edges, 1] = v
                    n_level_edges += 1
        # --- candidates: even rings close two internally disjoint shortest paths to one node
        # (pick < n_nodes), odd rings two to the ends of a bond within one depth
        for pick in range(n_nodes + n_level_edges):
            if pick < n_nodes:
                w1 = pick
                k = node_depth[w1]
                if k < 2 or 2 * k > max_size or pred_head[w1] < 0 or pred_next[pred_head[w1]] < 0:
                    continue
                w2 = w1
                size = 2 * k
            else:
                w1, w2 = level_edge[pick - n_nodes, 0], level_edge[pick - n_nodes, 1]
                k = node_depth[w1]
                size = 2 * k + 1
            n_a = _shortest_paths(w1, node_depth, pred_head, pred_node, pred_next, paths_a, cursor)
            if w2 == w1:
                n_b = n_a
                paths = paths_a
            else:
                n_b = _shortest_paths(w2, node_depth, pred_head, pred_node, pred_next, paths_b, cursor)
                paths = paths_b
            if n_a < 0 or n_b < 0:
                return 2, counts, stored, 0
            for p in range(n_a):
                for q in range(p + 1 if w2 == w1 else 0, n_b):
                    disjoint = True
                    for t in range(1, k):
                        if paths_a[p, t] == paths[q, t]:
                            disjoint = False
                            break
                    if not disjoint:
                        continue
                    for t in range(k + 1):
                        ring_atom[t] = node_atom[paths_a[p, t]]
                        ring_key[t] = node_key[paths_a[p, t]]
                    for t in range(1, k + 1 if w2 != w1 else k):
                        ring_atom[size - t] = node_atom[paths[q, t]]
                        ring_key[size - t] = node_key[paths[q, t]]
                    keep = _keep_ring(ring_atom, ring_key, size, root, indptr, neighbor, shift_key, radius, ball_ptr,
                                      ball_len, near_key, near_depth, stamps, ball_stamp, ball_head, ball_atom,
                                      ball_key, ball_depth, ball_next)  # fmt: skip
                    if keep < 0:
                        return 1, counts, stored, 0
                    if keep == 0:
                        continue
                    counts[size] += 1
                    if store:
                        if n_stored == ring_capacity:
                            return 3, counts, stored, 0
                        for t in range(size):
                            _key_image(ring_key[t], ring_image[t])
                        _canonical(ring_atom, ring_image, size, canon)
                        stored[n_stored, 0] = size
                        stored[n_stored, 1 : 1 + size] = canon[:size]
                        n_stored += 1
    return 0, counts, stored, n_stored
