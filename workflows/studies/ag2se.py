"""alpha-Ag2Se vacancy hops (Luo et al., Nat. Commun. (2025), doi:10.1038/s41467-025-57057-5):
Ag and Se barriers from the NEB documents and their ratio beside the paper's ~37 (Fig. S21)."""

from __future__ import annotations

from typing import Any

#: the paper's DFT migration barrier of Se / that of Ag+
PAPER_BARRIER_RATIO = 37.0


def migration_barrier(document: dict[str, Any]) -> float | None:
    """max(forward, backward) barrier (eV) of a converged hop: what a long-range walk must cross."""
    if not document["converged"]:
        return None
    output = document["output"]
    return max(output["barrier_forward_eV"], output["barrier_backward_eV"])


def hop(document: dict[str, Any]) -> dict[str, Any]:
    return document["input"]["metadata"]["hop"]


def species_rows(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per NEB document: species, hop, barriers (flagged when not converged), cell."""
    rows = []
    for document in sorted((d for d in documents if d["task_type"] == "neb"), key=lambda d: d["label"]):
        output, record = document["output"], hop(document)
        prefix = "" if document["converged"] else "unconverged_"
        rows.append({
            "species": record["species"], "hop": record["label"], "task_id": document["task_id"],
            "barrier_forward_eV": output[f"{prefix}barrier_forward_eV"],
            "barrier_backward_eV": output[f"{prefix}barrier_backward_eV"],
            "migration_barrier_eV": migration_barrier(document), "converged": document["converged"],
            # final - initial endpoint energy (eV) and whether symmetry-equivalent endpoints disagree
            "endpoint_check": output.get("endpoint_check"),
            "supercell": "x".join(str(n) for n in record["supercell"]), "atoms": document["nsites"],
            "wall_time_s": document["wall_time_s"],
        })  # fmt: skip
    return rows


def barrier_comparison(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The lowest converged migration barrier per species (eV) and the Se/Ag ratio."""
    lowest = {}
    for species in ("Ag", "Se"):
        barriers = [
            r["migration_barrier_eV"] for r in rows if r["species"] == species and r["migration_barrier_eV"] is not None
        ]
        lowest[species] = min(barriers) if barriers else None
    ratio = lowest["Se"] / lowest["Ag"] if lowest["Ag"] and lowest["Se"] is not None else None
    return {"lowest_migration_barrier_eV": lowest, "ratio_Se_over_Ag": ratio, "paper_ratio": PAPER_BARRIER_RATIO}


# ---------------------------------------------------------------- issue 12: the full reproduction

#: the paper's numbers (Luo et al. 2025): dipoles along/against [001] at 0 V and along/against the
#: field at 0.4 V (pm, Figs. 2e, 3b-c), rotation of the dipoles opposing the current (deg, Fig. 3i),
#: Abrahams Ps (uC/cm^2), alpha->beta strain along alpha [001] (Fig. 4e), projected Se-Se (Å, Fig. 4b)
PAPER = {
    "dipole_up_pm": 54.0, "dipole_down_pm": 68.0, "dipole_along_field_pm": 58.0, "dipole_against_field_pm": 63.0,
    "rotation_deg": 10.0, "Ps_uC_cm2": 3.6, "delta_z_pm": -14.0, "transformation_strain": 0.057,
    "projected_se_se_alpha_A": 3.97, "projected_se_se_beta_A": 4.15, "barrier_ratio": PAPER_BARRIER_RATIO,
}  # fmt: skip

#: the field ladder: alpha relaxed (ions and cell, no symmetry, one driver) at 0 and at ±E along
#: [011], the paper's in-plane voltage direction (Fig. 3a). The paper's 0.4 V across its electrodes
#: is a field far too weak for a relaxation to resolve; 0.01 V/Å with nominal Born charges (Ag +1,
#: Se -2 e) puts 0.02 eV/Å on each Se and moves it ~2 pm, the order of the paper's changes, and the
#: ±E responses come out equal and opposite (linear regime; tests/workflows/test_studies_ag2se.py).
#: With 7net-mf-0 (the study default) at 0.05 V/Å the structure runs away (cell +133 %); CHGNet,
#: softer here, already reorients every Se dipole at 0.01 V/Å.
FIELD_LADDER_V_PER_A = 0.01
FIELD_DIRECTION = (0.0, 1.0, 1.0)
FIELD_LADDER_SIGNS = {"0": 0, "+E": 1, "-E": -1}

#: settings of the two profiles: relaxation force criterion (eV/Å), QHA supercell/strains/mesh, NEB
#: settings, field ladder (field in V/Å, its relaxations' force criterion in eV/Å and step limit).
#: Quick NEBs: one climbing image and endpoints to 0.05 eV/Å, because every distinct hop needs the
#: 3x2x2 supercell (143 atoms; the 4.34 Å Se hop along a rules out 2x2x2) at ~0.9 s per 7net-mf-0
#: force call on 2 idle cores. Measured (--workers 2): endpoints 20-35 BFGS steps, bands 20-48 FIRE
#: steps; 14.7 min wall on 2 idle cores (27.8 min at load ~3); symmetry-equivalent endpoints within
#: 15 meV. With 3 images and endpoints to 0.005 eV/Å the profile took over an hour.
PROFILES = {
    "quick": {"fmax_eV_per_A": 0.05, "relax_max_steps": 200, "qha_supercell": (1, 1, 1), "qha_strains": (-0.02, -0.01, 0.0, 0.01, 0.02),
              "qha_mesh": (6, 6, 6),
              "neb": {"n_images": 1, "fmax_eV_per_A": 0.1, "max_steps": 150, "endpoint_fmax_eV_per_A": 0.05,
                      "endpoint_tolerance_eV": 0.02},
              "field": {"field_V_per_A": FIELD_LADDER_V_PER_A, "fmax_eV_per_A": 0.005, "max_steps": 400}},
    "full": {"fmax_eV_per_A": 0.01, "relax_max_steps": 1000, "qha_supercell": (2, 2, 2), "qha_strains": (-0.02, -0.01, 0.0, 0.01, 0.02, 0.03),
             "qha_mesh": (10, 10, 10), "neb": {"n_images": 5, "fmax_eV_per_A": 0.05, "max_steps": 300},
             "field": {"field_V_per_A": FIELD_LADDER_V_PER_A, "fmax_eV_per_A": 0.002, "max_steps": 1000}},
}  # fmt: skip


def rank_beta_arrangements(energies_and_forces, count: int | None = None) -> list[tuple[int, float]]:
    """(index, energy per atom eV) of the seeded beta arrangements, lowest first: how
    ``structures.ag2se.BETA_CHOSEN`` was picked (``engine.energies_and_forces`` of CHGNet 0.3.0)."""
    import numpy as np

    from phasefire.structures.ag2se import BETA_SAMPLES, beta_arrangements

    candidates = beta_arrangements(count or BETA_SAMPLES)
    energies, _ = energies_and_forces(candidates)
    order = np.argsort(energies)
    return [(int(k), float(energies[k] / len(candidates[k]))) for k in order]


def relax_cell(atoms, calculator, fmax_eV_per_A: float, keep_symmetry: bool, max_steps: int = 500):
    """Positions and cell relaxed with ``calculator`` (BFGS on ASE's FrechetCellFilter; FixSymmetry when asked)."""
    from ase.constraints import FixSymmetry
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    work = atoms.copy()
    work.calc = calculator
    if keep_symmetry:
        work.set_constraint(FixSymmetry(work, symprec=1e-3))
    BFGS(FrechetCellFilter(work), logfile=None).run(fmax=fmax_eV_per_A, steps=max_steps)
    work.set_constraint()
    energy = float(work.get_potential_energy())
    work.calc = None
    work.info["energy_per_atom_eV"] = energy / len(work)
    return work


def cell_row(name: str, cited, relaxed) -> dict[str, Any]:
    """Cell lengths (Å), volume per formula unit (Å^3) cited vs relaxed."""
    formula_units = sum(a.symbol == "Se" for a in cited)
    return {
        "structure": name,
        "cited_abc_A": [float(x) for x in cited.cell.cellpar()[:3]],
        "relaxed_abc_A": [float(x) for x in relaxed.cell.cellpar()[:3]],
        "cited_volume_per_fu_A3": float(cited.get_volume() / formula_units),
        "relaxed_volume_per_fu_A3": float(relaxed.get_volume() / formula_units),
        "relaxed_energy_per_atom_eV": relaxed.info.get("energy_per_atom_eV"),
    }


def dipole_rows(structures: dict[str, Any]) -> dict[str, Any]:
    """Dipole statistics (projection [100], families along/against [001]) of each named alpha structure."""
    from phasefire.analysis.dipoles import dipole_analysis

    return {
        name: dipole_analysis(atoms, projection=(1, 0, 0), direction=(0, 0, 1)) for name, atoms in structures.items()
    }


def field_ladder_rows(zero_field, plus_field, minus_field, field_direction=(0, 1, 1)) -> dict[str, Any]:
    """Dipoles at 0 and ±E relative to the field direction (Fig. 3b-c, i), [100] projection;
    see ``analysis.dipoles.field_comparison``."""
    from phasefire.analysis.dipoles import field_comparison

    return field_comparison(zero_field, plus_field, minus_field, field_direction, projection=(1, 0, 0))


def field_ladder_fireworks(alpha, engine_spec: dict[str, Any], name: str, settings: dict[str, Any]) -> list:
    """Fireworks relaxing ``alpha`` identically at 0 (relax type) and at ±E (field type) along
    ``FIELD_DIRECTION``; each carries ``metadata={"field_ladder": "0" | "+E" | "-E"}``."""
    from phasefire.workflows.makers import CalculationMaker, run_folder
    from phasefire.workflows.naming import safe_slug

    common = {"fmax_eV_per_A": settings["fmax_eV_per_A"], "max_steps": settings["max_steps"], "relax_cell": True}
    top = run_folder(f"{name}/field-ladder")
    fireworks = []
    for label, sign in FIELD_LADDER_SIGNS.items():
        if sign == 0:
            maker = CalculationMaker("relax", {**common, "keep_symmetry": False})
        else:
            field = {"field_V_per_A": sign * settings["field_V_per_A"], "field_direction": FIELD_DIRECTION}
            maker = CalculationMaker("field", {**common, **field})
        maker.check_engine(engine_spec)
        tag = f"ag2se-alpha E{label}"
        fireworks.append(maker.make(tag, engine_spec, name, f"{top}/{safe_slug(tag)}", atoms=alpha,
                                    metadata={"field_ladder": label}))  # fmt: skip
    return fireworks


def field_ladder_results(documents: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ladder's dipole rows (``field_ladder_rows``) plus, per sign, the field document's
    response (Se displacement along E, induced polarization, strain); None when a rung is missing."""
    from phasefire.workflows.calculations.structures import atoms_from_dict

    rungs = {d["input"]["metadata"]["field_ladder"]: d for d in documents if "field_ladder" in d["input"]["metadata"]}
    if set(rungs) != set(FIELD_LADDER_SIGNS):
        return None
    atoms = {label: atoms_from_dict(rungs[label]["output"]["structure"]) for label in FIELD_LADDER_SIGNS}
    rows = field_ladder_rows(atoms["0"], atoms["+E"], atoms["-E"], FIELD_DIRECTION)
    zero = atoms["0"].cell.cellpar()[:3]
    rows["response"] = {}
    for label in ("+E", "-E"):
        response = rungs[label]["output"]["field_response"]
        rows["response"][label] = {
            "field_V_per_A": response["field_V_per_A"],
            "displacements_pm": response["displacements_pm"],
            "induced_polarization_along_field_uC_cm2": response["induced_polarization_along_field_uC_cm2"],
            # cell lengths against the zero-field rung relaxed by the same driver
            "cell_length_change_percent": [float(100 * (x / x0 - 1)) for x, x0 in zip(atoms[label].cell.cellpar()[:3], zero)],
            "born_source": response["born_source"],
            "converged": rungs[label]["converged"],
        }  # fmt: skip
    rows["converged"] = all(d["converged"] for d in rungs.values())
    rows["field_direction"] = list(FIELD_DIRECTION)
    return rows


def strain_or_reason(transformation_strain, alpha, beta) -> dict[str, Any]:
    """``transformation_strain(alpha, beta)``, or no correspondence with the reason (a freely relaxed
    beta approximant whose Se sublattice left bcc has none within the tolerances)."""
    try:
        return transformation_strain(alpha, beta)
    except ValueError as exc:
        return {"minimal": None, "orientation_relation": None, "reason": str(exc)}


def hop_kinds(rows: list[dict[str, Any]], documents: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per species, the hop kinds (start/end site, shift, label) with their migration barrier (eV)."""
    kinds: dict[str, list[dict[str, Any]]] = {"Ag": [], "Se": []}
    by_id = {d["task_id"]: d for d in documents}
    for row in rows:
        record = hop(by_id[row["task_id"]])
        kinds[row["species"]].append({
            "start_site": record["start_site"], "end_site": record["end_site"], "end_shift": tuple(record["end_shift"]),
            "barrier_eV": row["migration_barrier_eV"], "label": row["hop"],
        })  # fmt: skip
    return kinds


def percolation_comparison(atoms, kinds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Percolating barrier per species (``analysis.percolation``) and the Se/Ag ratio of them."""
    from phasefire.analysis.percolation import percolating_barrier

    result = {species: percolating_barrier(atoms, species, kinds[species]) for species in ("Ag", "Se")}
    ag, se = (result[s]["percolating_barrier_eV"] for s in ("Ag", "Se"))
    result["ratio_Se_over_Ag"] = se / ag if ag and se is not None else None
    result["paper_ratio"] = PAPER_BARRIER_RATIO
    return result


def stored_documents(name: str) -> list[dict[str, Any]]:
    """The task documents of workflow ``name``; an error naming the fix when it has no NEB."""
    from phasefire.workflows.database import ResultsDB
    from phasefire.workflows.errors import PhasefireError
    from phasefire.workflows.launchpad import open_launchpad

    documents = ResultsDB(open_launchpad()).query(workflow=name)
    if not any(d["task_type"] == "neb" for d in documents):
        raise PhasefireError(
            f"workflow '{name}' has no stored NEB documents; list stored workflows with `phasefire db query` "
            "or run `phasefire reproduce ag2se` without --from-workflow"
        )
    return documents


def reproduce(
    profile: str, engine_spec: dict[str, Any], workers: int, name: str, progress=print, submit: bool = True
) -> dict[str, Any]:
    """Every step of ``phasefire reproduce ag2se``: relaxed alpha and beta, dipoles, strain, QHA,
    NEB of every distinct hop and the field ladder (FireWorks workflow ``name``; with ``submit``
    False, the stored documents of that workflow) and the percolating barriers. Returns JSON-ready
    results plus ``_structures`` / ``_dipoles`` for the report's figures."""
    import time

    from fireworks import Workflow

    from phasefire.analysis.dipoles import public
    from phasefire.analysis.qha import qha_thermal_expansion
    from phasefire.analysis.strain import transformation_strain
    from phasefire.structures import build
    from phasefire.workflows.commands.reproduce import submit_and_run
    from phasefire.workflows.engines import load_engine
    from phasefire.workflows.errors import PhasefireError
    from phasefire.workflows.neb import hop_settings, neb_workflow

    settings = PROFILES[profile]
    # a stored workflow is read before minutes of relaxations: a wrong name fails at once
    documents = None if submit else stored_documents(name)
    engine = load_engine(engine_spec)
    if not engine.evaluates_forces():
        raise PhasefireError(
            f"reproduce ag2se relaxes and runs phonons in-process; engine {engine.name} cannot: use --engine mlip"
        )
    calculator = engine.calculator()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    cited = {"alpha": build("ag2se-alpha"), "beta": build("ag2se-beta")}
    progress("relaxing alpha (FixSymmetry) and the beta approximant (free) ...")
    relaxed = {
        k: relax_cell(cited[k], calculator, settings["fmax_eV_per_A"], k == "alpha", settings["relax_max_steps"])
        for k in ("alpha", "beta")
    }
    timings["relax_s"] = time.perf_counter() - start
    cells = [cell_row(f"{k}-Ag2Se", cited[k], relaxed[k]) for k in ("alpha", "beta")]
    dipoles = dipole_rows({"cited alpha": cited["alpha"], "relaxed alpha": relaxed["alpha"]})
    strain = {label: strain_or_reason(transformation_strain, pair["alpha"], pair["beta"])
              for label, pair in (("cited", cited), ("relaxed", relaxed))}  # fmt: skip
    progress("QHA thermal expansion of alpha ...")
    mark = time.perf_counter()
    qha = qha_thermal_expansion(
        relaxed["alpha"], calculator, supercell=settings["qha_supercell"], strains=settings["qha_strains"],
        mesh=settings["qha_mesh"], fmax_eV_per_A=settings["fmax_eV_per_A"],
    )  # fmt: skip
    timings["qha_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    if submit:
        progress(f"NEB of every distinct Ag and Se vacancy hop; alpha relaxed at 0 and ±{settings['field']['field_V_per_A']} "
                 "V/Å along [011] (the field ladder) ...")  # fmt: skip
        neb_settings = hop_settings({"hops": "all", **settings["neb"]})
        parts = [neb_workflow(cited["alpha"], "ag2se-alpha", s, "vacancy", engine_spec, neb_settings, name=name)
                 for s in ("Ag", "Se")]  # fmt: skip
        ladder = field_ladder_fireworks(relaxed["alpha"], engine_spec, name, settings["field"])
        workflow = Workflow(
            [fw for part in parts for fw in part.fws] + ladder, name=name, metadata={"phasefire": "neb"}
        )
        submit_and_run(workflow, workers)
        documents = stored_documents(name)
    neb_documents = [d for d in documents if d["task_type"] == "neb"]
    rows = species_rows(neb_documents)
    percolation = percolation_comparison(cited["alpha"], hop_kinds(rows, neb_documents))
    field_ladder = field_ladder_results(documents)
    timings["neb_and_field_s"] = time.perf_counter() - mark
    timings["total_s"] = time.perf_counter() - start
    return {
        "profile": profile, "engine": engine_spec, "workflow": name, "cells": cells,
        "dipoles": {k: public(v) for k, v in dipoles.items()}, "strain": strain,
        "qha": {k: v for k, v in qha.items() if k != "vibrational_free_energy_kJ_per_mol"},
        "hops": rows, "neb_settings": settings["neb"], "percolation": percolation,
        "shortest_hop_comparison": barrier_comparison(rows),
        "field_ladder": field_ladder,
        "paper": PAPER, "timings_s": timings,
        "_structures": {**{f"cited {k}": v for k, v in cited.items()}, **{f"relaxed {k}": v for k, v in relaxed.items()}},
        "_dipoles": dipoles,
    }  # fmt: skip
