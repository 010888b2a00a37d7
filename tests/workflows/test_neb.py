"""NEB workflows: the MLIP path end to end, the VASP image layout with the stand-in, the recorded
VASP NEB (malformed root vasprun.xml, per-image OUTCARs), flagged non-converged results, bad input."""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from ase.io import read

from phasefire.workflows.cli import main
from phasefire.workflows.errors import PhasefireError
from tests.conftest import REFERENCE, run_all

NH3_NEB = REFERENCE / "vasp" / "neb" / "aiida_vasp_NH3_neb"
#: energy(sigma->0) of the recorded images 01-03 (eV), from their OUTCARs
NH3_IMAGE_ENERGIES = [-19.49550593, -19.27978461, -19.49550730]


@pytest.fixture
def nh3_neb(tmp_path) -> Path:
    """The recorded NEB folder, gunzipped as VASP leaves it (root vasprun.xml included)."""
    folder = tmp_path / "nh3_neb"
    for source in NH3_NEB.rglob("*"):
        if source.is_file():
            target = folder / source.relative_to(NH3_NEB)
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.suffix == ".gz":
                with gzip.open(source, "rb") as src, open(target.with_suffix(""), "wb") as dst:
                    shutil.copyfileobj(src, dst)
            else:
                shutil.copyfile(source, target)
    return folder


def test_recorded_neb_root_vasprun_is_malformed_but_images_give_the_profile(nh3_neb):
    from phasefire.workflows.engines.vasp.parsing import parse_vasp_neb, parse_vasp_run, root_vasprun_problem

    with pytest.raises(PhasefireError, match="cannot parse .*vasprun.xml \\(XMLSyntaxError\\)"):
        parse_vasp_run(nh3_neb)
    assert root_vasprun_problem(nh3_neb).startswith("vasprun.xml is malformed (XMLSyntaxError")
    result = parse_vasp_neb(nh3_neb)
    assert np.isnan(result.energies_eV[[0, 4]]).all()  # VASP does not compute the endpoints
    assert result.energies_eV[1:4].tolist() == pytest.approx(NH3_IMAGE_ENERGIES, abs=1e-8)
    assert result.converged is True
    assert result.max_force_eV_per_A == pytest.approx(0.0286, abs=0.02)
    assert [len(image) for image in result.images] == [4] * 5


def analyze_neb(capsys, *argv):
    from phasefire.workflows.commands.analyze_neb import register_neb

    parser = argparse.ArgumentParser()
    register_neb(parser.add_subparsers())
    args = parser.parse_args(["neb", *argv])
    code = args.handler(args)
    return code, capsys.readouterr().out


def test_analyze_neb_reports_barriers_and_notes(capsys, nh3_neb, tmp_path):
    import json

    code, out = analyze_neb(capsys, str(nh3_neb), "--json", "--plot", str(tmp_path / "p.png"))
    summary = json.loads(out)
    assert code == 0
    assert summary["barrier_forward_eV"] == pytest.approx(NH3_IMAGE_ENERGIES[1] - NH3_IMAGE_ENERGIES[0])
    assert summary["barrier_backward_eV"] == pytest.approx(NH3_IMAGE_ENERGIES[1] - NH3_IMAGE_ENERGIES[2])
    assert summary["saddle_image"] == 2
    assert any("root vasprun.xml is malformed" in note for note in summary["notes"])
    assert any("endpoint energies unknown" in note for note in summary["notes"])
    assert (tmp_path / "p.png").stat().st_size > 0

    code, out = analyze_neb(capsys, str(nh3_neb), "--endpoint-energies", "-19.50", "-19.50")
    assert "barrier forward 0.2202 eV, backward 0.2202 eV, saddle image 02, converged: yes" in out
    assert "endpoint energies unknown" not in out


def test_analyze_neb_on_a_folder_without_images_is_one_line(capsys, tmp_path):
    with pytest.raises(PhasefireError, match="is not a VASP NEB folder: it needs image folders 00, 01"):
        analyze_neb(capsys, str(tmp_path))


def test_vasp_neb_writes_the_image_layout_and_runs_under_custodian(tmp_path, fake_vasp, nh3_neb):
    from phasefire.workflows.calculations import get_calculation
    from phasefire.workflows.calculations.neb import Endpoints, NEBSettings
    from phasefire.workflows.engines import load_engine

    fake_vasp([{
        "reference": str(NH3_NEB),
        "expect_incar": {"IMAGES": 3, "IBRION": 3, "POTIM": 0, "IOPT": 1, "LCLIMB": True, "SPRING": -5,
                         "ISIF": 2, "EDIFFG": -0.03, "NSW": 50, "ENCUT": 600},
    }])  # fmt: skip
    initial, final = read(nh3_neb / "00" / "POSCAR"), read(nh3_neb / "04" / "POSCAR")
    worker = {"potcar_dir": os.environ["PMG_VASP_PSP_DIR"], "vasp_cmd": os.environ["PHASEFIRE_VASP_CMD"]}
    engine = load_engine({"name": "vasp", "vtst": True, "polling_time_step_s": 0.05}, worker)
    workdir = tmp_path / "run"
    workdir.mkdir()
    endpoints = Endpoints(initial, final, (-19.50, -19.51), (None, None))
    settings = NEBSettings(n_images=3, fmax_eV_per_A=0.03, max_steps=50, climb=True)
    result = engine.run(get_calculation("neb"), endpoints, workdir, settings)
    assert sorted(p.name for p in workdir.iterdir() if p.is_dir()) == ["00", "01", "02", "03", "04"]
    assert read(workdir / "02" / "POSCAR.orig").get_chemical_symbols() == ["H", "H", "H", "N"]
    assert result.energies_eV.tolist() == pytest.approx([-19.50, *NH3_IMAGE_ENERGIES, -19.51])
    assert result.converged and result.details["climbing_image"]
    assert (workdir / "custodian.json").is_file()


