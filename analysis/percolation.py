"""Percolation of hops on a periodic site network: the lowest barrier at which hops connect into
a path through the crystal, and the dimensionality of that path.

Edges are directed hops (site i in the home cell -> site j in cell ``image``); the network's
dimensionality is that of pymatgen's ``get_dimensionality_larsen`` (Larsen et al., Phys. Rev.
Mater. 3, 034003 (2019): the rank of the image offsets a connected component reaches) on a
``StructureGraph`` of the mobile species. Pure: Atoms and hop lists in, numbers out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms


def hop_edges(atoms: Atoms, kind_start: int, kind_end: int, kind_shift, symprec: float = 1e-3) -> set:
    """All directed edges (i, j, image) equivalent to the hop ``kind_start`` -> ``kind_end`` +
    ``kind_shift`` under the space group of ``atoms`` (pymatgen ``SpacegroupAnalyzer``), reverses included."""
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    structure = AseAtomsAdaptor.get_structure(atoms)
    fractional = structure.frac_coords
    a, b = fractional[kind_start], fractional[kind_end] + np.asarray(kind_shift)
    edges = set()
    for operation in SpacegroupAnalyzer(structure, symprec=symprec).get_symmetry_operations():
        p, q = operation.operate(a), operation.operate(b)
        i, image_i = _site(fractional, p)
        j, image_j = _site(fractional, q)
        image = tuple(int(x) for x in image_j - image_i)
        edges.add((i, j, image))
        edges.add((j, i, tuple(-x for x in image)))
    return edges


def _site(fractional: np.ndarray, point: np.ndarray, tolerance: float = 1e-2) -> tuple[int, np.ndarray]:
    delta = point[None, :] - fractional
    image = np.round(delta)
    error = np.abs(delta - image).max(axis=1)
    index = int(np.argmin(error))
    if error[index] > tolerance:
        raise ValueError(f"symmetry image {point} of a hop end is no site; check symprec")
    return index, image[index].astype(int)


def network_dimensionality(atoms: Atoms, sites: list[int], edges) -> int:
    """Largest dimensionality (0-3) of the connected components of ``edges`` on ``sites`` of ``atoms``."""
    from pymatgen.analysis.dimensionality import get_dimensionality_larsen
    from pymatgen.analysis.graphs import StructureGraph
    from pymatgen.core import Structure

    positions = atoms.get_scaled_positions()[sites]
    structure = Structure(atoms.cell.array, [atoms[k].symbol for k in sites], positions)
    local = {site: k for k, site in enumerate(sites)}
    graph = StructureGraph.from_empty_graph(structure, name="hops")
    for i, j, image in edges:
        if (i, j, image) == (j, i, tuple(-x for x in image)):
            continue
        if i in local and j in local:
            graph.add_edge(local[i], local[j], from_jimage=(0, 0, 0), to_jimage=tuple(image), warn_duplicates=False)
    return int(get_dimensionality_larsen(graph))


def percolating_barrier(atoms: Atoms, species: str, kinds: list[dict[str, Any]]) -> dict[str, Any]:
    """The lowest barrier at which the hops of ``species`` percolate (with the dimensionality reached
    there), and the barriers at which the
    network first becomes 1-D, 2-D and 3-D.

    kinds: one entry per symmetry-distinct hop with ``start_site``, ``end_site``, ``end_shift``
    (of the unit cell ``atoms``) and ``barrier_eV`` (None: not available, never used).
    """
    sites = [k for k, a in enumerate(atoms) if a.symbol == species]
    usable = sorted((k for k in kinds if k.get("barrier_eV") is not None), key=lambda k: k["barrier_eV"])
    edges: set = set()
    thresholds: dict[str, float | None] = {"1D": None, "2D": None, "3D": None}
    steps = []
    for kind in usable:
        edges |= hop_edges(atoms, kind["start_site"], kind["end_site"], kind["end_shift"])
        dimension = network_dimensionality(atoms, sites, edges)
        steps.append({"barrier_eV": kind["barrier_eV"], "hop": kind.get("label"), "dimensionality": dimension})
        for d in range(1, dimension + 1):
            thresholds[f"{d}D"] = thresholds[f"{d}D"] if thresholds[f"{d}D"] is not None else kind["barrier_eV"]
    first = thresholds["1D"]
    final = steps[-1]["dimensionality"] if steps else 0
    return {
        "species": species,
        "percolating_barrier_eV": first,
        "dimensionality": next((f"{d}-D" for d in (3, 2, 1) if thresholds[f"{d}D"] == first), None)
        if first is not None
        else None,
        "barrier_by_dimensionality_eV": thresholds,
        "dimensionality_with_all_hops": final,
        "steps": steps,
    }
