"""``phasefire analyze elf``: JSON keys and numbers of the real graphite ELFCAR, plots, bad input."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest
from ase import Atoms
from ase.io.cube import write_cube

from phasefire.workflows.cli import main
from tests.conftest import REFERENCE

ELFCAR_GZ = REFERENCE / "vasp" / "elf" / "ELFCAR.gz"


def run(capsys, *argv):
    code = main(["analyze", "elf", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def error_line(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phasefire: error: ")
    return lines[0]


@pytest.fixture
def plain(tmp_path):
    path = tmp_path / "ELFCAR"
    with gzip.open(ELFCAR_GZ, "rb") as source, open(path, "wb") as target:
        shutil.copyfileobj(source, target)
    return path


def test_json_of_the_real_elfcar(capsys):
    code, out, _ = run(capsys, ELFCAR_GZ, "--cutoff", "1.6", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["channels"] == ["spin_up", "spin_down"] and result["grid"] == [18, 18, 70]
    assert result["mean"] == pytest.approx({"spin_up": 0.1907620765, "spin_down": 0.1907604668}, abs=1e-9)
    assert result["volume_fraction_localized"] == pytest.approx({"spin_up": 552 / 22680, "spin_down": 552 / 22680})
    assert result["volume_fraction_electron_gas"]["spin_up"] == pytest.approx(0.1234568, abs=1e-7)
    assert result["thresholds"] == {"localized_min": 0.7, "electron_gas": [0.4, 0.6]}
    assert result["n_bonds"] == 6 and list(result["bonds"]) == ["C-C"]
    cc = result["bonds"]["C-C"]
    assert cc["n_bonds"] == 6 and cc["length_A"]["mean"] == pytest.approx(1.42474, abs=1e-5)
    assert cc["midpoint"]["spin_up"]["mean"] == pytest.approx(0.86848, abs=1e-5)
    assert cc["max_along_bond"]["spin_down"]["max"] == pytest.approx(0.86848, abs=1e-5)
    assert sum(cc["midpoint"]["spin_up"]["histogram"]) == 6
    assert result["bond_midpoint_mean"] == pytest.approx({"spin_up": 0.86848, "spin_down": 0.86848}, abs=1e-5)
    assert sum(result["histogram"]["spin_up"]) == pytest.approx(1.0)


def test_plain_and_gzipped_elfcar_agree_and_the_table(capsys, plain):
    gz = json.loads(run(capsys, ELFCAR_GZ, "--json")[1])
    raw = json.loads(run(capsys, plain, "--json")[1])
    for key in ("mean", "volume_fraction_localized", "volume_fraction_electron_gas", "bonds", "bond_midpoint_mean"):
        assert gz[key] == raw[key]
    code, table, _ = run(capsys, plain)
    assert code == 0 and "spin_up" in table and "0.1908" in table and "C-C" in table and "24 bonds" in table


def test_plane_plot_and_histogram_plot(capsys, tmp_path):
    png = tmp_path / "plane.png"
    code, out, _ = run(capsys, ELFCAR_GZ, "--plane", "0,2,3", "--plot", png, "--json")
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plane = json.loads(out)["plane"]
    assert plane["atoms"] == [0, 2, 3] and [label["atom"] for label in plane["labels"][:3]] == ["C0", "C2", "C3"]
    assert 0 < plane["mean"]["spin_up"] < 1
    histogram = tmp_path / "histogram.png"
    assert run(capsys, ELFCAR_GZ, "--plot", histogram)[0] == 0 and histogram.stat().st_size > 10_000


def test_cube_file(capsys, tmp_path):
    from phasefire.analysis.elf import read_elf

    grid = read_elf(ELFCAR_GZ)
    path = tmp_path / "elf.cube"
    with open(path, "w") as handle:
        write_cube(handle, grid.atoms, data=grid.channels["spin_up"])
    result = json.loads(run(capsys, path, "--cutoff", "1.6", "--json")[1])
    assert list(result["mean"]) == ["total"] and result["format"] == "cube"
    assert result["mean"]["total"] == pytest.approx(0.1907620765, abs=1e-7)
    assert result["bonds"]["C-C"]["midpoint"]["total"]["mean"] == pytest.approx(0.86848, abs=1e-5)


# ---------------------------------------------------------------- bad input: one line, exit 1


def test_truncated_elfcar(capsys, plain, tmp_path):
    cut = tmp_path / "ELFCAR.cut"
    cut.write_bytes(plain.read_bytes()[:100_000])
    assert "is truncated: its grid header announces 22680 values" in error_line(capsys, cut)
    gz = tmp_path / "ELFCAR.gz"
    gz.write_bytes(ELFCAR_GZ.read_bytes()[:50_000])
    assert "truncated or corrupt gzip file" in error_line(capsys, gz)


def test_corrupt_gzip(capsys, tmp_path):
    data = bytearray(ELFCAR_GZ.read_bytes())
    data[3000:3100] = bytes(b ^ 0x5A for b in data[3000:3100])
    path = tmp_path / "ELFCAR.gz"
    path.write_bytes(bytes(data))
    assert "truncated or corrupt gzip file" in error_line(capsys, path)


def test_grid_size_disagrees_with_header(capsys, plain, tmp_path):
    lines = plain.read_text().splitlines(keepends=True)
    lines[2282] = "   18   18   64\n"  # the spin-down block's header
    path = tmp_path / "ELFCAR.edited"
    path.write_text("".join(lines))
    assert "grid block 2 has 22680 values but its header says 18×18×64" in error_line(capsys, path)


def test_chgcar_where_elf_is_expected(capsys, tmp_path):
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.io.vasp.outputs import Chgcar

    from phasefire.analysis.elf import read_elf

    grid = read_elf(ELFCAR_GZ)
    structure = AseAtomsAdaptor.get_structure(grid.atoms)
    path = tmp_path / "CHGCAR"
    chgcar = Chgcar(
        structure, {"total": grid.channels["spin_up"] * 30 * structure.volume}, data_aug={"total": {1: np.ones(4)}}
    )
    chgcar.write_file(path)
    line = error_line(capsys, path)
    assert "looks like a CHGCAR" in line and "ρ·V" in line and "give the ELFCAR" in line


def test_plane_through_collinear_atoms_and_index_out_of_range(capsys, tmp_path):
    atoms = Atoms("Se3", positions=[(1, 1, 1), (3.5, 1, 1), (6, 1, 1)], cell=[10, 8, 8], pbc=True)
    path = tmp_path / "line.cube"
    with open(path, "w") as handle:
        write_cube(handle, atoms, data=np.full((20, 16, 16), 0.5))
    assert "collinear" in error_line(capsys, path, "--plane", "0,1,2")
    assert "atom index 7 is out of range: the structure has 3 atoms" in error_line(capsys, path, "--plane", "0,1,7")
    assert "atom index 4 is out of range" in error_line(capsys, ELFCAR_GZ, "--plane", "4,1,2")


def test_bad_plane_argument_and_missing_file(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["analyze", "elf", str(ELFCAR_GZ), "--plane", "0,1"])
    assert exc.value.code == 2 and "three atom indices" in capsys.readouterr().err
    assert "no such file" in error_line(capsys, tmp_path / "ELFCAR")