def test_plain_vasp_neb_has_no_climbing_image():
    from ase.build import molecule

    from phasefire.workflows.calculations.neb import NEBSettings
    from phasefire.workflows.engines.vasp.inputs import neb_incar

    settings = NEBSettings(n_images=5, fmax_eV_per_A=0.05, max_steps=100, climb=True)
    plain = neb_incar(molecule("NH3"), settings, vtst=False)
    assert plain["IBRION"] == 1 and "LCLIMB" not in plain and plain["IMAGES"] == 5
    assert neb_incar(molecule("NH3"), settings, vtst=True)["LCLIMB"] is True


def test_engines_say_what_they_cannot_run():
    from phasefire.workflows.calculations.base import Calculation, Settings
    from phasefire.workflows.engines import load_engine

    class Phonon(Calculation):
        task_type = "phonon"
        settings_type = Settings

        def inputs(self, task, fw_spec):
            return None

        def run_with_calculator(self, engine, inputs, workdir, settings):
            return None

        def document(self, context, inputs, result, settings):
            return None

    with pytest.raises(PhasefireError, match="engine vasp has no recipe for phonon calculations"):
        load_engine("vasp").check(Phonon(), Settings())
    with pytest.raises(PhasefireError, match="engine vasp cannot evaluate forces directly"):
        load_engine("vasp").energies_and_forces([])
    assert load_engine("mlip").evaluates_forces() and not load_engine("vasp").evaluates_forces()


def test_unconverged_neb_is_stored_flagged_never_as_a_barrier(tmp_path):
    from ase.build import bulk

    from phasefire.workflows.calculations import NEBResult, TaskContext, get_calculation
    from phasefire.workflows.calculations.neb import Endpoints, NEBSettings

    images = [bulk("Cu", "fcc", a=3.6) for _ in range(3)]
    result = NEBResult(
        images=images, energies_eV=np.array([0.0, 0.4, 0.1]), converged=False, n_steps=2, max_force_eV_per_A=0.8
    )
    context = TaskContext(label="x", workflow="w", engine_spec={"name": "mlip"}, versions={}, run_dir=str(tmp_path),
                          wall_time_s=1.0, metadata={"hop": {"label": "Cu1-Cu1"}})  # fmt: skip
    endpoints = Endpoints(images[0], images[-1], (0.0, 0.1), (1, 2))
    document = get_calculation("neb").document(context, endpoints, result, NEBSettings()).model_dump()
    assert document["converged"] is False and document["task_type"] == "neb"
    assert document["output"]["barrier_forward_eV"] is None
    assert document["output"]["unconverged_barrier_forward_eV"] == pytest.approx(0.4)
    assert document["input"]["endpoint_task_ids"] == [1, 2]
    assert any("not converged" in note for note in document["notes"])
    assert (tmp_path / "neb.png").stat().st_size > 0


@pytest.mark.parametrize(
    "argv, message",
    [(["--species", "I"], "no I in"),
     (["--species", "Br", "--defect", "interstitial"], "defect 'interstitial' is not supported"),
     (["--species", "Br", "--hops", "3"], "give 'all', 'shortest' or indices 0..0"),
     (["--species", "Br", "--attempt-frequency", "fast"], "attempt_frequency must be a frequency in Hz or 'vineyard'")],
)  # fmt: skip
def test_bad_neb_input_is_one_line(store, capsys, argv, message):
    code = main(["submit", "neb", "--structure", "cspbbr3-cubic", *argv])
    err = capsys.readouterr().err
    assert code == 1
    (line,) = [line for line in err.splitlines() if line.startswith("phasefire: error:")]
    assert message in line


