"""Built-in structures: symmetry (spglib), cited lattice constants, stoichiometry, bonding."""

from __future__ import annotations

import numpy as np
import pytest
import spglib
from ase import Atoms
from ase.neighborlist import neighbor_list

from phasefire.structures import MATERIALS, build, parse_supercell

#: name -> (space group number, cited a, b, c in Å, reduced formula, cations, anions)
EXPECTED = {
    "ag2se-alpha": (19, (4.3357, 7.07, 7.774), "Ag2Se", {"Ag"}, {"Se"}),
    "ag2se-fcc-paper": (225, (5.3357,) * 3, "Ag2Se", {"Ag"}, {"Se"}),
    "cspbbr3-cubic": (221, (5.874,) * 3, "CsPbBr3", {"Cs", "Pb"}, {"Br"}),
    "cspbcl3-cubic": (221, (5.605,) * 3, "CsPbCl3", {"Cs", "Pb"}, {"Cl"}),
    "cspbi3-cubic": (221, (6.2894,) * 3, "CsPbI3", {"Cs", "Pb"}, {"I"}),
    "cspbbr3-ortho": (62, (8.2440, 11.7351, 8.1982), "CsPbBr3", {"Cs", "Pb"}, {"Br"}),
    "cspbcl3-ortho": (62, (7.837, 11.1675, 7.841), "CsPbCl3", {"Cs", "Pb"}, {"Cl"}),
    "sb2se3-pnma": (62, (11.7938, 3.9858, 11.6478), "Sb2Se3", {"Sb"}, {"Se"}),
}

#: longest cation-anion bond counted as a first-shell neighbour, Å
BOND_CUTOFF = {"Ag": 3.0, "Cs": 4.5, "Pb": 3.4, "Sb": 3.55}


def space_group(atoms: Atoms, symprec: float = 1e-3) -> int:
    dataset = spglib.get_symmetry_dataset((atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers), symprec)
    return dataset.number


def reduced_formula(atoms: Atoms) -> str:
    from pymatgen.core import Composition

    return Composition(atoms.get_chemical_formula()).reduced_formula


def test_catalog_lists_every_expected_structure():
    assert set(EXPECTED) | {"sb2se3-bcc", "ag2se-beta"} == set(MATERIALS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_space_group_lattice_and_stoichiometry(name):
    number, abc, formula, _, _ = EXPECTED[name]
    atoms = build(name)
    assert space_group(atoms) == number
    np.testing.assert_allclose(atoms.cell.cellpar()[:3], abc, rtol=0.01)
    assert reduced_formula(atoms) == formula


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - {"ag2se-fcc-paper"}) + ["sb2se3-bcc", "ag2se-beta"])
def test_bonding_is_physical(name):
    atoms = build(name)
    i, j, d = neighbor_list("ijd", atoms, 4.6)
    assert d.min() > 2.2, "no two atoms closer than 2.2 Å"
    symbols = np.array(atoms.get_chemical_symbols())
    anions = {"Se", "Br", "Cl", "I"}
    for index in np.flatnonzero(~np.isin(symbols, list(anions))):
        cutoff = BOND_CUTOFF[symbols[index]]
        mine = (i == index) & np.isin(symbols[j], list(anions)) & (d < cutoff)
        assert mine.any(), f"{symbols[index]}{index} has no anion within {cutoff} Å"


def test_sb2se3_pnma_coordination_matches_voutsas_distances():
    """Voutsas et al. (1985): Sb1 6-fold at 2.664-3.248 Å, Sb2 7-fold at 2.589-3.485 Å."""
    atoms = build("sb2se3-pnma")
    i, d = neighbor_list("id", atoms, 3.55)
    shells = sorted({tuple(np.round(np.sort(d[i == k]), 3)) for k in range(8)}, key=len)
    six, seven = shells
    assert len(six) == 6 and len(seven) == 7
    assert six[0] == pytest.approx(2.664, abs=0.05) and six[-1] == pytest.approx(3.248, abs=0.05)
    assert seven[0] == pytest.approx(2.589, abs=0.05) and seven[-1] == pytest.approx(3.485, abs=0.05)


