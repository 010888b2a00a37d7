"""Vacancy-hop NEB workflows: endpoints, climbing-image NEB, barriers and transport, code-agnostic.

Per symmetry-distinct hop, three Fireworks:
  1. relax the initial endpoint (vacancy on the start site; positions only);
  2. relax the final endpoint (mover on the vacancy) the same way: from its own ideal start, with
     the same seeded rattle (``rattle_A``, 0.02 Å: an unrattled cubic perovskite stays on the
     tilt-unstable ridge and a NEB image then falls below it, barrier 0) and the same tight force
     criterion (``endpoint_fmax_eV_per_A``, default 0.005 eV/Å);
  3. a check that the endpoints bound a hop and, when the ideal endpoints are symmetry-equivalent
     (pymatgen ``StructureMatcher``), that the relaxed ones still are and that their energies
     agree within ``endpoint_tolerance_eV`` (``endpoint_check``: a run beyond it is flagged in the
     NEB document, ``output.endpoint_check.flagged``); the NEB (the ``neb`` calculation type:
     band, barriers, plot), then hop rates, diffusion coefficient and Nernst-Einstein mobility
     added to the NEB's task document.

CsPbBr3 before this (rattled 0.02 Å, relaxed to 0.02 eV/Å, final from the relaxed initial): the
Br-vacancy profile ended at -0.054 eV with its first image below the start; cubic CsPbBr3 is
unstable against octahedral tilts, and a rattled start lets the two endpoints fall into
different tilt patterns.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

import numpy as np
from ase import Atoms
from fireworks import FiretaskBase, Firework, FWAction, Workflow, explicit_serialize
from pydantic import Field

from phasefire.analysis.neb import endpoint_problem
from phasefire.analysis.transport import (
    DEFAULT_ATTEMPT_FREQUENCY_HZ,
    HopKind,
    diffusion_coefficient_cm2_per_s,
    hop_rate_per_s,
    nernst_einstein_mobility_cm2_per_V_s,
    vineyard_attempt_frequency_Hz,
)
from phasefire.structures.defects import (
    DEFECTS,
    MIN_IMAGE_DISTANCE_A,
    Hop,
    distinct_hops,
    supercell_repeats,
    vacancy_hop_endpoints,
)
from phasefire.workflows.calculations.base import Settings, validated
from phasefire.workflows.calculations.neb import FINAL_SLOT, INITIAL_SLOT
from phasefire.workflows.calculations.structures import atoms_from_dict
from phasefire.workflows.documents import structure_dict
from phasefire.workflows.engines import load_engine
from phasefire.workflows.errors import PhasefireError
from phasefire.workflows.makers import CalculationMaker, run_folder
from phasefire.workflows.naming import safe_slug
from phasefire.workflows.tasks import FW_ID_FLAG, results_db

#: where the NEB task hands its document's id to the transport step of the same firework
NEB_TASK_ID_SLOT = "neb_task_id"
#: where the endpoint check hands its result to the transport step (stored as output.endpoint_check)
ENDPOINT_CHECK_SLOT = "endpoint_check"


def endpoints_equivalent(initial: Atoms, final: Atoms) -> bool:
    """Whether two endpoint structures are the same up to a symmetry operation and a translation
    (pymatgen ``StructureMatcher``, no supercell search, site tolerance 0.05 of (V/N)^(1/3))."""
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.io.ase import AseAtomsAdaptor

    matcher = StructureMatcher(ltol=0.05, stol=0.05, angle_tol=2, primitive_cell=False, scale=False,
                               attempt_supercell=False)  # fmt: skip
    return bool(matcher.fit(AseAtomsAdaptor.get_structure(initial), AseAtomsAdaptor.get_structure(final)))


def endpoint_check(
    initial: Atoms, final: Atoms, initial_energy_eV: float, final_energy_eV: float, ideal_equivalent: bool,
    tolerance_eV: float,
) -> dict[str, Any]:  # fmt: skip
    """Relaxed endpoints of a hop between symmetry-equivalent sites must stay equivalent and equal
    in energy: energy difference (eV, final - initial), equivalence and ``flagged`` when either fails
    (the difference beyond ``tolerance_eV``); hops between inequivalent sites are not flagged."""
    difference = float(final_energy_eV - initial_energy_eV)
    relaxed_equivalent = endpoints_equivalent(initial, final) if ideal_equivalent else None
    flagged = bool(ideal_equivalent and (abs(difference) > tolerance_eV or not relaxed_equivalent))
    return {
        "symmetry_equivalent_sites": ideal_equivalent,
        "relaxed_equivalent": relaxed_equivalent,
        "energy_difference_eV": difference,
        "tolerance_eV": tolerance_eV,
        "flagged": flagged,
    }


class VacancyHopSettings(Settings):
    """n_images: moving images (3-5 for quick runs); fmax_eV_per_A: NEB force criterion (eV/Å);
    endpoint_fmax_eV_per_A: both endpoint relaxations (eV/Å); endpoint_tolerance_eV: largest
    energy difference of symmetry-equivalent relaxed endpoints before the run is flagged (eV); max_steps: optimiser steps (VASP NSW);
    climb: climbing image; min_image_distance_A: defect-image separation of the supercell (Å);
    rattle_A: Gaussian rattle of both endpoints (Å, seeded); temperature_K: for the
    transport numbers (K); attempt_frequency: nu in Hz, or 'vineyard' (harmonic TST from phonopy
    Γ-point frequencies of the initial state and the saddle); hops: 'all', 'shortest' or '0,2'."""

    n_images: int = Field(3, ge=1)
    fmax_eV_per_A: float = Field(0.05, gt=0)
    endpoint_fmax_eV_per_A: float = Field(0.005, gt=0)
    endpoint_tolerance_eV: float = Field(0.01, gt=0)
    max_steps: int = Field(300, ge=1)
    climb: bool = True
    min_image_distance_A: float = Field(MIN_IMAGE_DISTANCE_A, gt=0)
    rattle_A: float = Field(0.02, ge=0)
    temperature_K: float = Field(300.0, gt=0)
    attempt_frequency: float | Literal["vineyard"] = DEFAULT_ATTEMPT_FREQUENCY_HZ
    hops: str = "all"

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


def hop_settings(overrides: dict[str, Any] | None = None) -> VacancyHopSettings:
    """The NEB workflow's settings: defaults with ``overrides``, checked (one line on error)."""
    overrides = dict(overrides or {})
    if isinstance(overrides.get("attempt_frequency"), str) and overrides["attempt_frequency"] != "vineyard":
        try:
            overrides["attempt_frequency"] = float(overrides["attempt_frequency"])
        except ValueError:
            raise PhasefireError(
                f"attempt_frequency must be a frequency in Hz or 'vineyard', got {overrides['attempt_frequency']}"
            ) from None
    frequency = overrides.get("attempt_frequency")
    if isinstance(frequency, int | float) and not (np.isfinite(frequency) and frequency > 0):
        raise PhasefireError(f"attempt_frequency must be a frequency in Hz or 'vineyard', got {frequency}")
    return validated(VacancyHopSettings, overrides, "NEB workflow settings")


