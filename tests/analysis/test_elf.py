"""ELF analysis on the real graphite ELFCAR (spin-polarised, 18×18×70), checked against an
independent parse of the file and hand-written trilinear interpolation; bad input."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
from ase import Atoms
from ase.io.cube import write_cube

from phasefire.analysis import elf
from phasefire.workflows.errors import PhasefireError
from tests.conftest import REFERENCE

ELFCAR_GZ = REFERENCE / "vasp" / "elf" / "ELFCAR.gz"
SHAPE = (18, 18, 70)
N_VALUES = 18 * 18 * 70


@pytest.fixture(scope="module")
def grid():
    return elf.read_elf(ELFCAR_GZ)


@pytest.fixture(scope="module")
def raw_blocks():
    """The two blocks parsed independently of pymatgen: split the text at the grid headers."""
    lines = gzip.open(ELFCAR_GZ, "rt").read().splitlines()
    headers = [n for n, line in enumerate(lines) if line.split() == ["18", "18", "70"]]
    assert len(headers) == 2
    blocks = []
    for start, end in zip(headers, headers[1:] + [len(lines)]):
        values = np.array(" ".join(lines[start + 1 : end]).split(), dtype=float)
        assert values.size == N_VALUES
        blocks.append(values.reshape(SHAPE, order="F"))  # first index fastest, as VASP writes
    return blocks


def trilinear(data: np.ndarray, fractional: np.ndarray) -> float:
    """Periodic trilinear interpolation at one fractional point, written out corner by corner."""
    index = np.asarray(fractional) * np.asarray(data.shape)
    base = np.floor(index).astype(int)
    weight = index - base
    total = 0.0
    for corner in np.ndindex(2, 2, 2):
        w = np.prod([weight[a] if corner[a] else 1 - weight[a] for a in range(3)])
        total += w * data[tuple((base + corner) % data.shape)]
    return float(total)


def test_channels_are_spin_up_and_spin_down_and_match_the_file(grid, raw_blocks):
    assert list(grid.channels) == ["spin_up", "spin_down"]
    assert grid.shape == SHAPE and grid.atoms.get_chemical_formula() == "C4"
    np.testing.assert_array_equal(grid.channels["spin_up"], raw_blocks[0])
    np.testing.assert_array_equal(grid.channels["spin_down"], raw_blocks[1])
    means = elf.channel_means(grid)
    assert means["spin_up"] == pytest.approx(raw_blocks[0].mean(), rel=1e-12)
    assert means == pytest.approx({"spin_up": 0.190762076, "spin_down": 0.1907604668}, abs=1e-9)


def test_volume_fractions_count_grid_points(grid, raw_blocks):
    fractions = elf.volume_fractions(grid)
    up = raw_blocks[0]
    assert fractions["localized"]["spin_up"] == np.count_nonzero(up > 0.7) / N_VALUES == 552 / N_VALUES
    assert fractions["electron_gas"]["spin_up"] == np.count_nonzero((up >= 0.4) & (up <= 0.6)) / N_VALUES
    assert fractions["electron_gas"]["spin_up"] == pytest.approx(0.123457, abs=1e-6)
    edges, counts = elf.histogram(grid, bins=10)
    assert edges[0] == 0 and edges[-1] == 1 and counts["spin_down"].sum() == pytest.approx(1.0)


def test_graphite_bond_midpoints_against_hand_interpolation(grid):
    bonds = elf.bond_elf(grid, cutoff_A=1.6)
    assert len(bonds.first) == 6  # 4 atoms × 3 in-plane neighbours / 2
    assert set(bonds.pair) == {"C-C"}
    np.testing.assert_allclose(bonds.length_A, 1.42474, atol=1e-4)
    inverse = np.linalg.inv(grid.atoms.cell.array)
    t = np.linspace(0.1, 0.9, 41)
    for n, (a, b) in enumerate(zip(bonds.first, bonds.second)):
        start = grid.atoms.positions[a] @ inverse
        step = bonds.vector_A[n] @ inverse  # each C0-C2 bond joins a different image of C2
        image = start + step - grid.atoms.positions[b] @ inverse
        np.testing.assert_allclose(image, np.round(image), atol=1e-9)  # the vector ends on an image of b
        for name, data in grid.channels.items():
            assert bonds.midpoint[name][n] == pytest.approx(trilinear(data, start + 0.5 * step), abs=1e-12)
            along = [trilinear(data, start + s * step) for s in t]
            assert bonds.maximum[name][n] == pytest.approx(max(along), abs=1e-12)
    # the covalent sigma bond: ELF at the midpoint is the largest value of the whole grid
    assert bonds.midpoint["spin_up"] == pytest.approx(np.full(6, 0.86848), abs=1e-5)
    assert grid.channels["spin_up"].max() == pytest.approx(0.86848, abs=1e-6)
    stats = bonds.pair_statistics()["C-C"]
    assert stats["n_bonds"] == 6 and stats["max_position"]["spin_up"] == pytest.approx(0.5)


def test_longer_cutoff_adds_second_and_third_neighbours_with_low_midpoint_elf(grid):
    bonds = elf.bond_elf(grid, cutoff_A=3.2)
    lengths = np.round(bonds.length_A, 2)
    assert {length: int(np.sum(lengths == length)) for length in np.unique(lengths)} == {1.42: 6, 2.47: 12, 2.85: 6}
    assert bonds.midpoint["spin_up"][lengths == 2.85].max() < 0.05  # across a ring centre: no electrons


def test_plane_through_three_atoms_passes_through_the_bond_midpoint(grid):
    bonds = elf.bond_elf(grid, cutoff_A=1.6)
    plane = elf.elf_plane(grid, (0, 2, 3), spacing_A=0.01)
    length = bonds.length_A[0]
    u = np.argmin(np.abs(plane.u_A - length / 2))
    v = np.argmin(np.abs(plane.v_A))
    assert abs(plane.u_A[u] - length / 2) < 0.006 and abs(plane.v_A[v]) < 0.006
    assert plane.values["spin_up"][v, u] == pytest.approx(0.86848, abs=2e-3)
    assert plane.values["spin_up"].shape == (len(plane.v_A), len(plane.u_A))
    assert [label for label, _, _ in plane.labels[:3]] == ["C0", "C2", "C3"]
    assert plane.labels[1][1] == pytest.approx(length, abs=1e-5) and plane.labels[1][2] == pytest.approx(0, abs=1e-9)


def test_plane_rejects_collinear_atoms_and_bad_indices(grid):
    line = Atoms("C3", positions=[(0, 0, 0), (1.5, 0, 0), (3.0, 0, 0)], cell=[6, 6, 6], pbc=True)
    flat = elf.ElfGrid(atoms=line, channels={"total": np.full((8, 8, 8), 0.5)})
    with pytest.raises(PhasefireError, match="collinear"):
        elf.elf_plane(flat, (0, 1, 2))
    with pytest.raises(PhasefireError, match=r"atom index 4 is out of range: the structure has 4 atoms"):
        elf.elf_plane(grid, (0, 1, 4))
    with pytest.raises(PhasefireError, match="out of range"):
        elf.elf_plane(grid, (-1, 1, 2))
    with pytest.raises(PhasefireError, match="repeat"):
        elf.elf_plane(grid, (0, 0, 2))


def test_cube_file_gives_the_same_bond_values(grid, tmp_path):
    path = tmp_path / "graphite_elf.cube"
    with open(path, "w") as handle:
        write_cube(handle, grid.atoms, data=grid.channels["spin_up"])
    cube = elf.read_elf(path)
    assert list(cube.channels) == ["total"] and cube.source_format == "cube"
    reference = elf.bond_elf(grid, cutoff_A=1.6).midpoint["spin_up"]
    np.testing.assert_allclose(elf.bond_elf(cube, cutoff_A=1.6).midpoint["total"], reference, atol=1e-5)
    # a shifted grid origin moves the sample points with it
    shifted = tmp_path / "shifted.cube"
    step = grid.atoms.cell.array[2] / SHAPE[2]
    atoms = grid.atoms.copy()
    atoms.positions += step
    with open(shifted, "w") as handle:
        write_cube(handle, atoms, data=grid.channels["spin_up"], origin=step)
    np.testing.assert_allclose(
        elf.bond_elf(elf.read_elf(shifted), cutoff_A=1.6).midpoint["total"], reference, atol=1e-5
    )


# ---------------------------------------------------------------- bad input


@pytest.fixture
def plain(tmp_path):
    path = tmp_path / "ELFCAR"
    with gzip.open(ELFCAR_GZ, "rb") as source, open(path, "wb") as target:
        shutil.copyfileobj(source, target)
    return path


def _edited(plain, tmp_path, name, edit):
    lines = plain.read_text().splitlines(keepends=True)
    path = tmp_path / name
    path.write_text("".join(edit(lines)))
    return path


def test_truncated_plain_elfcar(plain, tmp_path):
    path = tmp_path / "ELFCAR.cut"
    path.write_bytes(plain.read_bytes()[:30000])
    with pytest.raises(PhasefireError, match=r"is truncated: its grid header announces 22680 values but only \d+"):
        elf.read_elf(path)


def test_truncated_and_corrupt_gzip(tmp_path):
    data = ELFCAR_GZ.read_bytes()
    cut = tmp_path / "ELFCAR.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(PhasefireError, match="truncated or corrupt gzip file"):
        elf.read_elf(cut)
    broken = bytearray(data)
    broken[5000:5100] = bytes(b ^ 0xFF for b in broken[5000:5100])
    corrupt = tmp_path / "corrupt" / "ELFCAR.gz"
    corrupt.parent.mkdir()
    corrupt.write_bytes(bytes(broken))
    with pytest.raises(PhasefireError, match="truncated or corrupt gzip file"):
        elf.read_elf(corrupt)


@pytest.mark.parametrize("header", ["   18   18   72\n", "   18   18   60\n"])
def test_grid_size_disagreeing_with_its_header(plain, tmp_path, header):
    """pymatgen alone reads both silently (one swallows the next header, one drops values)."""
    path = _edited(plain, tmp_path, "ELFCAR.edited", lambda lines: lines[:13] + [header] + lines[14:])
    with pytest.raises(PhasefireError, match=r"grid block 1 has 22680 values but its header says 18×18×(72|60)"):
        elf.read_elf(path)


def test_extra_values_after_the_last_block(plain, tmp_path):
    path = _edited(plain, tmp_path, "ELFCAR.long", lambda lines: lines + ["0.1 0.2 0.3\n"])
    with pytest.raises(PhasefireError, match="grid block 2 has"):
        elf.read_elf(path)


def test_chgcar_where_elf_is_expected(grid, tmp_path):
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.io.vasp.outputs import Chgcar

    structure = AseAtomsAdaptor.get_structure(grid.atoms)
    rho_times_volume = grid.channels["spin_up"] * 40 * structure.volume  # ρ·V, as a CHGCAR stores it
    with_augmentation = tmp_path / "CHGCAR"
    Chgcar(structure, {"total": rho_times_volume}, data_aug={"total": {1: np.ones(10)}}).write_file(with_augmentation)
    with pytest.raises(PhasefireError, match=r"looks like a CHGCAR.*augmentation occupancies.*ρ·V, ≫ 1"):
        elf.read_elf(with_augmentation)
    bare = tmp_path / "AECCAR0"
    Chgcar(structure, {"total": rho_times_volume}).write_file(bare)
    with pytest.raises(PhasefireError, match=r"looks like a CHGCAR/AECCAR \(values up to .* ≫ 1"):
        elf.read_elf(bare)


def test_negative_values_look_like_a_potential(grid, tmp_path):
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.io.vasp.outputs import Locpot

    path = tmp_path / "LOCPOT"
    Locpot(AseAtomsAdaptor.get_structure(grid.atoms), {"total": grid.channels["spin_up"] - 5}).write_file(path)
    with pytest.raises(PhasefireError, match="negative values"):
        elf.read_elf(path)


def test_missing_and_non_elf_files(tmp_path):
    with pytest.raises(PhasefireError, match="no such file"):
        elf.read_elf(tmp_path / "nothing")
    text = tmp_path / "notes.txt"
    text.write_text("hello\nworld\n")
    with pytest.raises(PhasefireError, match="cannot read"):
        elf.read_elf(text)
