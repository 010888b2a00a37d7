"""``phasefire reproduce cspbx3``: halide-vacancy NEB in cubic CsPbBr3 and CsPbCl3 (MLIP), the
barriers fed to the nanowire rectification model, and a report (Markdown + PNG) beside the paper's
parameter set and the experimental Br-vacancy barrier."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from phasefire.workflows.commands._output import positive_float, positive_int, print_json

#: the quick profile: NEB settings and the biases of the rectification model (V/µm)
PROFILES = {
    "quick": {"neb": {"n_images": 3, "fmax_eV_per_A": 0.05, "endpoint_fmax_eV_per_A": 0.05}, "biases": [1.5, 2.5, 4.0],
              "hours": 4.0, "grid_points": 400, "sweep": [-4.0, -2.0, -0.5, 0.0, 0.5, 1.5, 2.5, 4.0]},
    "paper": {"neb": {"n_images": 5, "fmax_eV_per_A": 0.03, "endpoint_fmax_eV_per_A": 0.01}, "biases": [1.5, 2.0, 2.5, 3.0, 3.5, 4.0],
              "hours": 4.0, "grid_points": 1000, "sweep": None},
}  # fmt: skip
SYSTEMS = (("cspbbr3-cubic", "Br"), ("cspbcl3-cubic", "Cl"))


def register(studies: argparse._SubParsersAction) -> None:
    parser = studies.add_parser(
        "cspbx3", help="CsPbBr3/CsPbCl3 halide-vacancy NEB fed to the rectification model, with a report"
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick", help="quick (default) or paper")
    parser.add_argument("--engine", default="mlip", help="mlip (default, CHGNet) or vasp")
    parser.add_argument(
        "--temperature", type=positive_float("--temperature"), default=300.0, metavar="K", help="temperature (300 K)"
    )
    parser.add_argument(
        "--workers", type=positive_int("--workers"), default=1, help="local worker processes (default 1)"
    )
    parser.add_argument("--out", default=None, help="report folder (default reports/cspbx3-<timestamp>)")
    parser.add_argument("--from-workflow", default=None, metavar="NAME",
                        help="report on the stored NEBs of this finished workflow instead of running new ones")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(handler=reproduce_cspbx3)


def flagged_hops(documents: dict[str, dict]) -> dict[str, str]:
    """Species whose NEB gives no hop barrier: the highest image is an endpoint (the endpoints relaxed
    into different structures, one far above the other), with the reason. Endpoints that differ
    less are fed to the model and carried as the barrier's uncertainty in the report."""
    from phasefire.workflows.calculations.neb import saddle_at_endpoint

    reasons = {}
    for species, document in documents.items():
        profile = document["output"]["energy_profile"]
        if saddle_at_endpoint(profile["saddle_index"], len(profile["energies_eV"])):
            check = document["output"].get("endpoint_check") or {}
            reasons[species] = (f"the highest image is an endpoint, E_final - E_initial = "
                                f"{profile['energies_eV'][-1] - profile['energies_eV'][0]:+.3f} eV; endpoints "
                                f"equivalent after relaxation: {check.get('relaxed_equivalent', 'not checked')}")  # fmt: skip
    return reasons