def hop_fireworks(
    atoms: Atoms, label: str, species: str, hop_index: int, hop: Hop, engine_spec: dict[str, Any],
    settings: VacancyHopSettings, workflow: str, top: str,
) -> list[Firework]:  # fmt: skip
    """The three Fireworks of one hop (see the module docstring)."""
    repeats = supercell_repeats(atoms, settings.min_image_distance_A)
    initial, final = vacancy_hop_endpoints(atoms, hop, repeats, settings.min_image_distance_A)
    mover = initial.info["mover"]
    ideal_initial, ideal_final = initial.copy(), final.copy()
    initial.rattle(settings.rattle_A, seed=hop_index)
    final.rattle(settings.rattle_A, seed=hop_index)
    tag = f"{label} {species}-vacancy hop{hop_index}"
    folder = f"{top}/{safe_slug(f'{species}-hop{hop_index}')}"
    relax = CalculationMaker("relax", {"fmax_eV_per_A": settings.endpoint_fmax_eV_per_A, "relax_cell": False,
                                       "max_steps": settings.max_steps, "keep_symmetry": False})  # fmt: skip
    first = relax.make(
        f"{tag} initial", engine_spec, workflow, f"{folder}/initial", atoms=initial, publish_as=INITIAL_SLOT
    )
    second = relax.make(f"{tag} final", engine_spec, workflow, f"{folder}/final", atoms=final, publish_as=FINAL_SLOT)
    hop_record = {**asdict(hop), "index": hop_index, "label": hop.label, "supercell": list(repeats), "mover": mover,
                  "sites_per_cell": sum(a.symbol == species for a in atoms)}  # fmt: skip
    neb = CalculationMaker("neb", {"n_images": settings.n_images, "fmax_eV_per_A": settings.fmax_eV_per_A,
                                   "max_steps": settings.max_steps, "climb": settings.climb})  # fmt: skip
    tasks = [
        HopEndpointCheckTask(hop=hop_record, unrelaxed_initial=structure_dict(initial),
                             unrelaxed_final=structure_dict(final), tolerance_eV=settings.endpoint_tolerance_eV,
                             equivalent=endpoints_equivalent(ideal_initial, ideal_final)),
        neb.task(tag, engine_spec, workflow, publish_as=NEB_TASK_ID_SLOT, metadata={"hop": hop_record}),
        HopTransportTask(engine=engine_spec, hop=hop_record, host=structure_dict(atoms),
                         temperature_K=settings.temperature_K, attempt_frequency=settings.attempt_frequency),
    ]  # fmt: skip
    third = Firework(tasks, name=f"neb {tag}", parents=[first, second],
                     spec={"_launch_dir": f"$PHASEFIRE_RUNS_DIR/{folder}/neb", FW_ID_FLAG: True})  # fmt: skip
    return [first, second, third]


