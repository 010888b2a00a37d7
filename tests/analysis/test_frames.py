"""``frames.supercell_for``: the smallest repeat whose heights all exceed twice a range."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase.build import bulk

from phasefire.analysis.frames import supercell_for
from phasefire.analysis.neighbors import check_periodic_cell
from phasefire.workflows.errors import PhasefireError


def _allows(atoms, repeat, range_A) -> bool:
    try:
        check_periodic_cell(atoms.repeat(repeat), range_A)
    except PhasefireError:
        return False
    return True


@pytest.mark.parametrize("range_A", [1.0, 2.5, 4.0, 6.3, 10.0])
def test_smallest_repeat_of_a_skewed_cell(range_A):
    """hcp Mg (60° cell, heights a·sin 60° in plane): the chosen repeat works and no smaller one does."""
    atoms = bulk("Mg", "hcp", a=3.21, c=5.21)
    repeat = supercell_for(atoms.cell.array, range_A)
    assert _allows(atoms, repeat, range_A)
    for candidate in itertools.product(*(range(1, n + 1) for n in repeat)):
        assert candidate == repeat or not _allows(atoms, candidate, range_A), candidate
    heights = (3.21 * np.sin(np.radians(60)),) * 2 + (5.21,)
    assert repeat == tuple(1 if 2 * range_A <= h else int(2 * range_A // h) + 1 for h in heights)


def test_a_cell_big_enough_is_left_alone_and_a_bad_range_is_refused():
    big = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(4)
    assert supercell_for(big.cell.array, 7.19) == (1, 1, 1)  # below half the 14.4 Å height
    assert supercell_for(big.cell.array, 7.21) == (2, 2, 2)
    with pytest.raises(PhasefireError, match="positive distance"):
        supercell_for(big.cell.array, float("nan"))
