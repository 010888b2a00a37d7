"""``phasefire analyze dipoles`` / ``analyze strain``: JSON keys, numbers, one-line errors."""

from __future__ import annotations

import json

import pytest
from ase import Atoms
from ase.io import write

from phasefire.structures import build
from phasefire.workflows.cli import main


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name in ("ag2se-alpha", "ag2se-beta"):
        paths[name] = str(tmp_path / f"{name}.vasp")
        write(paths[name], build(name))
    lonely = Atoms("Ag3Se", positions=[(0, 0, 0), (2.6, 0, 0), (0, 2.6, 0), (0, 0, 2.6)], cell=[12] * 3, pbc=True)
    paths["lonely"] = str(tmp_path / "lonely.vasp")
    write(paths["lonely"], lonely)
    paths["agse"] = str(tmp_path / "agse.vasp")
    write(paths["agse"], Atoms("AgSe", scaled_positions=[(0, 0, 0), (0.5, 0.5, 0.5)], cell=[3.0] * 3, pbc=True))
    return paths


def test_dipoles_json_and_plot(files, tmp_path, capsys):
    png = tmp_path / "map.png"
    args = ["analyze", "dipoles", files["ag2se-alpha"], "--projection", "1,0,0", "--json", "--plot", str(png)]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mean_magnitude_pm"] == pytest.approx(79.87, abs=0.05)
    assert result["mean_projected_magnitude_pm"] == pytest.approx(70.05, abs=0.05)
    assert len(result["dipoles"]) == 4 and set(result["dipoles"][0]) == {"index", "vector_pm", "magnitude_pm"}
    assert png.stat().st_size > 10_000


def test_strain_json(files, capsys):
    assert main(["analyze", "strain", files["ag2se-alpha"], files["ag2se-beta"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["minimal"]["strain_along_axis"] == pytest.approx(0.0585, abs=5e-4)


@pytest.mark.parametrize(
    "args, message",
    [
        (["dipoles", "lonely"], "Ag within 3.5 A, fewer than --neighbors 4"),
        (["dipoles", "ag2se-alpha", "--projection", "0,0,0"], "is not a non-zero 3-vector"),
        (["strain", "ag2se-alpha", "agse"], "alpha is Ag2Se but beta is AgSe"),
    ],
)
def test_bad_input_is_one_line(files, capsys, args, message):
    argv = ["analyze", args[0], *(files.get(a, a) for a in args[1:])]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("phasefire: error: ") and message in err and "\n" not in err


def test_vasp_neb_ediff_is_absolute_not_per_atom():
    """CI-NEB on a 143-atom Ag2Se supercell: EDIFF 1e-6 eV, not 1e-6 x 143 (too loose for the forces)."""
    from phasefire.workflows.calculations.neb import NEBSettings
    from phasefire.workflows.engines.vasp.inputs import neb_incar

    supercell = build("ag2se-alpha").repeat((3, 2, 2))
    del supercell[0]
    incar = neb_incar(supercell, NEBSettings(n_images=3, fmax_eV_per_A=0.05, max_steps=100, climb=True), vtst=True)
    assert incar["EDIFF"] == 1e-6