def test_alpha_ag2se_selenium_sits_off_centre_of_its_silver_cage():
    """The paper's dipoles: Se is displaced from the centre of its nearest Ag tetrahedron."""
    atoms = build("ag2se-alpha")
    i, j, D = neighbor_list("ijD", atoms, 3.2)
    symbols = np.array(atoms.get_chemical_symbols())
    for se in np.flatnonzero(symbols == "Se"):
        bonds = D[(i == se) & (symbols[j] == "Ag")]
        nearest = bonds[np.argsort(np.linalg.norm(bonds, axis=1))[:4]]
        offset = np.linalg.norm(nearest.mean(axis=0))
        assert 0.1 < offset < 1.0, f"Se {se} offset {offset:.3f} Å"


def test_bcc_sb2se3_is_seeded_and_bcc_when_species_are_ignored():
    first, again, other = build("sb2se3-bcc", seed=1), build("sb2se3-bcc", seed=1), build("sb2se3-bcc", seed=2)
    assert np.array_equal(first.positions, again.positions)
    assert not np.array_equal(first.positions, other.positions)  # Sb sites differ
    assert reduced_formula(first) == "Sb2Se3"
    lattice_only = first.copy()
    lattice_only.numbers[:] = 1
    assert space_group(lattice_only) == 229


def test_supercell_repeats_the_cell():
    atoms = build("cspbbr3-cubic", parse_supercell("2x2x3"))
    assert len(atoms) == 5 * 12
    np.testing.assert_allclose(atoms.cell.cellpar()[:3], [11.748, 11.748, 17.622])


@pytest.mark.parametrize("text", ["2x2", "0x1x1", "axbxc", ""])
def test_bad_supercell_is_rejected(text):
    with pytest.raises(ValueError, match="supercell"):
        parse_supercell(text)


def test_unknown_structure_names_the_choices():
    with pytest.raises(ValueError, match="unknown structure 'cspbbr4'.*ag2se-alpha"):
        build("cspbbr4")


def test_beta_ag2se_is_bcc_se_with_ag_in_tetrahedra():
    """Se bcc (Im-3m, 4.98 A cube, 2x2x2), every Ag 4-fold at a*sqrt(5)/4 = 2.784 A, no face-sharing Ag pair."""
    atoms = build("ag2se-beta")
    assert reduced_formula(atoms) == "Ag2Se" and len(atoms) == 48
    np.testing.assert_allclose(atoms.cell.cellpar(), [9.96, 9.96, 9.96, 90, 90, 90])
    se = atoms[[a.symbol == "Se" for a in atoms]]
    assert space_group(se) == 229
    i, j, d = neighbor_list("ijd", atoms, 3.0)
    symbols = np.array(atoms.get_chemical_symbols())
    for index in np.flatnonzero(symbols == "Ag"):
        bonds = d[(i == index) & (symbols[j] == "Se")]
        np.testing.assert_allclose(bonds, 4.98 * np.sqrt(5) / 4, atol=1e-6)
        assert len(bonds) == 4
    ag_ag = d[(symbols[i] == "Ag") & (symbols[j] == "Ag")]
    assert ag_ag.size == 0 or ag_ag.min() > 2.2
    assert atoms.get_volume() / 16 == pytest.approx(4.98**3 / 2)  # 61.75 A^3 per formula unit


def test_fcc_paper_cell_is_far_denser_than_alpha():
    """The paper's literal Fm-3m a = 5.3357 A: Ag-Se 2.31 A, 36 % less volume per formula unit than alpha."""
    fcc, alpha = build("ag2se-fcc-paper"), build("ag2se-alpha")
    assert neighbor_list("d", fcc, 3.0).min() == pytest.approx(5.3357 * np.sqrt(3) / 4)
    assert fcc.get_volume() / 4 / (alpha.get_volume() / 4) == pytest.approx(0.64, abs=0.01)


@pytest.mark.slow
def test_beta_approximant_is_the_lowest_energy_sample():
    """CHGNet single points of the seeded samples: the catalogue's arrangement is the lowest."""
    from phasefire.structures.ag2se import BETA_CHOSEN, beta_arrangements
    from phasefire.workflows.engines import load_engine

    energies, _ = load_engine({"name": "mlip"}).energies_and_forces(beta_arrangements())
    assert int(np.argmin(energies)) == BETA_CHOSEN
