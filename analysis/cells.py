"""Cell-list kernels (numba) behind every pair and bond analysis in this package.

Written by hand because no trusted library fuses the neighbour search with the histograms:
vesin and matscipy return pair arrays that then need sorting and, for bond angles, arrays of
all pairs of bonds (OVITO does the fusion internally in C++). Here g(r) and bond counts walk
the cells of each work item (a block of bins of one frame) and histogram as they go, keeping
only their own accumulators; the neighbour list, bond angles and ALTBC find each bond once
over half stencils and lay both directions out per centre (one bond list, linear in N), from
which angles are histogrammed centre by centre: no array of pairs of bonds. A batch of frames
is split into (frame, block) work items shared among threads (the kernels release the GIL),
so both cores work on one large frame as on a trajectory of small ones, and the next frames
can be read while a batch runs.

Geometry: positions are wrapped into the cell, which is split into n_c bins along each
lattice vector, each no thinner than cutoff / SUBDIVISION along its normal, and an atom
looks at the (2 k_c + 1)³ bins around its own, k_c = ceil(cutoff n_c / h_c) (h_c: cell
height), each with the lattice shift of its wrapped bin (one stencil builder, ``_stencil``,
for every kernel: wrapping from per-frame tables, neighbouring bins with one shift scanned as
one atom range). Every periodic image within the cutoff is found once; callers check cutoff ≤
half the shortest cell height, so an atom never meets its own image and no pair has two
images in range.
"""

from __future__ import annotations

import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

#: bins per cutoff along the three cell directions for long cutoffs (g(r)); finer bins along the
#: third direction add no loop (a z column without wrap is one atom range) and shrink the
#: volume scanned (bonds keep one bin per cutoff: there, more bins cost more stencils)
SUBDIVISION_LONG = (2, 2, 4)
#: atoms per work item in large frames
BLOCK_ATOMS = 512
#: atoms (summed over frames) per thread below which a job runs in the calling thread
MIN_ATOMS_PER_THREAD = 2000


@dataclass(frozen=True)
class Batch:
    """Frames of one system prepared for the kernels (all arrays C-contiguous).

    wrapped: (B, N, 3) positions wrapped into the cell (Å); wrap: (B, N, 3) integer lattice
    translations that wrapped them (wrapped = positions + wrap @ cell); cells: (B, 3, 3) rows
    = lattice vectors (Å); fractional: (B, N, 3) fractional coordinates in [0, 1).
    """

    wrapped: np.ndarray
    wrap: np.ndarray
    cells: np.ndarray
    fractional: np.ndarray


def prepare(positions: np.ndarray, cells: np.ndarray) -> Batch:
    """Wrap (B, N, 3) positions (Å) into their (B, 3, 3) cells."""
    positions = np.ascontiguousarray(positions, dtype=float)
    cells = np.ascontiguousarray(cells, dtype=float)
    fractional = np.matmul(positions, np.linalg.inv(cells))
    floor = np.floor(fractional)
    fractional = fractional - floor
    fractional[fractional >= 1.0] = 0.0  # -1e-17 wraps to 1.0 in floating point
    wrapped = np.matmul(fractional, cells)
    return Batch(wrapped=wrapped, wrap=(-floor).astype(np.int64), cells=cells, fractional=fractional)


def heights(cells: np.ndarray) -> np.ndarray:
    """(B, 3) distances between opposite faces (Å) of (B, 3, 3) cells: 1 / |reciprocal vector|
    (one batched inverse; np.cross costs more than the neighbour search of a small frame)."""
    return 1.0 / np.linalg.norm(np.linalg.inv(cells), axis=1)


def grid(cells: np.ndarray, n_atoms: int, cutoff: float, subdivision) -> tuple[np.ndarray, np.ndarray]:
    """Bins per direction (B, 3), ``subdivision`` (per direction) per cutoff (Å) and at most ~2
    per atom times their product, and stencil reach (B, 3)."""
    h = heights(cells)
    subdivision = np.asarray(subdivision)
    n = np.maximum(1, np.floor(h * subdivision / cutoff)).astype(np.int64)
    cap = np.maximum(1, np.round(subdivision * (2.0 * n_atoms) ** (1.0 / 3.0))).astype(np.int64)
    n = np.minimum(n, cap)
    reach = np.ceil(cutoff * n / h).astype(np.int64)
    return n, reach


def threads() -> int:
    """Threads for the kernels: the CPUs this process may use (``PHASEFIRE_THREADS`` overrides)."""
    return max(1, int(os.environ.get("PHASEFIRE_THREADS", 0)) or len(os.sched_getaffinity(0)))


