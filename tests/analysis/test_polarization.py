"""Polarization analysis on real VASP outputs: the BaTiO3 Berry-phase series (pymatgen-core test
files) through ``phasefire analyze polarization``, checked against VASP's own dipoles reduced by
the quantum; Born-charge polarization (the sum rule on the recorded SiC DFPT charges: test_field_vasp.py)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from pymatgen.io.vasp import Outcar, Poscar

from phasefire.analysis.polarization import (
    E_PER_A2_IN_UC_CM2,
    born_polarization_uC_cm2,
    nominal_born_charges,
)
from phasefire.workflows.cli import main
from tests.conftest import REFERENCE

BTO = REFERENCE / "vasp" / "polarization" / "BTO_221_99_polarization"
#: path order: the recorded interpolation folders count down from the polar end point
SERIES = [BTO / "nonpolar_polarization", *(BTO / f"interpolation_{k}_polarization" for k in range(8, 0, -1)),
          BTO / "polar_polarization"]  # fmt: skip
SIC = REFERENCE / "vasp" / "lepsilon" / "pymatgen" / "OUTCAR.lepsilon.gz"


def run(capsys, *argv):
    code = main(["analyze", "polarization", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_batio3_series_delta_p_matches_vasp_dipoles_reduced_by_the_quantum(capsys):
    code, out, _ = run(capsys, *SERIES, "--json")
    assert code == 0
    result = json.loads(out)
    delta = np.array(result["delta_polarization_uC_cm2"])
    assert delta[2] == pytest.approx(46.2888, abs=1e-3)
    assert np.abs(delta[:2]).max() < 0.01
    assert result["delta_polarization_norm_uC_cm2"] == pytest.approx(46.2888, abs=1e-3)
    assert result["polarization_quantum_uC_cm2"] == pytest.approx([94.979, 94.979, 100.068], abs=1e-2)
    assert result["smooth_branch"] is True
    # independent: VASP's own total dipole (p_elec + p_ion) over the volume, folded by each end
    # point's quantum e·c/Ω: the non-polar point sits on a lattice of quanta, the polar one at ±|ΔP|
    folded = []
    for folder in (SERIES[0], SERIES[-1]):
        outcar = Outcar(str(folder / "OUTCAR.gz"))
        outcar.read_lcalcpol()
        structure = Poscar.from_file(str(folder / "POSCAR")).structure
        total = (outcar.p_elec[2] + outcar.p_ion[2]) / structure.volume * E_PER_A2_IN_UC_CM2
        quantum = structure.lattice.c / structure.volume * E_PER_A2_IN_UC_CM2
        folded.append(total - quantum * np.round(total / quantum))
    assert folded[0] == pytest.approx(0.0, abs=1e-3)
    assert abs(folded[1]) == pytest.approx(delta[2], abs=1e-3)


def test_text_output(capsys):
    code, out, _ = run(capsys, *SERIES)
    assert code == 0 and "|dP| = 46.289 uC/cm2" in out and "smooth" in out


def error_line(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1
    return err


def test_wrong_order_is_refused(capsys):
    shuffled = [SERIES[0], SERIES[-1], *SERIES[1:-1]]
    assert "not in path order" in error_line(capsys, *shuffled)


def test_different_structures_are_refused(capsys, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(SERIES[-1] / "OUTCAR.gz", other / "OUTCAR.gz")
    structure = Poscar.from_file(str(SERIES[-1] / "POSCAR")).structure
    structure.remove_sites([0])
    Poscar(structure).write_file(str(other / "POSCAR"))
    assert "is not the same structure" in error_line(capsys, SERIES[0], other)


def test_outcar_without_berry_phase_is_refused(capsys, tmp_path):
    folder = tmp_path / "dfpt"
    folder.mkdir()
    shutil.copy(SIC, folder / "OUTCAR.gz")
    shutil.copy(SERIES[-1] / "POSCAR", folder / "POSCAR")
    assert "has no Berry-phase polarization; run VASP with LCALCPOL" in error_line(capsys, SERIES[0], folder)


def test_born_polarization_equals_the_dipole_change_of_point_charges():
    # independent: with isotropic Z* = q, P is the change of the point-charge dipole over the volume
    atoms = bulk("NaCl", "rocksalt", a=5.64, cubic=True)
    moved = atoms.copy()
    moved.positions[atoms.numbers == 11] += [0.0, 0.0, 0.05]
    born, charges = nominal_born_charges(atoms)
    assert charges == {"Na": 1.0, "Cl": -1.0}
    dipole = np.sum(born[:, 2, 2] * (moved.positions[:, 2] - atoms.positions[:, 2]))
    expected = dipole / atoms.get_volume() * E_PER_A2_IN_UC_CM2
    assert born_polarization_uC_cm2(atoms, moved, born) == pytest.approx([0.0, 0.0, expected])
    assert expected == pytest.approx(4 * 0.05 / 5.64**3 * 1602.176634)
    # a move across the boundary counts by its minimum image
    wrapped = moved.copy()
    wrapped.positions[0] += atoms.cell[0]
    assert born_polarization_uC_cm2(atoms, wrapped, born) == pytest.approx([0.0, 0.0, expected])


def test_born_charges_of_the_wrong_shape_are_refused():
    from phasefire.workflows.errors import PhasefireError

    atoms = Atoms("NaCl", positions=[[0, 0, 0], [1, 1, 1]], cell=[3, 3, 3], pbc=True)
    with pytest.raises(PhasefireError, match=r"shape \(2, 3, 3\), got \(2, 3\)"):
        born_polarization_uC_cm2(atoms, atoms, [[1, 0, 0], [0, 1, 0]])
