"""Percolation on periodic hop networks of known topology."""

from __future__ import annotations

import pytest
from ase import Atoms

from phasefire.analysis.percolation import hop_edges, percolating_barrier
from phasefire.structures import build
from phasefire.structures.defects import distinct_hops


def test_tetragonal_network_is_1d_along_c_then_3d():
    """Simple tetragonal Ag (a = 4, c = 3): c-hops percolate in 1-D at their barrier, a-hops make it 3-D."""
    atoms = Atoms("Ag", positions=[(0, 0, 0)], cell=[4.0, 4.0, 3.0], pbc=True)
    kinds = [
        {"start_site": 0, "end_site": 0, "end_shift": (0, 0, 1), "barrier_eV": 0.2, "label": "c"},
        {"start_site": 0, "end_site": 0, "end_shift": (1, 0, 0), "barrier_eV": 0.5, "label": "a"},
    ]
    result = percolating_barrier(atoms, "Ag", kinds)
    assert result["percolating_barrier_eV"] == 0.2 and result["dimensionality"] == "1-D"
    assert result["barrier_by_dimensionality_eV"] == {"1D": 0.2, "2D": 0.5, "3D": 0.5}


def test_isolated_pairs_do_not_percolate():
    """Two sites joined only to each other inside the cell: a dimer, dimensionality 0."""
    atoms = Atoms("Ag2", positions=[(0, 0, 0), (1.5, 0, 0)], cell=[6.0, 6.0, 6.0], pbc=True)
    kinds = [{"start_site": 0, "end_site": 1, "end_shift": (0, 0, 0), "barrier_eV": 0.1}]
    assert percolating_barrier(atoms, "Ag", kinds)["percolating_barrier_eV"] is None


def test_alpha_ag2se_hop_orbits_match_distinct_hops():
    """Edges generated from the space group equal each orbit's directed_per_cell (structures.defects)."""
    atoms = build("ag2se-alpha")
    for species in ("Ag", "Se"):
        for hop in distinct_hops(atoms, species):
            assert len(hop_edges(atoms, hop.start_site, hop.end_site, hop.end_shift)) == hop.directed_per_cell


def test_alpha_ag2se_shortest_ag_hop_is_a_chain():
    """The Ag1-Ag1 2.93 A hop alone links Ag1 into chains (1-D); adding Ag1-Ag2 3.08 A makes 3-D."""
    atoms = build("ag2se-alpha")
    hops = distinct_hops(atoms, "Ag")
    kinds = [{"start_site": h.start_site, "end_site": h.end_site, "end_shift": h.end_shift,
              "barrier_eV": 0.1 * (k + 1), "label": h.label} for k, h in enumerate(hops)]  # fmt: skip
    result = percolating_barrier(atoms, "Ag", kinds)
    assert [s["dimensionality"] for s in result["steps"]] == [1, 1, 3, 3, 3]
    assert result["barrier_by_dimensionality_eV"]["3D"] == pytest.approx(0.3)
