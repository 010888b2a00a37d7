"""The ELF part of the Sb2Se3 campaign: its fireworks (engine by campaign engine, settings,
parents), the LDA/HDA comparison on ELF grids, the report section, and one real GPAW run
of the whole part on a tiny companion chain."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.vasp.outputs import Elfcar

from phasefire.analysis.altbc import altbc
from phasefire.analysis.elf import bond_elf, read_elf
from phasefire.structures import build
from phasefire.workflows.errors import PhasefireError
from phasefire.workflows.reports.sb2se3_elf import elf_lines
from phasefire.workflows.studies import sb2se3_elf
from phasefire.workflows.studies.sb2se3_elf import elf_comparison, elf_settings, split_documents

MLIP = {"name": "mlip", "model": "chgnet"}
#: a small, fast campaign: 2 ladder pressures, short stages, a 10-atom companion chain
SMALL = {"n_formula_units": 4, "pressures_GPa": [0, 35], "melt_steps": 20, "quench_steps": 20, "anneal_steps": 20,
         "equilibration_steps": 10, "sample_steps": 10, "sample_interval": 10, "elf_stage_steps": 20,
         "elf_n_formula_units": 2}  # fmt: skip


def _profile(name="quick", **overrides):
    from phasefire.workflows.amorphous import resolve_profile

    return resolve_profile(name, {**SMALL, **overrides})


def _workflow(profile, engine):
    from phasefire.workflows.amorphous import amorphous_workflow

    return amorphous_workflow(profile, engine, seed=0, name="test/sb2se3")


def _parents(workflow, fw):
    return [other.name for other in workflow.fws if other.fw_id in workflow.links.parent_links.get(fw.fw_id, [])]


def test_profiles_check_the_elf_pressures_and_steps():
    assert elf_settings(_profile())["pressures_GPa"] == [0.0, 35.0]
    with pytest.raises(PhasefireError, match=">= 30 GPa"):
        elf_settings(_profile(elf_pressures_GPa=[0, 20]))
    with pytest.raises(PhasefireError, match="not on the campaign ladder"):
        elf_settings(_profile(elf_n_formula_units=0, elf_pressures_GPa=[0, 40]))
    with pytest.raises(PhasefireError, match="multiple of sample_interval"):
        elf_settings(_profile(elf_stage_steps=25))


def test_no_elf_fireworks_when_off_or_without_gpaw(monkeypatch):
    names = [fw.name for fw in _workflow(_profile(elf=False), MLIP).fws]
    assert not any("elf" in name for name in names)
    monkeypatch.setitem(sys.modules, "gpaw", None)  # as if the dft extra were not installed
    names_without_gpaw = [fw.name for fw in _workflow(_profile(), MLIP).fws]
    assert names_without_gpaw == names  # the campaign itself is unchanged
    result = elf_comparison([], _profile(), MLIP)
    assert result["status"] == "gpaw missing" and "pip install 'phasefire[dft]'" in result["line"]
    lines = elf_lines(result)
    assert lines[0].startswith("## ELF") and any("pip install 'phasefire[dft]'" in line for line in lines)
    assert any("`elf` is false" in line for line in elf_lines(elf_comparison([], _profile(elf=False), MLIP)))


gpaw = pytest.importorskip("gpaw", reason="the dft extra is not installed (CC=g++ pip install 'phasefire[dft]')")


def test_ml_potential_campaign_gets_gpaw_elf_on_a_companion_chain():
    workflow = _workflow(_profile(), MLIP)
    elf = {fw.name: fw for fw in workflow.fws if fw.name.startswith("elf ")}
    assert sorted(elf) == ["elf a-sb2se3-hda-35GPa", "elf a-sb2se3-lda-0GPa", "elf sb2se3-pnma-0GPa"]
    for fw in elf.values():
        task = fw.tasks[0]
        assert task["task_type"] == "static" and task["settings"]["write_elf"] is True
        assert task["engine"]["name"] == "gpaw" and task["engine"]["ecut_eV"] == 250.0
        assert task["engine"]["nbands"] == "105%" and task["engine"]["eigenstates_convergence"] == 1e-4
    assert elf["elf a-sb2se3-lda-0GPa"].tasks[0]["engine"]["kpoint_density_per_inv_A"] is None  # Γ point
    assert elf["elf sb2se3-pnma-0GPa"].tasks[0]["engine"]["kpoint_density_per_inv_A"] == 1.5
    assert _parents(workflow, elf["elf a-sb2se3-lda-0GPa"]) == ["md elf companion compress 0 GPa"]
    assert _parents(workflow, elf["elf a-sb2se3-hda-35GPa"]) == ["md elf companion compress 35 GPa"]
    assert _parents(workflow, elf["elf sb2se3-pnma-0GPa"]) == ["relax sb2se3-pnma-0GPa"]
    companion = [fw for fw in workflow.fws if fw.name.startswith("md elf companion")]
    assert [fw.tasks[0]["settings"]["steps"] for fw in companion] == [20] * 5
    assert len(companion[0].tasks[0]["structure"]["sites"]) == 10  # 2 formula units, its own start
    assert all(fw.tasks[0]["metadata"]["elf"]["role"] == "companion" for fw in companion)


def test_paper_profile_uses_the_campaign_frames_and_vasp_computes_its_own_elf(fake_vasp):
    workflow = _workflow(_profile("paper", elf_n_formula_units=0), MLIP)
    elf = {fw.name: fw for fw in workflow.fws if fw.name.startswith("elf ")}
    assert not any(fw.name.startswith("md elf") for fw in workflow.fws)
    assert _parents(workflow, elf["elf a-sb2se3-lda-0GPa"]) == ["md compress 0 GPa"]
    assert _parents(workflow, elf["elf a-sb2se3-hda-35GPa"]) == ["md compress 35 GPa"]
    assert elf["elf a-sb2se3-lda-0GPa"].tasks[0]["engine"]["ecut_eV"] == 300.0
    vasp = _workflow(_profile(), {"name": "vasp"})
    engines = {fw.tasks[0]["engine"]["name"] for fw in vasp.fws if fw.name.startswith("elf ")}
    assert engines == {"vasp"}


def _elf_document(tmp_path, phase, pressure, atoms, values):
    """A static document whose ELFCAR holds ``values`` on ``atoms``."""
    folder = tmp_path / phase
    folder.mkdir()
    Elfcar(AseAtomsAdaptor.get_structure(atoms), {"total": values}).write_file(folder / "ELFCAR")
    return {
        "task_type": "static",
        "engine": {"name": "gpaw", "ecut_eV": 250.0},
        "wall_time_s": 10.0,
        "created_at": "2026-12-01T08:00:10",
        "run_dir": str(folder),
        "files": {"elf": "ELFCAR"},
        "input": {"metadata": {"elf": {"role": "frame", "phase": phase, "pressure_GPa": pressure}}},
        "output": {"pressure_GPa": pressure + 0.5, "lattice": {"volume_per_atom_A3": atoms.get_volume() / len(atoms)}},
    }


def test_comparison_on_elf_grids(tmp_path):
    """A localized grid (ELF 0.9 within 1.2 Å of an atom, 0.5 elsewhere) vs a uniform electron gas (0.5):
    midpoints, localized fraction and mean drop; each frame's figures equal the analysis functions' own."""
    lda = build("sb2se3-pnma")
    hda = lda.copy()
    hda.set_cell(lda.cell * 0.9, scale_atoms=True)
    shape = (48, 16, 48)
    fractional = np.stack(np.meshgrid(*[np.arange(n) / n for n in shape], indexing="ij"), axis=-1)
    points = fractional @ lda.cell.array
    near = np.zeros(shape, dtype=bool)
    for position in lda.positions:
        delta = points - position
        delta -= np.round(delta @ np.linalg.inv(lda.cell.array)) @ lda.cell.array  # minimum image
        near |= np.linalg.norm(delta, axis=-1) < 1.2
    localized = np.where(near, 0.9, 0.5)
    documents = [
        _elf_document(tmp_path, "LDA", 0.0, lda, localized),
        _elf_document(tmp_path, "HDA", 35.0, hda, np.full(shape, 0.5)),
        _elf_document(tmp_path, "Pnma", 0.0, lda, localized),
    ]
    campaign = {"task_type": "md", "input": {"metadata": {}}}
    kept, elf_documents = split_documents([campaign, *documents])
    assert kept == [campaign] and elf_documents == documents
    result = elf_comparison(documents, _profile(), MLIP)
    assert result["status"] == "computed" and result["frames"] == "campaign frames"
    lda_result, hda_result = result["phases"]["LDA"], result["phases"]["HDA"]
    assert lda_result["volume_fraction_localized"] == pytest.approx(near.mean())
    assert hda_result["volume_fraction_localized"] == 0.0 and hda_result["mean_midpoint_elf"] == pytest.approx(0.5)
    bonds = bond_elf(read_elf(tmp_path / "LDA" / "ELFCAR"), cutoff_A=3.2)
    assert lda_result["mean_midpoint_elf"] == pytest.approx(bonds.midpoint["total"].mean())
    assert 0.5 < lda_result["mean_midpoint_elf"] <= 0.9  # short bonds' midpoints lie within 1.2 Å of an atom
    assert lda_result["pld"] == pytest.approx(altbc(lda.repeat((1, 2, 1)), cutoff=3.6).pld) and lda_result["pld"] > 0.02
    changes = result["changes"]
    assert changes["mean_midpoint_elf"]["drops"] and changes["volume_fraction_localized"]["drops"]
    lines = "\n".join(elf_lines(result))
    assert "| mean bond-midpoint ELF |" in lines and "| drops |" in lines and "| Pnma | 0 |" in lines


@pytest.mark.slow
def test_whole_elf_part_runs_with_gpaw_on_a_tiny_companion_chain(store, tmp_path):
    """Companion melt-quench-compress chain (10 atoms, CHGNet) and GPAW ELF of both frames and Pnma
    (PW 150 eV): three ELFCARs, the HDA frame denser, and the comparison computed from them."""
    from fireworks import Workflow

    from phasefire.workflows.amorphous import resolve_profile
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad
    from tests.conftest import run_all

    profile = resolve_profile("quick", {**SMALL, "elf_ecut_eV": 150.0})
    fireworks = sb2se3_elf.elf_fireworks(profile, MLIP, "test/elf", "elf-test", 0, chain=[], relaxations=[])
    launchpad = open_launchpad(store)
    launchpad.add_wf(Workflow(fireworks, name="test/elf"))
    assert run_all(store) == len(fireworks) == 8
    documents = ResultsDB(launchpad).query(workflow="test/elf")
    _, elf_documents = split_documents(documents)
    assert len(elf_documents) == 8
    result = elf_comparison(elf_documents, profile, MLIP)
    assert result["status"] == "computed" and result["frames"] == "companion chain"
    lda, hda, pnma = (result["phases"][k] for k in ("LDA", "HDA", "Pnma"))
    assert lda["n_atoms"] == hda["n_atoms"] == 10 and pnma["n_atoms"] == 20
    assert hda["volume_per_atom_A3"] < lda["volume_per_atom_A3"]
    for phase in (lda, hda, pnma):
        assert phase["engine"]["name"] == "gpaw" and 0.05 < phase["mean_elf"] < 0.95
        assert 0 < phase["mean_midpoint_elf"] < 1 and 0 <= phase["volume_fraction_localized"] < 1