def blocks_per_frame(n_atoms: int, n_frames: int) -> int:
    """Work items per frame: enough blocks to occupy every thread, one per frame for small frames."""
    if n_frames >= 2 * threads():
        return 1
    return max(1, min(4 * threads(), -(-n_atoms // BLOCK_ATOMS)))


_POOL: ThreadPoolExecutor | None = None


def _in_threads(kernel, calls: list[tuple]) -> list:
    """``kernel(*args)`` for every args of calls, one thread each (plain threads rather than an
    OpenMP team, which stalls at every barrier when other processes load the machine)."""
    global _POOL
    if len(calls) == 1:
        return [kernel(*calls[0])]
    if _POOL is None or _POOL._max_workers < len(calls):
        _POOL = ThreadPoolExecutor(len(calls), thread_name_prefix="phasefire-cells")
    futures = [_POOL.submit(kernel, *args) for args in calls]
    return [future.result() for future in futures]


def _item_bounds(n_items: int, n_atoms_total: int) -> list[int]:
    """Work items split among threads, as boundaries; one range for a small job."""
    n_threads = min(threads(), n_items)
    if n_threads == 1 or n_atoms_total < MIN_ATOMS_PER_THREAD * 2:
        return [0, n_items]
    return np.linspace(0, n_items, n_threads + 1).astype(int).tolist()


def run_items(kernel, args: tuple, n_items: int, n_atoms_total: int):
    """Run ``kernel(*args, first, last)`` over work items split among threads (the kernels release
    the GIL) and sum the per-frame outputs."""
    bounds = _item_bounds(n_items, n_atoms_total)
    parts = _in_threads(kernel, [(*args, bounds[k], bounds[k + 1]) for k in range(len(bounds) - 1)])
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], tuple):
        return tuple(sum(values[1:], values[0]) for values in zip(*parts))
    return sum(parts[1:], parts[0])


# ----------------------------------------------------------------------------- kernels


@numba.njit(cache=True, nogil=True, inline="always")
def _sort_frame(fractional, wrapped, codes, n_bins, order, start, atom_bin, spos, scode):
    """Counting sort of one frame's atoms by bin: order (atoms by bin), start (bin offsets),
    spos/scode (positions/species by bin); atom_bin: scratch for the bin of every atom."""
    nx, ny, nz = n_bins[0], n_bins[1], n_bins[2]
    n_cells = nx * ny * nz
    start[: n_cells + 1] = 0
    for a in range(fractional.shape[0]):
        cx = min(int(fractional[a, 0] * nx), nx - 1)
        cy = min(int(fractional[a, 1] * ny), ny - 1)
        cz = min(int(fractional[a, 2] * nz), nz - 1)
        atom_bin[a] = (cx * ny + cy) * nz + cz
        start[atom_bin[a] + 1] += 1
    for c in range(n_cells):
        start[c + 1] += start[c]
    fill = start[:n_cells].copy()
    for a in range(fractional.shape[0]):
        s = fill[atom_bin[a]]
        order[s] = a
        spos[s, 0], spos[s, 1], spos[s, 2] = wrapped[a, 0], wrapped[a, 1], wrapped[a, 2]
        scode[s] = codes[a]
        fill[atom_bin[a]] += 1


@numba.njit(cache=True, nogil=True)
def _sort_batch(fractional, wrapped, codes, n_bins, max_cells):
    n_frames, n_atoms = fractional.shape[0], fractional.shape[1]
    order = np.empty((n_frames, n_atoms), np.int64)
    start = np.empty((n_frames, max_cells + 1), np.int64)
    atom_bin = np.empty(n_atoms, np.int64)
    spos = np.empty((n_frames, n_atoms, 3))
    scode = np.empty((n_frames, n_atoms), np.int64)
    for b in range(n_frames):
        _sort_frame(fractional[b], wrapped[b], codes, n_bins[b], order[b], start[b], atom_bin, spos[b], scode[b])
    return order, start, spos, scode


@numba.njit(cache=True, nogil=True)
def _wrap_table(n, k):
    """For bin c (0..n-1) and offset d (-k..k): the wrapped bin and the lattice shift, (n, 2k+1, 2)
    (Python floor division, computed once per frame instead of per stencil)."""
    table = np.empty((n, 2 * k + 1, 2), np.int64)
    for c in range(n):
        for d in range(-k, k + 1):
            s = (c + d) // n
            table[c, d + k, 0] = c + d - s * n
            table[c, d + k, 1] = s
    return table


@numba.njit(cache=True, nogil=True)
def _wrap_tables(n_bins, reach):
    """``_wrap_table`` of each cell direction for one frame's bins and reach."""
    return _wrap_table(n_bins[0], reach[0]), _wrap_table(n_bins[1], reach[1]), _wrap_table(n_bins[2], reach[2])


@numba.njit(cache=True, nogil=True, inline="always")
def _bin_coordinates(cell, n_bins):
    """Bin index → its position (cx, cy, cz) along the three cell directions."""
    return cell // (n_bins[1] * n_bins[2]), (cell // n_bins[2]) % n_bins[1], cell % n_bins[2]


@numba.njit(cache=True, nogil=True, inline="always")
def _next_bin(cx, cy, cz, n_bins):
    """Position of the next bin index (kernels walk bins in order without dividing per bin)."""
    cz += 1
    if cz == n_bins[2]:
        cz = 0
        cy += 1
        if cy == n_bins[1]:
            cy = 0
            cx += 1
    return cx, cy, cz


@numba.njit(cache=True, nogil=True, inline="always")
def _push(n, t0, t1, sx, sy, sz, cells, sten_range, sten_shift):
    """Add atoms t0..t1-1 with lattice shift (sx, sy, sz) as stencil entry n, or extend entry n - 1
    when it ends at t0 with the same shift (same atoms, same order); returns the entry count."""
    if (
        n > 0
        and sten_range[n - 1, 1] == t0
        and sten_range[n - 1, 2] == sx
        and sten_range[n - 1, 3] == sy
        and sten_range[n - 1, 4] == sz
    ):
        sten_range[n - 1, 1] = t1
        return n
    sten_range[n, 0], sten_range[n, 1] = t0, t1
    sten_range[n, 2], sten_range[n, 3], sten_range[n, 4] = sx, sy, sz
    for c in range(3):
        sten_shift[n, c] = sx * cells[0, c] + sy * cells[1, c] + sz * cells[2, c]
    return n + 1


@numba.njit(cache=True, nogil=True, inline="always")
def _stencil(cx, cy, cz, n_bins, reach, cells, start, tx, ty, tz, half, sten_range, sten_shift):
    """Neighbour bins of bin (cx, cy, cz) as entries of sten_range (first and end atom in sorted order,
    lattice shift) and sten_shift (that shift in Å), bins visited in increasing offset, wrapping
    looked up in the ``_wrap_table``s tx, ty, tz; bins with one shift whose atoms follow one
    another form one entry (a z column without wrap is one atom range). half: only offsets
    lexicographically ≥ 0, the first entry starting with the bin's own atoms. Returns the number
    of entries."""
    ny, nz = n_bins[1], n_bins[2]
    kx, ky, kz = reach[0], reach[1], reach[2]
    n = 0
    for dx in range(kx if half else 0, 2 * kx + 1):
        wx, sx = tx[cx, dx, 0], tx[cx, dx, 1]
        for dy in range(ky if half and dx == kx else 0, 2 * ky + 1):
            wy, sy = ty[cy, dy, 0], ty[cy, dy, 1]
            base = (wx * ny + wy) * nz
            z0 = kz if half and dx == kx and dy == ky else 0
            if 0 <= cz + z0 - kz and cz + kz < nz:  # no wrap along z: one atom range
                t0, t1 = start[base + cz + z0 - kz], start[base + cz + kz + 1]
                if t0 < t1:
                    n = _push(n, t0, t1, sx, sy, 0, cells, sten_range, sten_shift)
                continue
            for dz in range(z0, 2 * kz + 1):
                wz, sz = tz[cz, dz, 0], tz[cz, dz, 1]
                t0, t1 = start[base + wz], start[base + wz + 1]
                if t0 < t1:
                    n = _push(n, t0, t1, sx, sy, sz, cells, sten_range, sten_shift)
    return n


@numba.njit(cache=True, nogil=True, inline="always")
def _work_item(item, n_blocks, n_bins):
    """Work item ``item`` = frame * n_blocks + block of bins: (frame, block, its first bin, the bin
    after its last)."""
    b = item // n_blocks
    block = item % n_blocks
    n_cells = n_bins[b, 0] * n_bins[b, 1] * n_bins[b, 2]
    return b, block, block * n_cells // n_blocks, (block + 1) * n_cells // n_blocks


@numba.njit(cache=True, nogil=True, inline="always")
def _stencil_buffers(reach):
    """Empty (ranges, shifts) arrays for the largest stencil ``_stencil`` builds with this reach."""
    size = (2 * reach[0] + 1) * (2 * reach[1] + 1) * (2 * reach[2] + 1)
    return np.empty((size, 5), np.int64), np.empty((size, 3))


@numba.njit(cache=True, nogil=True)
def _pair_histogram(spos, scode, cells, pair_index, n_pairs, r_max, bins, n_bins, reach, start, n_blocks, first, last):
    """Unordered pairs closer than r_max per (frame, pair type × radial bin), (B, n_pairs * bins),
    from work items first..last-1 (item = frame * n_blocks + block of bins).

    Each bin meets the bins of a half stencil; in its first entry (own atoms first) only later atoms."""
    n_frames = spos.shape[0]
    out = np.zeros((n_frames, n_pairs * bins), np.int64)
    r2_max = r_max * r_max
    scale = bins / r_max
    tx, ty, tz = _wrap_tables(n_bins[first // n_blocks], reach[first // n_blocks])
    for item in range(first, last):
        b, block, c0, c1 = _work_item(item, n_blocks, n_bins)
        sten_range, sten_shift = _stencil_buffers(reach[b])
        if block == 0 and item > first:  # a new frame: its bins and reach
            tx, ty, tz = _wrap_tables(n_bins[b], reach[b])
        row = out[b]
        cx, cy, cz = _bin_coordinates(c0, n_bins[b])
        for cell in range(c0, c1):
            if cell > c0:
                cx, cy, cz = _next_bin(cx, cy, cz, n_bins[b])
            a0, a1 = start[b, cell], start[b, cell + 1]
            if a0 == a1:
                continue
            n_sten = _stencil(
                cx, cy, cz, n_bins[b], reach[b], cells[b], start[b], tx, ty, tz, True, sten_range, sten_shift
            )
            for e in range(n_sten):
                t0, t1 = sten_range[e, 0], sten_range[e, 1]
                px, py, pz = sten_shift[e, 0], sten_shift[e, 1], sten_shift[e, 2]
                for s in range(a0, a1):
                    xa, ya, za = spos[b, s, 0] - px, spos[b, s, 1] - py, spos[b, s, 2] - pz
                    base = pair_index[scode[b, s]]
                    for t in range(s + 1 if e == 0 else t0, t1):
                        ux = spos[b, t, 0] - xa
                        uy = spos[b, t, 1] - ya
                        uz = spos[b, t, 2] - za
                        d2 = ux * ux + uy * uy + uz * uz
                        if d2 < r2_max:
                            k = int(math.sqrt(d2) * scale)
                            if k < bins:
                                row[base[scode[b, t]] * bins + k] += 1
    return out


@numba.njit(cache=True)
def _binned_angle(c, bins, angle_min):
    """Reference binning of a bond pair with cosine c, by arccos: (bin of its angle over 0–180° in
    ``bins`` bins, whether the angle exceeds angle_min (°))."""
    angle = math.acos(min(1.0, max(-1.0, c))) * (180.0 / math.pi)
    return min(int(angle * (bins / 180.0)), bins - 1), angle > angle_min


@numba.njit(cache=True, inline="always")
def _is_wide(c, k, bins, angle_min):
    """Whether cosine c has a ``_binned_angle`` bin ≥ k (k ≥ 1) or, for k = 0, an angle above angle_min."""
    b, wide = _binned_angle(c, bins, angle_min)
    return b >= k if k > 0 else wide


@numba.njit(cache=True)
def _last_cosine(k, bins, angle_min):
    """Largest cosine that ``_is_wide`` (2 when all of [-1, 1] are, -2 when none), by bisection down
    to adjacent doubles (the predicate only turns false once, as c grows)."""
    if _is_wide(1.0, k, bins, angle_min):
        return 2.0
    if not _is_wide(-1.0, k, bins, angle_min):
        return -2.0
    lo, hi = -1.0, 1.0
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            return lo
        if _is_wide(mid, k, bins, angle_min):
            lo = mid
        else:
            hi = mid


@functools.lru_cache(maxsize=16)
def cosine_bounds(bins: int, angle_min: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Angle binning without an arccos per bond pair (written by hand: it reproduces
    ``_binned_angle`` exactly, bin edges included, since arccos and both products are monotonic).

    Returns bound (bins + 1): the bin of cosine c is the k with bound[k + 1] < c ≤ bound[k]; start
    (8 × bins): a first guess of that bin for each cell of a uniform grid over [-1, 1]; and the
    largest cosine of an angle above angle_min (°)."""
    bound = np.array([np.inf] + [_last_cosine(k, bins, angle_min) for k in range(1, bins)] + [-np.inf])
    grid = -1.0 + (np.arange(8 * bins) + 0.5) / (4 * bins)
    start = np.array([_binned_angle(c, bins, angle_min)[0] for c in grid], dtype=np.int64)
    return bound, start, _last_cosine(0, bins, angle_min)


@numba.njit(cache=True, nogil=True, inline="always")
def _angle_bin(c, bound, start):
    """Bin of cosine c (see ``cosine_bounds``): from the guess of its grid cell, a step or two."""
    k = start[min(int((c + 1.0) * (0.5 * start.shape[0])), start.shape[0] - 1)]
    while c <= bound[k + 1]:
        k += 1
    while c > bound[k]:
        k -= 1
    return k


@numba.njit(cache=True, nogil=True)
def _bond_counts(spos, scode, cells, n_species, cutoff2, largest, n_bins, reach, start, n_blocks, first, last):
    """Bonds per (centre species, neighbour species) per frame (B, S*S) from work items
    first..last-1 (frame * n_blocks + block of bins): each bond once over half stencils,
    counted for both ends."""
    n_frames = spos.shape[0]
    cn = np.zeros((n_frames, n_species * n_species), np.int64)
    largest2 = largest * largest
    tx, ty, tz = _wrap_tables(n_bins[first // n_blocks], reach[first // n_blocks])
    for item in range(first, last):
        b, block, c0, c1 = _work_item(item, n_blocks, n_bins)
        sten_range, sten_shift = _stencil_buffers(reach[b])
        if block == 0 and item > first:  # a new frame: its bins and reach
            tx, ty, tz = _wrap_tables(n_bins[b], reach[b])
        my_cn = cn[b]
        cx, cy, cz = _bin_coordinates(c0, n_bins[b])
        for cell in range(c0, c1):
            if cell > c0:
                cx, cy, cz = _next_bin(cx, cy, cz, n_bins[b])
            a0, a1 = start[b, cell], start[b, cell + 1]
            if a0 == a1:
                continue
            n_sten = _stencil(
                cx, cy, cz, n_bins[b], reach[b], cells[b], start[b], tx, ty, tz, True, sten_range, sten_shift
            )
            for e in range(n_sten):
                px, py, pz = sten_shift[e, 0], sten_shift[e, 1], sten_shift[e, 2]
                for s in range(a0, a1):
                    xa, ya, za = spos[b, s, 0] - px, spos[b, s, 1] - py, spos[b, s, 2] - pz
                    ca = scode[b, s]
                    for t in range(s + 1 if e == 0 else sten_range[e, 0], sten_range[e, 1]):
                        ux = spos[b, t, 0] - xa
                        uy = spos[b, t, 1] - ya
                        uz = spos[b, t, 2] - za
                        d2 = ux * ux + uy * uy + uz * uz
                        ct = scode[b, t]
                        if d2 < largest2 and d2 < cutoff2[ca, ct]:
                            my_cn[ca * n_species + ct] += 1
                            my_cn[ct * n_species + ca] += 1
    return cn


@numba.njit(cache=True, nogil=True)
def _bond_pairs(spos, scode, cells, cutoff2, largest, n_bins, reach, start, n_blocks, first, last):
    """Bonds seen from the bins of work items first..last-1 (frame * n_blocks + block) over half
    stencils, each bond once: (frame, s, t), atoms in cell-list order with s in those bins, and
    the lattice shift (int32) of t's bin as seen from s's (the bond is spos[t] + shift @ cell −
    spos[s], wrapped positions); and bonds per atom of each frame (B, N) among these."""
    n_frames, n_atoms = spos.shape[0], spos.shape[1]
    largest2 = largest * largest
    counts = np.zeros((n_frames, n_atoms), np.int64)
    cap = 3 * n_atoms * (last - first) // n_blocks + 64  # ~2.3 bonds per atom in amorphous Sb2Se3
    pair = np.empty((cap, 3), np.int64)
    image = np.empty((cap, 3), np.int32)
    total = 0
    tx, ty, tz = _wrap_tables(n_bins[first // n_blocks], reach[first // n_blocks])
    for item in range(first, last):
        b, block, c0, c1 = _work_item(item, n_blocks, n_bins)
        sten_range, sten_shift = _stencil_buffers(reach[b])
        if block == 0 and item > first:  # a new frame: its bins and reach
            tx, ty, tz = _wrap_tables(n_bins[b], reach[b])
        pos, code, start_b, my_counts = spos[b], scode[b], start[b], counts[b]
        cx, cy, cz = _bin_coordinates(c0, n_bins[b])
        for cell in range(c0, c1):
            if cell > c0:
                cx, cy, cz = _next_bin(cx, cy, cz, n_bins[b])
            a0, a1 = start_b[cell], start_b[cell + 1]
            if a0 == a1:
                continue
            n_sten = _stencil(
                cx, cy, cz, n_bins[b], reach[b], cells[b], start_b, tx, ty, tz, True, sten_range, sten_shift
            )
            candidates = 0
            for e in range(n_sten):
                candidates += sten_range[e, 1] - sten_range[e, 0]
            if total + (a1 - a0) * candidates > cap:
                cap = 2 * (total + (a1 - a0) * candidates)
                grown_pair = np.empty((cap, 3), np.int64)
                grown_pair[:total] = pair[:total]
                pair = grown_pair
                grown_image = np.empty((cap, 3), np.int32)
                grown_image[:total] = image[:total]
                image = grown_image
            for s in range(a0, a1):
                xa, ya, za = pos[s, 0], pos[s, 1], pos[s, 2]
                row = cutoff2[code[s]]
                for e in range(n_sten):
                    px, py, pz = sten_shift[e, 0] - xa, sten_shift[e, 1] - ya, sten_shift[e, 2] - za
                    for t in range(s + 1 if e == 0 else sten_range[e, 0], sten_range[e, 1]):
                        ux = pos[t, 0] + px
                        uy = pos[t, 1] + py
                        uz = pos[t, 2] + pz
                        d2 = ux * ux + uy * uy + uz * uz
                        if d2 < largest2 and d2 < row[code[t]]:
                            pair[total, 0], pair[total, 1], pair[total, 2] = b, s, t
                            image[total, 0], image[total, 1], image[total, 2] = (
                                sten_range[e, 2],
                                sten_range[e, 3],
                                sten_range[e, 4],
                            )
                            my_counts[s] += 1
                            my_counts[t] += 1
                            total += 1
    return pair[:total], image[:total], counts


@numba.njit(cache=True, nogil=True)
def _scatter_bonds(pair, image, slot, swrap, label, centre, neighbor, shift):
    """Both directions of every bond (b = 0, s, t) of ``_bond_pairs`` to its centre's next free
    place (slot: per atom, advanced as it fills): neighbour label[t] at centre s with the lattice
    shift S such that the bond is r_t + S @ cell − r_s (frame positions; swrap: the wrap of
    every atom in cell-list order), label[s] with −S at centre t; centre (when not empty) gets
    the centres' labels."""
    for m in range(pair.shape[0]):
        s, t = pair[m, 1], pair[m, 2]
        p, q = slot[s], slot[t]
        slot[s] += 1
        slot[t] += 1
        neighbor[p], neighbor[q] = label[t], label[s]
        for c in range(3):
            shift[p, c] = swrap[t, c] + image[m, c] - swrap[s, c]
            shift[q, c] = -shift[p, c]
        if centre.shape[0]:
            centre[p], centre[q] = label[s], label[t]


@numba.njit(cache=True, nogil=True)
def _scatter_vectors(pair, image, slot, spos, scode, cells, unit, partner):
    """Both directions of every bond (b, s, t) of ``_bond_pairs`` to its centre's next free place
    (slot: per frame * N + atom, advanced as it fills): unit vector and length (Å) (unit (n, 4)),
    ± those from s to t (computed as the search did), and the species of the other atom."""
    n_atoms = scode.shape[1]
    for m in range(pair.shape[0]):
        b, s, t = pair[m, 0], pair[m, 1], pair[m, 2]
        p, q = slot[b * n_atoms + s], slot[b * n_atoms + t]
        slot[b * n_atoms + s] += 1
        slot[b * n_atoms + t] += 1
        d2 = 0.0
        for c in range(3):
            lattice = image[m, 0] * cells[b, 0, c] + image[m, 1] * cells[b, 1, c] + image[m, 2] * cells[b, 2, c]
            unit[p, c] = spos[b, t, c] + (lattice - spos[b, s, c])
            d2 += unit[p, c] * unit[p, c]
        r = math.sqrt(d2)
        for c in range(3):
            unit[p, c] /= r
            unit[q, c] = -unit[p, c]
        unit[p, 3] = unit[q, 3] = r
        partner[p], partner[q] = scode[b, t], scode[b, s]


@numba.njit(cache=True, nogil=True)
def _angle_histograms(
    scode, n_species, n_bins, start, n_blocks, indptr, unit, partner, largest,
    angle_bins, do_angles, bound, start_bin, wide_cosine, r_min, altbc_bins, do_altbc, first, last,
):  # fmt: skip
    """Per frame, from the bonds of every centre (indptr over frame * N + atom in cell-list order,
    unit vectors and lengths, partner species; ``_scatter_vectors``) of the bins of work items
    first..last-1 (frame * n_blocks + block): bonds per (centre species, neighbour species)
    (B, S*S); bond angles per (centre species, angle bin over 0–180°) (B, S*angle_bins), each
    angle once; and, for bond pairs with cosine ≤ wide_cosine, the symmetric (r1, r2) histogram
    from r_min to largest (B, altbc_bins²) with the sum, sum of squares and number of
    |r1 − r2| / (r1 + r2) (B, 3)."""
    n_frames, n_atoms = scode.shape[0], scode.shape[1]
    cn = np.zeros((n_frames, n_species * n_species), np.int64)
    adf = np.zeros((n_frames, n_species * angle_bins if do_angles else 1), np.int64)
    alt = np.zeros((n_frames, altbc_bins * altbc_bins if do_altbc else 1), np.int64)
    moments = np.zeros((n_frames, 3))
    r_scale = altbc_bins / (largest - r_min) if do_altbc else 1.0
    for item in range(first, last):
        b, _, c0, c1 = _work_item(item, n_blocks, n_bins)
        my_cn, my_adf, my_alt = cn[b], adf[b], alt[b]
        m0, m1, m2 = 0.0, 0.0, 0.0
        for s in range(start[b, c0], start[b, c1]):
            ca = scode[b, s]
            p0, p1 = indptr[b * n_atoms + s], indptr[b * n_atoms + s + 1]
            for p in range(p0, p1):
                my_cn[ca * n_species + partner[p]] += 1
            for p in range(p0, p1):
                for q in range(p + 1, p1):
                    c = unit[p, 0] * unit[q, 0] + unit[p, 1] * unit[q, 1] + unit[p, 2] * unit[q, 2]
                    if do_angles:
                        my_adf[ca * angle_bins + _angle_bin(c, bound, start_bin)] += 1
                    if do_altbc and c <= wide_cosine:
                        r1, r2 = unit[p, 3], unit[q, 3]
                        x = abs(r2 - r1) / (r2 + r1)
                        m0 += x
                        m1 += x * x
                        m2 += 1.0
                        b1 = math.floor((r1 - r_min) * r_scale)
                        b2 = math.floor((r2 - r_min) * r_scale)
                        if 0 <= b1 < altbc_bins and 0 <= b2 < altbc_bins:
                            my_alt[int(b1) * altbc_bins + int(b2)] += 1
                            my_alt[int(b2) * altbc_bins + int(b1)] += 1
        moments[b, 0] += m0
        moments[b, 1] += m1
        moments[b, 2] += m2
    return cn, adf, alt, moments


# ----------------------------------------------------------------------------- drivers


def _sorted(batch: Batch, codes: np.ndarray, cutoff: float, subdivision):
    n_bins, reach = grid(batch.cells, batch.wrapped.shape[1], cutoff, subdivision)
    max_cells = int(np.prod(n_bins, axis=1).max())
    order, start, spos, scode = _sort_batch(batch.fractional, batch.wrapped, codes, n_bins, max_cells)
    return n_bins, reach, order, start, spos, scode


def pair_histogram(batch: Batch, codes: np.ndarray, pair_index: np.ndarray, r_max: float, bins: int) -> np.ndarray:
    """Unordered pairs closer than r_max (Å) per frame, pair type (``pair_index[a, b]``) and
    radial bin of width r_max / bins: (B, n_pair_types, bins) int64."""
    n_bins, reach, _, start, spos, scode = _sorted(batch, codes, r_max, SUBDIVISION_LONG)
    n_pairs = int(pair_index.max()) + 1
    n_frames, n_atoms = batch.wrapped.shape[:2]
    n_blocks = blocks_per_frame(n_atoms, n_frames)
    args = (spos, scode, batch.cells, pair_index, n_pairs, float(r_max), int(bins), n_bins, reach, start, n_blocks)
    counts = run_items(_pair_histogram, args, n_frames * n_blocks, n_frames * n_atoms)
    return counts.reshape(n_frames, n_pairs, bins)


@dataclass(frozen=True)
class BondCounts:
    """Per-frame bond histograms (see ``bond_histograms``)."""

    cn: np.ndarray
    adf: np.ndarray | None
    altbc: np.ndarray | None
    altbc_moments: np.ndarray | None


def bond_histograms(
    batch: Batch,
    codes: np.ndarray,
    cutoffs: np.ndarray,
    angle_bins: int | None = None,
    altbc_angle_min_deg: float | None = None,
    altbc_r_min: float = 0.0,
    altbc_bins: int = 1,
) -> BondCounts:
    """Bonds shorter than ``cutoffs[species_a, species_b]`` (Å; 0 = never bonded), per frame:

    cn (B, S, S) bonds from centres of species a to neighbours of species b; adf (B, S,
    angle_bins) bond angles by centre species over 0–180° (each angle once); altbc (B,
    altbc_bins, altbc_bins) symmetric (r1, r2) counts from altbc_r_min to the largest cutoff
    of bond pairs wider than altbc_angle_min_deg, with altbc_moments (B, 3): sum and sum of
    squares of |r1 − r2| / (r1 + r2) and the number of such pairs.
    """
    n_frames, n_atoms = batch.wrapped.shape[:2]
    n_species = cutoffs.shape[0]
    largest = float(cutoffs.max())
    n_bins, reach, _, start, spos, scode = _sorted(batch, codes, largest, 1)
    n_blocks = blocks_per_frame(n_atoms, n_frames)
    n_items = n_frames * n_blocks
    do_altbc = altbc_angle_min_deg is not None
    if angle_bins is None and not do_altbc:
        args = (spos, scode, batch.cells, n_species, np.ascontiguousarray(cutoffs**2), largest, n_bins, reach, start)
        cn = run_items(_bond_counts, (*args, n_blocks), n_items, n_frames * n_atoms)
        return BondCounts(cn=cn.reshape(n_frames, n_species, n_species), adf=None, altbc=None, altbc_moments=None)
    # each bond found once, then both directions laid out per centre: a bond list of the batch
    found, indptr, slots = _pairs(spos, scode, batch.cells, cutoffs, n_bins, reach, start, n_blocks)
    unit = np.empty((indptr[-1], 4))
    partner = np.empty(indptr[-1], dtype=np.int64)
    outputs = (spos, scode, batch.cells, unit, partner)
    _in_threads(_scatter_vectors, [(pair, image, slots[k], *outputs) for k, (pair, image) in enumerate(found)])
    args = (
        scode, n_species, n_bins, start, n_blocks, indptr, unit, partner, largest,
        int(angle_bins or 1), angle_bins is not None, *cosine_bounds(int(angle_bins or 1), float(altbc_angle_min_deg or 180.0)),
        float(altbc_r_min), int(altbc_bins), do_altbc,
    )  # fmt: skip
    cn, adf, alt, moments = run_items(_angle_histograms, args, n_items, n_frames * n_atoms)
    return BondCounts(
        cn=cn.reshape(n_frames, n_species, n_species),
        adf=adf.reshape(n_frames, n_species, -1) if angle_bins is not None else None,
        altbc=alt.reshape(n_frames, altbc_bins, altbc_bins) if do_altbc else None,
        altbc_moments=moments if do_altbc else None,
    )


def _pairs(spos, scode, cells, cutoffs, n_bins, reach, start, n_blocks):
    """``_bond_pairs`` over every work item, split among threads: each thread's (pair, image),
    the layout of the bonds in both directions (indptr over frame * N + atom) and each
    thread's first free place per centre, after those of the threads before it (so that a
    centre's bonds keep the order one thread finds them in, whatever the thread count)."""
    n_frames, n_atoms = scode.shape
    bounds = _item_bounds(n_frames * n_blocks, n_frames * n_atoms)
    args = (spos, scode, cells, np.ascontiguousarray(cutoffs**2), float(cutoffs.max()), n_bins, reach, start, n_blocks)
    found = _in_threads(_bond_pairs, [(*args, bounds[k], bounds[k + 1]) for k in range(len(bounds) - 1)])
    per_thread = np.array([counts.ravel() for *_, counts in found])
    indptr = np.zeros(n_frames * n_atoms + 1, dtype=np.int64)
    np.cumsum(per_thread.sum(axis=0), out=indptr[1:])
    slots = indptr[:-1] + np.cumsum(per_thread, axis=0) - per_thread
    return [part[:2] for part in found], indptr, slots


def _bond_parts(batch: Batch, codes: np.ndarray, cutoffs: np.ndarray, relabel: bool):
    """Bonds of the first frame, both directions grouped by centre in cell-list order: indptr,
    centre (frame indices when relabel, else empty), neighbour (frame indices when relabel, else
    cell-list order), shift; and the cell-list order. Each bond is found once over half stencils,
    then written at both ends."""
    first = Batch(batch.wrapped[:1], batch.wrap[:1], batch.cells[:1], batch.fractional[:1])
    n_bins, reach, order, start, spos, scode = _sorted(first, codes, float(cutoffs.max()), 1)
    n_atoms = spos.shape[1]
    n_blocks = blocks_per_frame(n_atoms, 1)
    found, indptr, slots = _pairs(spos, scode, first.cells, cutoffs, n_bins, reach, start, n_blocks)
    label = order[0] if relabel else np.arange(n_atoms)
    centre = np.empty(indptr[-1] if relabel else 0, dtype=np.int64)
    neighbor = np.empty(indptr[-1], dtype=np.int64)
    shift = np.empty((indptr[-1], 3), dtype=np.int32)
    outputs = (np.ascontiguousarray(first.wrap[0][order[0]]), label, centre, neighbor, shift)
    _in_threads(_scatter_bonds, [(pair, image, slots[k], *outputs) for k, (pair, image) in enumerate(found)])
    return indptr, centre, neighbor, shift, order[0]


def bond_graph(batch: Batch, codes: np.ndarray, cutoffs: np.ndarray):
    """Bonds of the batch's first frame in both directions, sorted by centre, atoms numbered in
    cell-list order (bonded atoms close together): (indptr, neighbour, shift, order), the bond
    of k to neighbor being r_j + shift @ cell − r_i with i = order[k], j = order[neighbor]."""
    indptr, _, neighbor, shift, order = _bond_parts(batch, codes, cutoffs, False)
    return indptr, neighbor, shift, order


def bond_list(batch: Batch, codes: np.ndarray, cutoffs: np.ndarray):
    """The bonds of ``bond_graph`` (same bonds, same order) as frame atom indices: (i, j, shift)."""
    _, centre, neighbor, shift, _ = _bond_parts(batch, codes, cutoffs, True)
    return centre, neighbor, shift