def reproduce_cspbx3(args: argparse.Namespace) -> int:
    from fireworks import Workflow

    from phasefire.models.rectification import RectificationParameters, parameters_from_barrier
    from phasefire.models.rectification_study import neb_barriers, rectification_runs, rectification_study
    from phasefire.structures import build
    from phasefire.workflows.commands.reproduce import submit_and_run
    from phasefire.workflows.commands.submit import engine_spec
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.errors import PhasefireError
    from phasefire.workflows.launchpad import open_launchpad
    from phasefire.workflows.neb import hop_settings, neb_workflow
    from phasefire.workflows.reports.cspbx3 import EXPERIMENTAL_BR_BARRIER_EV, write_report
    from phasefire.workflows.studies.validation import study_engine_params

    profile = PROFILES[args.profile]
    settings = hop_settings({"hops": "shortest", "temperature_K": args.temperature, **profile["neb"]})
    spec = engine_spec(args.engine, study_engine_params("cspbx3", args.engine, {}))
    name = args.from_workflow or f"cspbx3-neb/{args.profile}/{args.engine}/{time.strftime('%Y%m%d-%H%M%S')}"
    parts = [
        neb_workflow(build(label), label, species, "vacancy", spec, settings, name=name) for label, species in SYSTEMS
    ]
    start = time.perf_counter()
    if not args.from_workflow:
        submit_and_run(
            Workflow([fw for part in parts for fw in part.fws], name=name, metadata={"phasefire": "neb"}), args.workers
        )
    neb_wall = time.perf_counter() - start
    documents = {
        d["input"]["metadata"]["hop"]["species"]: d
        for d in ResultsDB(open_launchpad()).query(workflow=name, task_type="neb")
    }
    unconverged = [s for s, d in documents.items() if not d["converged"]]
    if unconverged:
        raise PhasefireError(f"the {', '.join(unconverged)}-vacancy NEB did not converge (stored flagged); "
                             "rerun with the paper profile or more steps before feeding the model")  # fmt: skip
    if set(documents) != {species for _, species in SYSTEMS}:
        raise PhasefireError(f"workflow '{name}' has NEB documents for {sorted(documents) or 'no species'}, not Br and Cl; "
                             "check the name with `phasefire db query --type neb`")  # fmt: skip
    barrier = neb_barriers(documents.values())
    excluded = flagged_hops(documents)
    if "Br" in excluded:
        raise PhasefireError(f"the Br-vacancy NEB has no barrier ({excluded['Br']}); it "
                             "cannot feed the model: rerun with --profile paper (tighter endpoints)")  # fmt: skip
    start = time.perf_counter()
    chloride = None if "Cl" in excluded else barrier["Cl"]
    try:
        neb_runs = rectification_runs(parameters_from_barrier(barrier["Br"], temperature_K=args.temperature, chloride_barrier_eV=chloride),
                                      profile["biases"], profile["hours"], profile["grid_points"])  # fmt: skip
    except PhasefireError as exc:
        raise PhasefireError(f"the rectification model fed with the NEB barriers (Br {barrier['Br']:.3f} eV, Cl "
                             f"{'not used' if chloride is None else f'{chloride:.3f} eV'}) failed: {exc}; the NEBs are "
                             f"stored: `phasefire reproduce cspbx3 --from-workflow {name}` reports again") from None  # fmt: skip
    runs = {
        "neb": neb_runs,
        "paper": rectification_runs(RectificationParameters(temperature_K=args.temperature), profile["biases"], profile["hours"], profile["grid_points"]),
    }  # fmt: skip
    runs["study"] = rectification_study(RectificationParameters(temperature_K=args.temperature), profile["hours"], profile["grid_points"], profile["sweep"])  # fmt: skip
    model_wall = time.perf_counter() - start
    out = Path(args.out or f"reports/cspbx3-{time.strftime('%Y%m%d-%H%M%S')}")
    summary = {
        "workflow": name, "engine": args.engine, "engine_spec": spec, "profile": args.profile, "temperature_K": args.temperature,
        "barriers_eV": barrier, "experimental_br_barrier_eV": EXPERIMENTAL_BR_BARRIER_EV, "excluded_from_model": excluded,
        "neb": {s: {"task_id": d["task_id"], "hop": d["input"]["metadata"]["hop"]["label"], "atoms": d["nsites"],
                    "profile": d["output"]["energy_profile"], "barrier_backward_eV": d["output"]["barrier_backward_eV"],
                    "barrier_forward_eV": d["output"]["barrier_forward_eV"], "endpoint_check": d["output"].get("endpoint_check"),
                    "diffusion_cm2_per_s": d["output"]["transport"]["diffusion_cm2_per_s"], "mobility_cm2_per_V_s": d["output"]["transport"]["mobility_cm2_per_V_s"],
                    "wall_time_s": d["wall_time_s"]} for s, d in documents.items()},
        "rectification": runs, "wall_time_s": {"neb_workflow": neb_wall, "rectification_model": model_wall},
    }  # fmt: skip
    summary["report"] = str(write_report(summary, out))
    if args.json:
        print_json(summary)
        return 0
    print(f"\nCsPbX3 halide-vacancy NEB ({args.engine}, {args.profile}): Br {barrier['Br']:.3f} eV, Cl {barrier['Cl']:.3f} eV "
          f"(experiment, Br: {EXPERIMENTAL_BR_BARRIER_EV} eV); NEB {neb_wall:.0f} s, model {model_wall:.0f} s")  # fmt: skip
    for key, label in (("neb", "NEB barriers"), ("paper", "paper parameter set")):
        r = runs[key]
        print(f"  {label:20s}: D_V {r['vacancy_diffusivity_um2_per_s']:.3g} µm²/s, forward L at {r['biases_V_per_um'][-1]} V/µm "
              f"{r['forward_migration_um'][-1]:.3f} µm, ratio {r['rectification_ratio']:.1f}, mobility {r['mobility_cm2_per_V_s']:.2e} cm²/V/s")  # fmt: skip
    for row in runs["study"]["landmarks"]:
        print(
            f"  [{'agrees' if row['agrees'] else 'DISAGREES'}] {row['statement']}: paper {row['paper']}, model {row['model']}"
        )
    print(f"report: {summary['report']}")
    return 0
