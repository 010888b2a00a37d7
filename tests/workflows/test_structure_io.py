"""Structure files in and out: one checked entrance for every structure, symmetric CIFs, the umask."""

from __future__ import annotations

import os

import pytest
from ase.build import bulk
from pymatgen.io.ase import AseAtomsAdaptor

from phasefire.structures import build
from phasefire.workflows.errors import PhasefireError
from phasefire.workflows.structure_io import read_structure, write_structure


def test_pymatgen_structure_json_is_accepted(tmp_path):
    path = tmp_path / "alpha.json"
    path.write_text(AseAtomsAdaptor.get_structure(build("ag2se-alpha")).to_json())
    atoms = read_structure(path)
    assert atoms.get_chemical_formula() == build("ag2se-alpha").get_chemical_formula()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.mkdir(), "is a folder, not a structure file"),
        (lambda p: p.write_text("Si\n1.0\n5.4 0 0\n0 5.4 0\n"), "truncated or not a POSCAR"),
        (lambda p: None, "no such structure file"),
    ],
)
def test_bad_files_are_one_line(tmp_path, make, message):
    path = tmp_path / "POSCAR"
    make(path)
    with pytest.raises(PhasefireError, match=message) as error:
        read_structure(path)
    assert "\n" not in str(error.value)


def test_overlapping_and_duplicated_atoms_are_refused_with_the_pair_named(tmp_path):
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.append("Cu")
    atoms.positions[-1] = atoms.positions[2] + [0.0006, 0, 0]
    path = write_structure(atoms, tmp_path / "overlap.extxyz")
    with pytest.raises(PhasefireError, match=r"atoms 2 \(Cu\) and 4 \(Cu\) .* are 0.0006 Å apart"):
        read_structure(path)


def test_cif_keeps_the_space_group_and_files_honour_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_structure(build("ag2se-alpha"), tmp_path / "alpha.cif")
    finally:
        os.umask(old)
    text = path.read_text()
    assert "P2_12_12_1" in text and "_symmetry_Int_Tables_number   19" in text
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert len(read_structure(path)) == len(build("ag2se-alpha"))
