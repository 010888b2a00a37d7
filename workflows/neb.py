"""Vacancy-hop NEB workflows: endpoints, climbing-image NEB, barriers and transport, code-agnostic.

Per symmetry-distinct hop, three Fireworks in a chain:
  1. relax the initial endpoint (vacancy on the start site; positions only, rattled by
     ``rattle_A`` so the defect relaxes without the perfect crystal's symmetry);
  2. the final endpoint: the relaxed initial one with the mover put on the vacancy, relaxed
     (same host distortions on both sides of the path);
  3. NEB between them (engine's ``neb``), then barriers, profile, saddle structure, hop rate,
     diffusion coefficient and Nernst-Einstein mobility into one task document, and the path
     plot (neb.png) in the run folder.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from fireworks import FiretaskBase, Firework, FWAction, Workflow, explicit_serialize

from phasefire.analysis.neb import barrier_profile, endpoint_problem, path_coordinate_A
from phasefire.analysis.transport import (
    DEFAULT_ATTEMPT_FREQUENCY_HZ,
    HopKind,
    diffusion_coefficient_cm2_per_s,
    hop_rate_per_s,
    nernst_einstein_mobility_cm2_per_V_s,
    vineyard_attempt_frequency_Hz,
)  # fmt: skip
from phasefire.structures.defects import (
    DEFECTS,
    MIN_IMAGE_DISTANCE_A,
    Hop,
    distinct_hops,
    supercell_repeats,
    vacancy_hop_endpoints,
)
from phasefire.workflows.engines import load_engine
from phasefire.workflows.errors import PhasefireError
from phasefire.workflows.tasks import RelaxTask, atoms_from_dict, atoms_to_dict, results_db, store_calculation
from phasefire.workflows.worker import RUNS_DIR_VARIABLE


@dataclass
class NEBMaker:
    """Make the Fireworks of vacancy-hop NEBs.

    n_images: moving images (3-5 for quick runs); fmax_eV_per_A: NEB force criterion (eV/Å);
    endpoint_fmax_eV_per_A: endpoint relaxations (eV/Å); max_steps: optimiser steps (VASP NSW);
    climb: climbing image; min_image_distance_A: defect-image separation of the supercell (Å);
    rattle_A: Gaussian rattle of the initial endpoint (Å, seeded); temperature_K: for the transport
    numbers; attempt_frequency: nu in Hz, or 'vineyard' (harmonic TST from phonopy Gamma-point
    frequencies of the initial state and the saddle); hops: 'all', 'shortest' or hop indices '0,2'.
    """

    name: str = "neb"
    n_images: int = 3
    fmax_eV_per_A: float = 0.05
    endpoint_fmax_eV_per_A: float = 0.02
    max_steps: int = 300
    climb: bool = True
    min_image_distance_A: float = MIN_IMAGE_DISTANCE_A
    rattle_A: float = 0.02
    temperature_K: float = 300.0
    attempt_frequency: float | str = DEFAULT_ATTEMPT_FREQUENCY_HZ
    hops: str = "all"

    def __post_init__(self) -> None:
        if self.n_images < 1:
            raise PhasefireError(f"n_images must be at least 1, got {self.n_images}")
        if self.attempt_frequency != "vineyard":
            try:
                frequency = float(self.attempt_frequency)
            except (TypeError, ValueError):
                frequency = float("nan")
            if not np.isfinite(frequency) or frequency <= 0:
                raise PhasefireError(
                    f"attempt_frequency must be a frequency in Hz or 'vineyard', got {self.attempt_frequency}"
                )
            self.attempt_frequency = frequency

    def neb_settings(self) -> dict[str, Any]:
        return {
            "n_images": self.n_images,
            "fmax_eV_per_A": self.fmax_eV_per_A,
            "max_steps": self.max_steps,
            "climb": self.climb,
        }

    def select(self, hops: list[Hop]) -> list[int]:
        """Indices of the hops to run ('all', 'shortest' or '0,2')."""
        if self.hops == "all":
            return list(range(len(hops)))
        if self.hops == "shortest":
            return [0]
        try:
            chosen = [int(k) for k in str(self.hops).split(",")]
        except ValueError:
            chosen = [-1]
        if any(not 0 <= k < len(hops) for k in chosen):
            raise PhasefireError(f"hops '{self.hops}': give 'all', 'shortest' or indices 0..{len(hops) - 1}")
        return chosen

    def make(
        self,
        atoms: Atoms,
        label: str,
        species: str,
        hop_index: int,
        hop: Hop,
        engine_spec: dict[str, Any],
        workflow: str,
        launch_dir: str,
    ) -> list[Firework]:
        repeats = supercell_repeats(atoms, self.min_image_distance_A)
        initial, final = vacancy_hop_endpoints(atoms, hop, repeats, self.min_image_distance_A)
        mover = initial.info["mover"]
        initial.rattle(self.rattle_A, seed=hop_index)
        tag = f"{label} {species}-vacancy hop{hop_index}"
        folder = f"${RUNS_DIR_VARIABLE}/{launch_dir}/{species}-hop{hop_index}"
        relax = {"fmax_eV_per_A": self.endpoint_fmax_eV_per_A, "relax_cell": False, "max_steps": self.max_steps}
        first = Firework(
            [RelaxTask(structure=atoms_to_dict(initial), engine=engine_spec, label=f"{tag} initial", settings=relax, workflow=workflow)],
            name=f"{self.name} {tag} initial", spec={"_launch_dir": f"{folder}/initial"},
        )  # fmt: skip
        second = Firework(
            [FinalEndpointTask(engine=engine_spec, label=f"{tag} final", settings=relax, workflow=workflow,
                               mover=mover, position_A=[float(x) for x in final.positions[mover]])],
            name=f"{self.name} {tag} final", spec={"_launch_dir": f"{folder}/final"}, parents=[first],
        )  # fmt: skip
        hop_record = {**asdict(hop), "index": hop_index, "label": hop.label, "supercell": list(repeats), "mover": mover,
                      "sites_per_cell": sum(a.symbol == species for a in atoms)}  # fmt: skip
        third = Firework(
            [NEBTask(engine=engine_spec, label=tag, settings=self.neb_settings(), workflow=workflow, hop=hop_record,
                     host=atoms_to_dict(atoms), unrelaxed_initial=atoms_to_dict(initial),
                     transport={"temperature_K": self.temperature_K, "attempt_frequency": self.attempt_frequency})],
            name=f"{self.name} {tag}", spec={"_launch_dir": f"{folder}/neb"}, parents=[second],
        )  # fmt: skip
        return [first, second, third]


def neb_workflow(
    atoms: Atoms,
    label: str,
    species: str,
    defect: str,
    engine_spec: dict[str, Any],
    maker: NEBMaker | None = None,
    name: str | None = None,
) -> Workflow:
    """Vacancy-hop NEBs of ``species`` in ``atoms`` (unit cell), one chain per selected distinct hop."""
    if defect not in DEFECTS:
        raise PhasefireError(
            f"defect '{defect}' is not supported; choose one of {', '.join(DEFECTS)} (interstitials: not yet)"
        )
    maker = maker or NEBMaker()
    try:
        hops = distinct_hops(atoms, species)
    except ValueError as exc:
        raise PhasefireError(str(exc)) from None
    name = name or f"neb/{label}/{species}-{defect}/{engine_spec['name']}"
    launch_dir = f"{name.replace('/', '_')}-{uuid.uuid4().hex[:8]}"
    fireworks = []
    for k in maker.select(hops):
        try:
            fireworks += maker.make(atoms, label, species, k, hops[k], engine_spec, name, launch_dir)
        except ValueError as exc:
            raise PhasefireError(str(exc)) from None
    return Workflow(
        fireworks, name=name, metadata={"phasefire": "neb", "engine": engine_spec["name"], "species": species}
    )


@explicit_serialize
class FinalEndpointTask(FiretaskBase):
    """Put the mover of the relaxed initial endpoint (``spec['structure']``) on the vacancy
    (``position_A``, Å) and relax; children get both endpoints as ``spec['neb_endpoints']``."""

    required_params = ["engine", "label", "settings", "mover", "position_A"]
    optional_params = ["workflow"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        engine = load_engine(self["engine"], fw_spec.get("_fw_env", {}))
        relaxed_initial = atoms_from_dict(fw_spec["structure"])
        start = relaxed_initial.copy()
        start.positions[self["mover"]] = self["position_A"]
        begin = time.perf_counter()
        result = engine.relax(start, Path(os.getcwd()), **self["settings"])
        task_id, _ = store_calculation(
            fw_spec, task_label=f"relax {self['label']}", initial=start, result=result, engine=engine,
            settings=self["settings"], workflow=self.get("workflow"), wall_time_s=time.perf_counter() - begin,
        )  # fmt: skip
        initial_doc = results_db(fw_spec).tasks.find_one(
            {"task_id": fw_spec["parent_task_id"]}, {"output.energy_eV": 1}
        )
        endpoints = {
            "initial": {"structure": fw_spec["structure"], "energy_eV": initial_doc["output"]["energy_eV"], "task_id": fw_spec["parent_task_id"]},
            "final": {"structure": atoms_to_dict(result.atoms), "energy_eV": result.energy_eV, "task_id": task_id},
            "final_start": atoms_to_dict(start),
        }  # fmt: skip
        return FWAction(stored_data={"task_id": task_id}, update_spec={"neb_endpoints": endpoints})


def gamma_frequencies_THz(engine, atoms: Atoms, displacement_A: float = 0.01) -> np.ndarray:
    """Gamma-point harmonic frequencies of the cell (THz, imaginary negative) with phonopy finite
    displacements, forces from ``engine.energies_and_forces`` (all displaced cells at once)."""
    if not hasattr(engine, "energies_and_forces"):
        raise PhasefireError(
            f"attempt_frequency=vineyard needs direct force evaluation, which engine {engine.name} lacks; give a frequency in Hz"
        )
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    unitcell = PhonopyAtoms(
        symbols=atoms.get_chemical_symbols(), cell=atoms.cell.array, scaled_positions=atoms.get_scaled_positions()
    )
    phonon = Phonopy(unitcell, supercell_matrix=np.eye(3, dtype=int))
    phonon.generate_displacements(distance=displacement_A)
    displaced = [
        Atoms(cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions, pbc=True)
        for cell in phonon.supercells_with_displacements
    ]
    phonon.forces = engine.energies_and_forces(displaced)[1]
    phonon.produce_force_constants()
    return np.asarray(phonon.get_frequencies([0.0, 0.0, 0.0]), dtype=float)


def oxidation_charge(host: Atoms, species: str) -> float:
    """|oxidation state| of ``species`` in the host (pymatgen's most likely assignment), the
    charge (e) a vacancy of it carries."""
    from pymatgen.core import Composition

    guesses = Composition(host.get_chemical_formula()).oxi_state_guesses(max_sites=-1)
    if not guesses:
        raise PhasefireError(f"cannot assign oxidation states in {host.get_chemical_formula()}")
    return abs(float(guesses[0][species]))


@explicit_serialize
class NEBTask(FiretaskBase):
    """NEB between the endpoints in ``spec['neb_endpoints']``, barriers, transport and plot stored
    as one task document (non-converged: barriers only under ``unconverged_*`` keys)."""

    required_params = ["engine", "label", "settings", "hop", "host", "unrelaxed_initial", "transport"]
    optional_params = ["workflow"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        from phasefire.workflows.reports.neb import plot_profile

        engine = load_engine(self["engine"], fw_spec.get("_fw_env", {}))
        endpoints = fw_spec["neb_endpoints"]
        initial, final = (atoms_from_dict(endpoints[k]["structure"]) for k in ("initial", "final"))
        hop = self["hop"]
        problem = endpoint_problem(
            initial, final, hop["mover"], hop["length_A"], start=atoms_from_dict(self["unrelaxed_initial"]),
            final_start=atoms_from_dict(endpoints["final_start"]),
        )  # fmt: skip
        if problem:
            raise PhasefireError(
                f"hop {hop['label']}: {problem}; this hop has no NEB (choose another with --set hops=...)"
            )
        workdir = Path(os.getcwd())
        begin = time.perf_counter()
        result = engine.neb(
            initial, final, workdir, endpoint_energies_eV=(endpoints["initial"]["energy_eV"], endpoints["final"]["energy_eV"]),
            **self["settings"],
        )  # fmt: skip
        profile = barrier_profile(result.energies_eV, path_coordinate_A(result.images))
        plot_profile(profile, workdir / "neb.png", title=f"{self['label']} ({engine.name})", converged=result.converged)
        transport = self.transport_numbers(engine, profile, result.images, initial)
        document = neb_document(
            label=self["label"], workflow=self.get("workflow"), hop=hop, host=atoms_from_dict(self["host"]), result=result,
            profile=profile, transport=transport, engine=engine, settings=self["settings"], endpoints=endpoints,
            run_dir=str(workdir), wall_time_s=time.perf_counter() - begin,
        )  # fmt: skip
        task_id = results_db(fw_spec).insert(document)
        return FWAction(
            stored_data={
                "task_id": task_id,
                "converged": result.converged,
                "barrier_forward_eV": profile.barrier_forward_eV,
            }
        )

    def transport_numbers(self, engine, profile, images: list[Atoms], initial: Atoms) -> dict[str, Any]:
        """Hop rates, D and mobility at the requested temperature (module analysis.transport)."""
        hop, settings = self["hop"], self["transport"]
        temperature = float(settings["temperature_K"])
        if settings["attempt_frequency"] == "vineyard":
            frequency = vineyard_attempt_frequency_Hz(
                gamma_frequencies_THz(engine, initial), gamma_frequencies_THz(engine, images[profile.saddle_index])
            )
            source = "vineyard (phonopy Gamma-point frequencies of initial state and saddle)"
        else:
            frequency, source = float(settings["attempt_frequency"]), "given"
        forward = hop_rate_per_s(max(profile.barrier_forward_eV, 0.0), temperature, frequency)
        backward = hop_rate_per_s(max(profile.barrier_backward_eV, 0.0), temperature, frequency)
        kind = HopKind(forward, backward, hop["length_A"], hop["directed_per_cell"])
        diffusion = diffusion_coefficient_cm2_per_s([kind], hop["sites_per_cell"])
        charge = oxidation_charge(atoms_from_dict(self["host"]), hop["species"])
        return {
            "temperature_K": temperature,
            "attempt_frequency_Hz": frequency,
            "attempt_frequency_source": source,
            "hop_rate_forward_per_s": forward,
            "hop_rate_backward_per_s": backward,
            "diffusion_cm2_per_s": diffusion,
            "diffusion_formula": "D = (1/6N) sum_k n_k (G_f + G_b)/2 a_k^2 over this hop kind (= z G a^2/6 for one hop kind on equivalent sites)",
            "vacancy_charge_e": charge,
            "mobility_cm2_per_V_s": nernst_einstein_mobility_cm2_per_V_s(diffusion, temperature, charge),
        }


def path_notes(profile, converged: bool) -> list[str]:
    """Warnings a reader of the barrier must see (one line each)."""
    notes = [] if converged else ["NEB not converged: the barrier is stored under unconverged_* keys only"]
    if profile.saddle_index in (0, len(profile.energies_eV) - 1):
        notes.append("the highest image is an endpoint: no barrier along this path (are the endpoints minima?)")
    if (profile.energies_eV[1:-1] < min(profile.energies_eV[0], profile.energies_eV[-1]) - 0.01).any():
        notes.append("an image lies below both endpoints by > 10 meV: the endpoints are not the path's minima")
    return notes


def neb_document(
    *,
    label: str,
    workflow: str | None,
    hop: dict,
    host: Atoms,
    result,
    profile,
    transport: dict,
    engine,
    settings: dict,
    endpoints: dict,
    run_dir: str,
    wall_time_s: float,
) -> dict[str, Any]:
    """The NEB task document; a non-converged band keeps its numbers under ``unconverged_`` keys only."""
    import datetime
    import importlib.metadata

    from monty.json import jsanitize
    from pymatgen.core import Composition

    saddle = result.images[profile.saddle_index]
    prefix = "" if result.converged else "unconverged_"
    profile_dict = profile.as_dict()
    barriers = {
        f"{prefix}{k}": profile_dict.pop(k) for k in ("barrier_forward_eV", "barrier_backward_eV", "reaction_energy_eV")
    }
    composition = Composition(host.get_chemical_formula())
    return jsanitize(
        {
            "task_label": f"neb {label}",
            "workflow": workflow,
            "formula_pretty": composition.reduced_formula,
            "chemsys": composition.chemical_system,
            "nsites": len(saddle),
            "input": {
                "host_structure": atoms_to_dict(host),
                "hop": hop,
                "settings": settings,
                "endpoint_task_ids": [endpoints["initial"]["task_id"], endpoints["final"]["task_id"]],
            },
            "output": {
                **barriers,
                "energy_profile": profile_dict,
                "image_energies_eV": [float(e) for e in result.energies_eV],
                "saddle_structure": atoms_to_dict(saddle),
                "max_force_eV_per_A": result.max_force_eV_per_A,
            },
            f"{prefix}transport": transport,
            "converged": result.converged,
            "n_steps": result.n_steps,
            "engine": engine.spec(),
            "versions": {"phasefire": importlib.metadata.version("phasefire"), **engine.versions()},
            "wall_time_s": wall_time_s,
            "run_dir": run_dir,
            "files": {**result.files, "plot": "neb.png"},
            "extra": result.extra,
            "notes": path_notes(profile, result.converged),
            "completed_at": datetime.datetime.now(datetime.UTC).isoformat(),
        }
    )