def neb_workflow(
    atoms: Atoms, label: str, species: str, defect: str, engine_spec: dict[str, Any],
    settings: VacancyHopSettings | None = None, name: str | None = None,
) -> Workflow:  # fmt: skip
    """Vacancy-hop NEBs of ``species`` in ``atoms`` (unit cell), one chain per selected distinct hop."""
    if defect not in DEFECTS:
        raise PhasefireError(
            f"defect '{defect}' is not supported; choose one of {', '.join(DEFECTS)} (interstitials: not yet)"
        )
    settings = settings or hop_settings()
    engine = load_engine(engine_spec)
    if settings.attempt_frequency == "vineyard" and not engine.evaluates_forces():
        raise PhasefireError(
            f"attempt_frequency=vineyard needs direct force evaluation, which engine {engine.name} lacks; give a frequency in Hz"
        )
    try:
        hops = distinct_hops(atoms, species)
    except ValueError as exc:
        raise PhasefireError(str(exc)) from None
    name = name or f"neb/{label}/{species}-{defect}/{engine_spec['name']}"
    top = run_folder(name)
    fireworks = []
    for k in settings.select(hops):
        try:
            fireworks += hop_fireworks(atoms, label, species, k, hops[k], engine_spec, settings, name, top)
        except ValueError as exc:
            raise PhasefireError(str(exc)) from None
    return Workflow(
        fireworks, name=name, metadata={"phasefire": "neb", "engine": engine_spec["name"], "species": species}
    )