def test_mlip_neb_workflow_stores_barrier_profile_saddle_transport_and_plot(store, capsys):
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.launchpad import open_launchpad

    code = main(["submit", "neb", "--structure", "cspbbr3-cubic", "--species", "Br", "--temperature", "400",
                 "--set", "n_images=1", "--set", "fmax_eV_per_A=0.1", "--set", "endpoint_fmax_eV_per_A=0.05"])  # fmt: skip
    assert code == 0 and "1 hop(s), 3 firework(s)" in capsys.readouterr().out
    assert run_all(store) == 3
    documents = ResultsDB(open_launchpad()).query()
    (neb,) = [d for d in documents if d["task_type"] == "neb"]
    assert len(documents) == 3  # two endpoint relaxations + the NEB
    assert neb["converged"] is True
    output = neb["output"]
    transport = output["transport"]
    assert 0.01 < output["barrier_forward_eV"] < 1.5 and 0.01 < output["barrier_backward_eV"] < 1.5
    assert len(output["energy_profile"]["energies_eV"]) == 3 and output["energy_profile"]["saddle_index"] == 1
    assert len(output["saddle_structure"]["sites"]) == 39
    assert neb["input"]["metadata"]["hop"]["supercell"] == [2, 2, 2]
    assert neb["fw_id"] is not None and {d["task_type"] for d in documents} == {"relax", "neb"}
    assert transport["temperature_K"] == 400
    assert transport["hop_rate_forward_per_s"] == pytest.approx(
        1e13 * np.exp(-output["barrier_forward_eV"] / (8.617333262e-5 * 400))
    )
    assert transport["mobility_cm2_per_V_s"] == pytest.approx(transport["diffusion_cm2_per_s"] / (8.617333262e-5 * 400))
    assert Path(neb["run_dir"], neb["files"]["plot"]).stat().st_size > 0


def test_gamma_frequencies_for_vineyard_have_three_translations():
    from phasefire.structures import build
    from phasefire.workflows.engines import load_engine
    from phasefire.workflows.neb import gamma_frequencies_THz

    frequencies = gamma_frequencies_THz(load_engine("mlip"), build("cspbbr3-cubic"))
    assert frequencies.shape == (15,)
    assert np.sort(np.abs(frequencies))[:3] == pytest.approx([0, 0, 0], abs=0.05)


def test_vineyard_needs_an_engine_that_evaluates_forces():
    from phasefire.structures import build
    from phasefire.workflows.engines import load_engine
    from phasefire.workflows.neb import gamma_frequencies_THz

    with pytest.raises(
        PhasefireError, match="attempt_frequency=vineyard needs direct force evaluation, which engine vasp lacks"
    ):
        gamma_frequencies_THz(load_engine("vasp"), build("cspbbr3-cubic"))


def test_analyze_neb_names_the_bad_file(capsys, nh3_neb):
    """A truncated CONTCAR, one holding NaN and a missing last image folder (INCAR says IMAGES = 3)."""
    contcar = nh3_neb / "02" / "CONTCAR"
    original = contcar.read_text()
    contcar.write_text("\n".join(original.splitlines()[:6]))
    with pytest.raises(PhasefireError, match=r"cannot parse .*02/CONTCAR .*truncated or corrupt"):
        analyze_neb(capsys, str(nh3_neb))
    lines = original.splitlines()
    lines[8] = "  nan nan nan"
    contcar.write_text("\n".join(lines) + "\n")
    with pytest.raises(PhasefireError, match=r"02/CONTCAR holds non-finite coordinates"):
        analyze_neb(capsys, str(nh3_neb))
    contcar.write_text(original)
    shutil.rmtree(nh3_neb / "04")
    with pytest.raises(PhasefireError, match=r"INCAR says IMAGES = 3, so 5 image folders 00 ... 04, but .* has 4"):
        analyze_neb(capsys, str(nh3_neb))


def test_endpoint_check_flags_symmetry_equivalent_endpoints_that_differ():
    """Ideal Br-vacancy hop endpoints in CsPbBr3 are images of each other: CHGNet gives them the same
    energy; a displaced Pb makes one endpoint inequivalent and higher in energy, which is flagged."""
    from phasefire.structures import build
    from phasefire.structures.defects import distinct_hops, supercell_repeats, vacancy_hop_endpoints
    from phasefire.workflows.engines import load_engine
    from phasefire.workflows.neb import endpoint_check, endpoints_equivalent

    host = build("cspbbr3-cubic")
    hop = distinct_hops(host, "Br")[0]
    initial, final = vacancy_hop_endpoints(host, hop, supercell_repeats(host, 9.0))
    assert endpoints_equivalent(initial, final)
    engine = load_engine({"name": "mlip", "model": "chgnet"})
    energies = engine.energies_and_forces([initial, final])[0]
    check = endpoint_check(initial, final, energies[0], energies[1], True, 0.01)
    assert abs(check["energy_difference_eV"]) < 1e-3 and check["relaxed_equivalent"] and not check["flagged"]
    distorted = final.copy()
    lead = [k for k, symbol in enumerate(distorted.get_chemical_symbols()) if symbol == "Pb"][0]
    distorted.positions[lead] += [0.5, 0.0, 0.0]
    energy = engine.energies_and_forces([distorted])[0][0]
    check = endpoint_check(initial, distorted, energies[0], energy, True, 0.01)
    assert check["energy_difference_eV"] > 0.01 and not check["relaxed_equivalent"] and check["flagged"]
    assert not endpoint_check(initial, distorted, energies[0], energy, False, 0.01)["flagged"]  # other sites
