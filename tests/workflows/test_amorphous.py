"""The amorphous Sb2Se3 campaign: profiles, checkpointed MD (exact resume, SIGKILL + rerun),
a real CHGNet NPT stage, a small campaign through FireWorks and the VASP AIMD inputs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.lj import LennardJones
from ase.io import Trajectory
from fireworks import Firework, Workflow

import phasefire.workflows.calculations.md as md_module
from phasefire.structures import build
from phasefire.structures.amorphous import amorphous_sb2se3_start
from phasefire.workflows.amorphous import amorphous_workflow, md_stages, resolve_profile, split_overrides
from phasefire.workflows.calculations import get_calculation
from phasefire.workflows.calculations.md import MD_STATE, MD_TRAJECTORY, MDSettings, langevin_md
from phasefire.workflows.cli import main
from phasefire.workflows.database import ResultsDB
from phasefire.workflows.documents import structure_dict
from phasefire.workflows.engines import load_engine
from phasefire.workflows.errors import PhasefireError
from phasefire.workflows.launchpad import open_launchpad
from phasefire.workflows.tasks import CalculationTask
from tests.conftest import REFERENCE, run_all

#: a campaign small enough for a test: 20 atoms (half the cell height stays above the 3.2 Å bond cutoff
#: at 20 GPa, so the report analysis runs), a few steps per stage, three pressures
TINY = {
    "n_formula_units": 4, "melt_steps": 10, "quench_steps": 10, "anneal_steps": 10, "equilibration_steps": 10,
    "sample_steps": 10, "sample_interval": 5, "pressures_GPa": [0, 10, 20], "crystal_fmax_eV_per_A": 0.1,
    "crystal_max_steps": 20, "crystal_md_supercell": [1, 1, 1], "crystal_md_equilibration_steps": 10,
    "crystal_md_sample_steps": 10, "elf": False,  # the ELF part has its own tests (test_sb2se3_elf.py)
}  # fmt: skip


def lennard_jones():
    return LennardJones(sigma=2.4, epsilon=0.05, rc=5.0, smooth=True)


def test_profiles_take_overrides_and_reject_bad_ones():
    profile = resolve_profile("quick", {"melt_steps": 40, "pressures_GPa": 5})
    assert profile["melt_steps"] == 40 and profile["pressures_GPa"] == [5.0]
    assert resolve_profile("paper")["n_formula_units"] * 5 >= 300
    assert split_overrides({"melt_steps": 1, "model": "sevennet"}, "quick") == (
        {"melt_steps": 1},
        {"model": "sevennet"},
    )
    with pytest.raises(PhasefireError, match="unknown profile"):
        resolve_profile("huge")
    with pytest.raises(PhasefireError, match="no parameter melt_stepz"):
        resolve_profile("quick", {"melt_stepz": 3})
    with pytest.raises(PhasefireError, match="multiple of sample_interval"):
        resolve_profile("quick", {"sample_steps": 15})
    with pytest.raises(PhasefireError, match="multiple of sample_interval"):
        resolve_profile("quick", {"crystal_md_sample_steps": 15})
    assert resolve_profile("quick", {"crystal_md_supercell": (1, 2, 1)})["crystal_md_supercell"] == [1, 2, 1]
    with pytest.raises(PhasefireError, match="three positive integers"):
        resolve_profile("quick", {"crystal_md_supercell": [1, 0, 1]})


@pytest.mark.parametrize("name", ["quick", "paper"])
def test_profiles_equilibrate_every_pressure_for_several_barostat_times(name):
    """Each pressure starts from the previous one's end state; its equilibration spans >= 3 barostat times
    (the profile's barostat_time_fs) before sampling, and sampling spans ~1 barostat time or more, so the
    settling check (mean volume of the first vs second half of sampling) sees at least one cell oscillation."""
    profile = resolve_profile(name)
    barostat_time_fs = profile["barostat_time_fs"]
    for equilibration, sampling in (("equilibration_steps", "sample_steps"),
                                    ("crystal_md_equilibration_steps", "crystal_md_sample_steps")):  # fmt: skip
        assert profile[equilibration] * profile["timestep_fs"] >= 3 * barostat_time_fs
        assert profile[sampling] * profile["timestep_fs"] >= 0.9 * barostat_time_fs
        assert profile[sampling] // profile["sample_interval"] >= 10  # frames for the two halves
    cell = build("sb2se3-pnma", tuple(profile["crystal_md_supercell"])).cell
    assert min(cell.lengths()) > 11  # no axis of the crystal MD cell as short as the 20-atom cell's 3.9 Å b


def test_workflow_is_one_firework_per_stage_plus_crystal_relaxations():
    profile = resolve_profile("quick", {"elf": False})  # ELF fireworks: test_sb2se3_elf.py
    workflow = amorphous_workflow(profile, {"name": "mlip", "model": "chgnet"}, seed=4)
    names = [fw.name for fw in workflow.fws]
    assert names[:4] == ["md melt", "md quench", "md anneal", "md compress 0 GPa"]
    assert names.count("relax sb2se3-pnma-16GPa") == 1
    assert len(workflow.fws) == 3 + 3 * len(profile["pressures_GPa"])
    stages = dict(md_stages(profile, seed=4))
    assert stages["compress 16 GPa"]["pressure_GPa"] == 16 and stages["quench"]["temperature_end_K"] == 300
    assert len({s["seed"] for s in stages.values()}) == len(stages)
    by_name = {fw.name: fw for fw in workflow.fws}
    assert workflow.links[by_name["md compress 4 GPa"].fw_id] == [by_name["md compress 8 GPa"].fw_id]


def test_workflow_runs_the_pnma_crystal_by_the_same_npt_md_at_every_ladder_pressure():
    profile = resolve_profile("quick")
    workflow = amorphous_workflow(profile, {"name": "mlip", "model": "chgnet"}, seed=4)
    by_name = {fw.name: fw for fw in workflow.fws}
    crystal = [by_name[f"md sb2se3-pnma-1x3x1-300K-{p:g}GPa"] for p in profile["pressures_GPa"]]
    amorphous = by_name["md compress 16 GPa"].tasks[0]
    for fw, pressure in zip(crystal, profile["pressures_GPa"]):
        task = fw.tasks[0]
        assert task["task_type"] == amorphous["task_type"] == "md"  # the same integrator, thermostat and barostat
        assert task["engine"] == amorphous["engine"]
        assert task["metadata"] == {"phase": "pnma", "supercell": [1, 3, 1]}
        settings = task["settings"]
        assert settings["pressure_GPa"] == pressure and settings["temperature_K"] == 300.0
        assert settings["timestep_fs"] == amorphous["settings"]["timestep_fs"]
        assert settings["sample_interval"] == amorphous["settings"]["sample_interval"]
        assert settings["equilibration_steps"] == profile["crystal_md_equilibration_steps"]
        assert settings["steps"] == profile["crystal_md_equilibration_steps"] + profile["crystal_md_sample_steps"]
        assert "_priority" not in fw.spec  # the amorphous chain (the critical path) goes first
    assert len(crystal[0].tasks[0]["structure"]["sites"]) == 60
    assert all("structure" not in fw.tasks[0] for fw in crystal[1:])  # each from the previous pressure's end state
    for parent, child in zip(crystal, crystal[1:]):
        assert workflow.links[parent.fw_id] == [child.fw_id]
    # independent of the amorphous chain: no link between the two ladders
    chain_ids = {fw.fw_id for fw in workflow.fws if fw.name.startswith("md ") and "pnma" not in fw.name}
    assert not any(set(workflow.links[fw.fw_id]) & chain_ids for fw in crystal)
    seeds = [fw.tasks[0]["settings"]["seed"] for fw in workflow.fws if fw.name.startswith("md ")]
    assert len(set(seeds)) == len(seeds)


def test_submit_amorphous_applies_profile_and_engine_overrides(store, capsys):
    assert main(["submit", "amorphous", "--profile", "quick", "--seed", "5", "--set", "melt_steps=20",
                 "--set", "pressures_GPa=[0, 30]", "--set", "model=sevennet", "--set", "elf=false"]) == 0  # fmt: skip
    assert "9 firework(s)" in capsys.readouterr().out
    fireworks = {fw["name"]: fw for fw in open_launchpad().fireworks.find({})}
    melt = fireworks["md melt"]["spec"]["_tasks"][0]
    assert melt["settings"]["steps"] == 20 and melt["settings"]["seed"] == 5
    # an old spelling keeps working; choosing a model replaces the study's (7net-l3i5, d3bj) pair
    assert melt["engine"] == {
        "name": "mlip",
        "model": "7net-0",
        "checkpoint": None,
        "dispersion": "none",
        "device": None,
    }
    assert fireworks["relax sb2se3-pnma-30GPa"]["spec"]["_tasks"][0]["settings"]["pressure_GPa"] == 30
    assert main(["submit", "amorphous", "--set", "melt_stepz=1"]) == 1
    assert "workflow settings: n_formula_units" in capsys.readouterr().err
    for bad, reason in (("abc", "valid number"), ("0", "greater than 0")):  # one line, nothing stored
        assert main(["submit", "amorphous", "--set", f"barostat_time_fs={bad}"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("phasefire: error: md settings: 'barostat_time_fs'") and reason in err, err
        assert err.count("\n") == 1
    assert open_launchpad().fireworks.count_documents({}) == len(fireworks)


def test_killed_md_resumes_exactly_where_it_stopped(tmp_path, monkeypatch):
    atoms = bulk("Se", "sc", a=2.9, cubic=True).repeat((3, 3, 3))
    settings = {
        "temperature_K": 500.0,
        "pressure_GPa": 2.0,
        "timestep_fs": 2.0,
        "steps": 40,
        "sample_interval": 5,
        "seed": 1,
    }
    (tmp_path / "whole").mkdir()
    (tmp_path / "killed").mkdir()
    settings = MDSettings(**settings)
    whole = langevin_md(atoms, lennard_jones(), tmp_path / "whole", settings)

    real_write, writes = md_module._write_json_atomically, []

    def die_on_third_checkpoint(path, data):
        writes.append(data["step"])
        if len(writes) == 3:  # frame 3 is in md.traj but its checkpoint never lands
            raise KeyboardInterrupt
        real_write(path, data)

    monkeypatch.setattr(md_module, "_write_json_atomically", die_on_third_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        langevin_md(atoms, lennard_jones(), tmp_path / "killed", settings)
    monkeypatch.setattr(md_module, "_write_json_atomically", real_write)
    assert json.loads((tmp_path / "killed" / MD_STATE).read_text())["step"] == 10

    resumed = langevin_md(atoms, lennard_jones(), tmp_path / "killed", settings)
    assert resumed.details["resumed_from_step"] == 10
    assert np.array_equal(resumed.atoms.positions, whole.atoms.positions)
    assert np.array_equal(resumed.atoms.cell.array, whole.atoms.cell.array)
    with Trajectory(str(tmp_path / "killed" / MD_TRAJECTORY)) as frames:
        assert len(frames) == 40 // 5
    assert resumed.details == {**whole.details, "resumed_from_step": 10}


def test_a_shorter_barostat_time_moves_the_cell_sooner(tmp_path):
    """barostat_time_fs reaches the integrator: from the same start and seed, a 100 fs barostat has
    changed the volume more after 20 steps than a 1000 fs one (a lighter, faster cell)."""
    atoms = bulk("Se", "sc", a=2.9, cubic=True).repeat((3, 3, 3))
    moved = {}
    for barostat_time_fs in (100.0, 1000.0):
        settings = MDSettings(temperature_K=300.0, pressure_GPa=5.0, timestep_fs=2.0, steps=20, sample_interval=10,
                              barostat_time_fs=barostat_time_fs, seed=1)  # fmt: skip
        (tmp_path / f"{barostat_time_fs:g}").mkdir()
        result = langevin_md(atoms, lennard_jones(), tmp_path / f"{barostat_time_fs:g}", settings)
        moved[barostat_time_fs] = abs(result.atoms.get_volume() / atoms.get_volume() - 1)
    assert moved[100.0] > 3 * moved[1000.0] > 0


def test_chgnet_npt_stage_compresses_and_writes_frames(tmp_path):
    atoms = amorphous_sb2se3_start(4, np.random.default_rng(0))
    engine = load_engine({"name": "mlip"}, {"mlip_threads": 1})
    settings = MDSettings(temperature_K=300.0, pressure_GPa=20.0, timestep_fs=3.0, steps=40, sample_interval=10,
                          equilibration_steps=20, seed=0)  # fmt: skip
    result = engine.run(get_calculation("md"), atoms, tmp_path, settings)
    extra = result.details
    assert result.files == {"trajectory": MD_TRAJECTORY}
    assert extra["n_frames"] == 4 and extra["n_samples"] == 2 and extra["sample_start_frame"] == 2
    with Trajectory(str(tmp_path / MD_TRAJECTORY)) as frames:
        volumes = [frame.get_volume() for frame in frames]
        assert "stress" in frames[-1].calc.results
    assert volumes[-1] < 0.95 * atoms.get_volume()  # 20 GPa squeezes the 0 GPa-density start
    assert extra["mean_density_g_cm3"] > 5.0
    # the random start's strained bonds release heat faster than the 100 fs thermostat removes it
    assert extra["mean_pressure_GPa"] > 0 and 100 < extra["mean_temperature_K"] < 10_000


def test_tiny_campaign_chains_stages_and_stores_documents(store):
    profile = resolve_profile("quick", TINY)
    engine = load_engine({"name": "mlip"}).spec()
    workflow = amorphous_workflow(profile, engine, seed=2, name="amorphous/test")
    open_launchpad().add_wf(workflow)
    assert run_all(store) == len(workflow.fws)
    documents = {
        f"{d['task_type']} {d['label']}": d for d in ResultsDB(open_launchpad()).query(workflow="amorphous/test")
    }
    assert {"md melt", "md quench", "md anneal", "md compress 20 GPa", "relax sb2se3-pnma-10GPa"} <= set(documents)
    compress = documents["md compress 20 GPa"]
    assert compress["input"]["settings"]["pressure_GPa"] == 20
    assert compress["output"]["n_frames"] == 4 and compress["files"]["trajectory"] == MD_TRAJECTORY
    assert Path(compress["run_dir"], MD_TRAJECTORY).is_file()
    # each stage starts from its parent's end structure
    anneal, first = documents["md anneal"], documents["md compress 0 GPa"]
    assert first["input"]["structure"]["lattice"] == anneal["output"]["structure"]["lattice"]
    volumes = [documents[f"relax sb2se3-pnma-{p}GPa"]["output"]["lattice"]["volume_per_atom_A3"] for p in (0, 10, 20)]
    assert volumes[0] > volumes[1] > volumes[2]
    # the crystal MD ladder: 20-atom Pnma at 300 K, each pressure from the previous one's end state
    hot = [documents[f"md sb2se3-pnma-1x1x1-300K-{p}GPa"] for p in (0, 10, 20)]
    assert [d["input"]["metadata"]["phase"] for d in hot] == ["pnma"] * 3 and hot[0]["nsites"] == 20
    assert hot[1]["input"]["structure"]["lattice"] == hot[0]["output"]["structure"]["lattice"]
    assert hot[0]["output"]["mean_volume_per_atom_A3"] > hot[2]["output"]["mean_volume_per_atom_A3"]

    from phasefire.workflows.reports.sb2se3 import linear_crossover
    from phasefire.workflows.studies.sb2se3 import campaign_summary

    summary = campaign_summary(list(documents.values()), "amorphous/test", profile)
    assert [s["target_pressure_GPa"] for s in summary["stages"]] == [0, 10, 20]  # the crystal MD is not amorphous
    assert [c["target_pressure_GPa"] for c in summary["crystal_md"]] == [0, 10, 20]
    for point, document in zip(summary["crystal_md"], hot):
        assert point["volume_per_atom_A3"] == document["output"]["mean_volume_per_atom_A3"]
        with Trajectory(str(Path(document["run_dir"], MD_TRAJECTORY))) as frames:  # settling, recomputed here
            sampled = [frames[k].get_volume() for k in range(document["output"]["sample_start_frame"], len(frames))]
        assert point["volume_drift_percent"] == pytest.approx(100 * (sampled[1] - sampled[0]) / np.mean(sampled))
    comparison = summary["comparison"]
    assert comparison["density_crossover_GPa"]["reference"] == "Pnma NPT MD at 300 K"
    assert comparison["density_crossover_crystal_0K_GPa"]["reference"] == "Pnma relaxed at 0 K"
    # 3 pressures: no Birch–Murnaghan fit, so the crossover is the linear one between ladder points
    assert comparison["density_crossover_GPa"]["value"] == linear_crossover(summary["stages"], summary["crystal_md"])
    assert comparison["amorphous_branches"] is None  # fewer than 6 points
    settling = summary["settling"]
    assert (
        settling["barostat_time_fs"] == profile["barostat_time_fs"] == hot[0]["input"]["settings"]["barostat_time_fs"]
    )
    assert compress["input"]["settings"]["barostat_time_fs"] == profile["barostat_time_fs"]
    assert settling["amorphous_equilibration_barostat_times"] == pytest.approx(10 * 3.0 / profile["barostat_time_fs"])
    assert summary["crystal_md_steps"] == 3 * 20 and summary["md_steps"] == 3 * 10 + 3 * 20


def wait_for(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_sigkilled_worker_md_continues_from_last_frame_after_rerun(store):
    """A worker killed with SIGKILL mid-MD; `phasefire run --rerun-lost` continues the same
    trajectory from its last checkpoint instead of from step 0."""
    steps, interval = 120, 5
    settings = {"temperature_K": 600.0, "timestep_fs": 3.0, "steps": steps, "sample_interval": interval, "seed": 3}
    task = CalculationTask(task_type="md", engine={"name": "mlip"}, label="melt", settings=settings, workflow="sigkill",
                           structure=structure_dict(amorphous_sb2se3_start(2, np.random.default_rng(1))))  # fmt: skip
    run_dir = store.runs_dir / "sigkill" / "melt"
    open_launchpad().add_wf(
        Workflow([Firework([task], name="md melt", spec={"_launch_dir": str(run_dir)})], name="sigkill")
    )

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-c", "from phasefire.workflows.worker import run_worker; run_worker()"], env=env
    )
    state = run_dir / MD_STATE
    try:
        wait_for(lambda: state.is_file() and json.loads(state.read_text())["step"] >= 30, 120, "6 frames")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    killed_at = json.loads(state.read_text())["step"]
    assert killed_at < steps
    with Trajectory(str(run_dir / MD_TRAJECTORY)) as frames:
        first_frame = frames[0].positions.copy()

    assert main(["run", "--rerun-lost"]) == 0
    (document,) = ResultsDB(open_launchpad()).query(workflow="sigkill")
    assert document["output"]["resumed_from_step"] >= killed_at
    assert document["n_steps"] == steps and json.loads(state.read_text())["step"] == steps
    with Trajectory(str(run_dir / MD_TRAJECTORY)) as frames:
        assert len(frames) == steps // interval
        assert np.array_equal(frames[0].positions, first_frame)


def test_vasp_aimd_writes_langevin_npt_inputs_and_parses_recorded_md(store, fake_vasp, tmp_path, monkeypatch):
    """Inputs checked by the stand-in; outputs: the recorded Si64 AIMD (10 steps, 2000 K)."""
    recorded = tmp_path / "recorded-md"
    recorded.mkdir()
    shutil.copy(REFERENCE / "vasp" / "md" / "vasprun.md.xml.gz", recorded / "vasprun.xml.gz")
    shutil.copy(REFERENCE / "vasp" / "md" / "CONTCAR.MD", recorded / "CONTCAR")
    monkeypatch.setenv("PHASEFIRE_VASP_GAMMA_CMD", os.environ["PHASEFIRE_VASP_CMD"])
    fake_vasp([{
        "reference": str(recorded),
        "expect_incar": {"IBRION": 0, "MDALGO": 3, "ISIF": 3, "PSTRESS": 50, "TEBEG": 2000, "TEEND": 2000,
                         "NSW": 10, "POTIM": 3, "ISYM": 0, "PREC": "Normal", "NBLOCK": 2, "LANGEVIN_GAMMA_L": 4},
        "expect_kpoints": [1, 1, 1],
    }])  # fmt: skip
    silicon = bulk("Si", "diamond", a=5.4309, cubic=True).repeat(2)
    settings = {"temperature_K": 2000.0, "pressure_GPa": 5.0, "timestep_fs": 3.0, "steps": 10, "sample_interval": 2,
                "equilibration_steps": 4, "barostat_time_fs": 250.0, "seed": 0}  # fmt: skip
    engine = load_engine({"name": "vasp", "polling_time_step_s": 0.05, "require_output_files": False}).spec()
    task = CalculationTask(task_type="md", engine=engine, label="compress 5 GPa", settings=settings, workflow="aimd",
                           structure=structure_dict(silicon))  # fmt: skip
    open_launchpad().add_wf(Workflow([Firework([task], name="md compress 5 GPa")], name="aimd"))
    assert run_all(store) == 1
    (document,) = ResultsDB(open_launchpad()).query(workflow="aimd")
    extra = document["output"]
    assert document["n_steps"] == 10 and document["converged"] is True
    assert extra["n_frames"] == 5 and extra["n_samples"] == 3
    assert 300 < extra["mean_temperature_K"] < 4000
    assert extra["mean_volume_per_atom_A3"] == pytest.approx(10.8618**3 / 64, rel=1e-6)
    assert document["versions"]["vasp"]
    with Trajectory(str(Path(document["run_dir"], MD_TRAJECTORY))) as frames:
        assert len(frames) == 5 and frames[-1].get_potential_energy() < 0


def synthetic_ladder():
    """Stages whose landmarks are known: r1 peaks at 16 GPa, 60° weight jumps at 20 GPa,
    3-rings take over at 24 GPa; amorphous and crystal volumes follow Birch–Murnaghan
    curves that cross at ``true_crossover``."""
    from scipy.optimize import brentq

    from phasefire.analysis.eos import BirchMurnaghanFit

    crystal_eos = BirchMurnaghanFit(27.3, 40.0, 5.0, 0, 0, 0, 0, (0.0, 60.0))
    amorphous_eos = BirchMurnaghanFit(32.5, 14.0, 6.0, 0, 0, 0, 0, (0.0, 60.0))
    true_crossover = brentq(lambda p: amorphous_eos.volume(p) - crystal_eos.volume(p), 1, 59)
    pressures = [0, 4, 8, 12, 16, 20, 24, 30, 40, 60]
    stages = []
    for p in pressures:
        stages.append({
            "target_pressure_GPa": p, "pressure_GPa": p, "pressure_std_GPa": 0.5, "temperature_K": 300.0,
            "volume_per_atom_A3": amorphous_eos.volume(p), "density_g_cm3": 5.0,
            "r1_A": 2.80 - 0.002 * abs(p - 16), "r1_error_A": 0.001, "weight_near_60": 0.02 if p < 20 else 0.10,
            "ring_fraction": {"3": 0.5, "4": 0.3, "6": 0.2} if p >= 24 else {"3": 0.1, "4": 0.6, "6": 0.3},
            "cn_by_species": {"Sb": 3 + p / 10, "Se": 2 + p / 10}, "cn_mean": 2.5 + p / 10,
            "g_r": {"r_A": [1.0, 2.0, 3.0], "g": [0.0, 2.0, 1.0]}, "adf": {"angle_deg": [30, 60, 90], "density_per_deg": [0, 0.01, 0.02]},
        })  # fmt: skip
    crystal = [{"pressure_GPa": p, "volume_per_atom_A3": crystal_eos.volume(p)} for p in pressures]
    return stages, crystal, true_crossover


def test_landmarks_and_report_from_a_known_ladder(tmp_path):
    from phasefire.workflows.reports.sb2se3 import compare_with_paper, write_report
    from phasefire.workflows.studies.sb2se3 import CAVEATS

    stages, crystal, true_crossover = synthetic_ladder()
    comparison = compare_with_paper(stages, crystal)
    assert 5 < true_crossover < 40
    assert comparison["density_crossover_GPa"]["value"] == pytest.approx(true_crossover, abs=1e-3)
    assert comparison["angle_60_onset_GPa"]["value"] == 20
    assert comparison["three_rings_dominant_GPa"]["value"] == 24
    assert comparison["r1_maximum_GPa"]["value"] == 16
    assert "expands then contracts" in comparison["r1_maximum_GPa"]["how"]
    summary = {"workflow": "w", "engine": "mlip", "profile_name": "quick", "n_atoms": 100, "seed": 0, "wall_time_s": 1.0,
               "stages": stages, "crystal": crystal, "comparison": comparison, "caveats": CAVEATS}  # fmt: skip
    report = write_report(summary, tmp_path / "report")
    text = report.read_text()
    # no crystal MD in this ladder: the headline is against the 0 K relaxations and says so
    assert "| density crossover a-Sb2Se3 / Pnma vs Pnma relaxed at 0 K (GPa) | ~16 |" in text
    assert "## Density crossover: crystal references and LDA/HDA branches" in text
    for figure in ("gr", "adf", "cn", "rings", "volume"):
        assert (tmp_path / "report" / f"{figure}_vs_pressure.png").stat().st_size > 5000
    assert (
        json.loads((tmp_path / "report" / "results.json").read_text())["comparison"]["angle_60_onset_GPa"]["value"]
        == 20
    )


@pytest.mark.slow
def test_quick_profile_campaign_end_to_end(store, capsys):
    """The whole quick ladder with the study's default model and its report (hours on 2 cores: see PROFILES)."""
    assert main(["reproduce", "sb2se3", "--profile", "quick", "--workers", "2", "--out", "report"]) == 0
    out = capsys.readouterr().out
    assert "density crossover" in out and Path("report", "report.md").is_file()