@explicit_serialize
class HopEndpointCheckTask(FiretaskBase):
    """Stop before the NEB when the relaxed endpoints do not bound the hop (they relaxed into each
    other, or a neighbour fell into the vacancy): ``analysis.neb.endpoint_problem``."""

    required_params = ["hop", "unrelaxed_initial"]
    optional_params = ["unrelaxed_final", "tolerance_eV", "equivalent"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        hop = self["hop"]
        initial = atoms_from_dict(fw_spec[INITIAL_SLOT]["structure"])
        final = atoms_from_dict(fw_spec[FINAL_SLOT]["structure"])
        if self.get("unrelaxed_final") is not None:
            final_start = atoms_from_dict(self["unrelaxed_final"])
        else:  # workflows submitted before both endpoints were relaxed from their own start
            final_start = initial.copy()
            final_start.positions[hop["mover"]] = final.positions[hop["mover"]]
        problem = endpoint_problem(
            initial, final, hop["mover"], hop["length_A"], start=atoms_from_dict(self["unrelaxed_initial"]),
            final_start=final_start,
        )  # fmt: skip
        if problem:
            raise PhasefireError(
                f"hop {hop['label']}: {problem}; this hop has no NEB (choose another with --set hops=...)"
            )
        if self.get("equivalent") is None:
            return FWAction()
        check = endpoint_check(
            initial, final, fw_spec[INITIAL_SLOT]["energy_eV"], fw_spec[FINAL_SLOT]["energy_eV"],
            bool(self["equivalent"]), float(self.get("tolerance_eV", 0.01)),
        )  # fmt: skip
        return FWAction(update_spec={ENDPOINT_CHECK_SLOT: check})


def gamma_frequencies_THz(engine, atoms: Atoms, displacement_A: float = 0.01) -> np.ndarray:
    """Γ-point harmonic frequencies of the cell (THz, imaginary negative) with phonopy finite
    displacements, forces from ``engine.energies_and_forces`` (all displaced cells at once)."""
    if not engine.evaluates_forces():
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
    displaced = [Atoms(cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions, pbc=True) for cell in phonon.supercells_with_displacements]  # fmt: skip
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


def hop_transport(
    hop: dict[str, Any], host: Atoms, barrier_forward_eV: float, barrier_backward_eV: float, temperature_K: float,
    attempt_frequency_Hz: float, attempt_frequency_source: str,
) -> dict[str, Any]:  # fmt: skip
    """Hop rates, D and mobility of one hop kind at ``temperature_K`` (``analysis.transport``)."""
    forward = hop_rate_per_s(max(barrier_forward_eV, 0.0), temperature_K, attempt_frequency_Hz)
    backward = hop_rate_per_s(max(barrier_backward_eV, 0.0), temperature_K, attempt_frequency_Hz)
    diffusion = diffusion_coefficient_cm2_per_s(
        [HopKind(forward, backward, hop["length_A"], hop["directed_per_cell"])], hop["sites_per_cell"]
    )
    charge = oxidation_charge(host, hop["species"])
    return {
        "temperature_K": temperature_K,
        "attempt_frequency_Hz": attempt_frequency_Hz,
        "attempt_frequency_source": attempt_frequency_source,
        "hop_rate_forward_per_s": forward,
        "hop_rate_backward_per_s": backward,
        "diffusion_cm2_per_s": diffusion,
        "diffusion_formula": "D = (1/6N) sum_k n_k (G_f + G_b)/2 a_k^2 over this hop kind (= z G a^2/6 for one hop kind on equivalent sites)",
        "vacancy_charge_e": charge,
        "mobility_cm2_per_V_s": nernst_einstein_mobility_cm2_per_V_s(diffusion, temperature_K, charge),
    }


@explicit_serialize
class HopTransportTask(FiretaskBase):
    """Add hop rates, D and mobility to the NEB document of this firework (``output.transport``,
    or ``output.unconverged_transport`` for a band that did not converge)."""

    required_params = ["engine", "hop", "host", "temperature_K", "attempt_frequency"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        database = results_db(fw_spec, getattr(self, "launchpad", None))
        document = database.get(fw_spec[NEB_TASK_ID_SLOT])
        output, prefix = document["output"], "" if document["converged"] else "unconverged_"
        if self["attempt_frequency"] == "vineyard":
            engine = load_engine(self["engine"], fw_spec.get("_fw_env", {}))
            initial = atoms_from_dict(fw_spec[INITIAL_SLOT]["structure"])
            frequency = vineyard_attempt_frequency_Hz(
                gamma_frequencies_THz(engine, initial), gamma_frequencies_THz(engine, atoms_from_dict(output["saddle_structure"]))
            )  # fmt: skip
            source = "vineyard (phonopy Gamma-point frequencies of initial state and saddle)"
        else:
            frequency, source = float(self["attempt_frequency"]), "given"
        transport = hop_transport(
            self["hop"], atoms_from_dict(self["host"]), output[f"{prefix}barrier_forward_eV"],
            output[f"{prefix}barrier_backward_eV"], float(self["temperature_K"]), frequency, source,
        )  # fmt: skip
        database.update_output(document["task_id"], {f"{prefix}transport": transport})
        if fw_spec.get(ENDPOINT_CHECK_SLOT) is not None:
            database.update_output(document["task_id"], {ENDPOINT_CHECK_SLOT: fw_spec[ENDPOINT_CHECK_SLOT]})
        return FWAction(stored_data={"diffusion_cm2_per_s": transport["diffusion_cm2_per_s"]})
