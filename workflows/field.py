"""Field-applied polarization workflows: Born charges, Berry-phase series, relaxation under a field.

- ``born_workflow``: one ``born`` calculation per structure (VASP DFPT).
- ``berry_workflow``: ``berry`` points on the non-polar reference, ``n_images`` images
  (pymatgen ``Structure.interpolate``) and the polar structure, then ``BerrySeriesTask`` adds
  ΔP (pymatgen ``Polarization``) to the polar point's document.
- ``field_workflow``: one ``field`` relaxation per field value (both signs by default). VASP bulk
  (PEAD) first runs a static calculation and ``FieldGapCheckTask`` refuses a metal in one line;
  the slab route builds a slab along a lattice plane (pymatgen ``SlabGenerator``). Z*: a ``born``
  document of the same structure in the results database, else the user's, else nominal charges.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms
from fireworks import FiretaskBase, Firework, FWAction, Workflow, explicit_serialize
from pymatgen.io.ase import AseAtomsAdaptor

from phasefire.workflows.calculations.field import FieldSettings
from phasefire.workflows.engines import load_engine
from phasefire.workflows.errors import PhasefireError
from phasefire.workflows.makers import CalculationMaker, run_folder
from phasefire.workflows.naming import safe_slug
from phasefire.workflows.tasks import FW_ID_FLAG, results_db


def field_values(
    values: list[float] | None = None, ladder: tuple[float, int] | None = None, both_signs: bool = True
) -> list[float]:
    """Field strengths (V/Å): the given values, or ``ladder`` = (max, n) evenly spaced up to max;
    with ``both_signs`` each also reversed. NaN, inf and zero are refused."""
    chosen = list(values or [])
    if ladder is not None:
        top, count = float(ladder[0]), int(ladder[1])
        if count < 1 or count != ladder[1]:
            raise PhasefireError(f"a field ladder needs at least 1 step, got {count}; e.g. --field-ladder 0.02,4")
        chosen += [top * (k + 1) / count for k in range(count)]
    if not chosen:
        raise PhasefireError("give field strengths with --field-V-per-A VALUE... or --field-ladder MAX,N")
    for value in chosen:
        if not np.isfinite(value) or value == 0:
            raise PhasefireError(f"field strengths must be finite and non-zero (V/Å), got {value}; e.g. 0.01")
    out = []
    for value in chosen:
        out += [value, -value] if both_signs else [value]
    return list(dict.fromkeys(out))


def build_slab(atoms: Atoms, miller_index, thickness_A: float = 12.0, vacuum_A: float = 15.0) -> Atoms:
    """A slab of ``atoms`` along the plane ``miller_index`` (pymatgen ``SlabGenerator``, c made
    orthogonal to the surface), at least ``thickness_A`` thick with ``vacuum_A`` of vacuum (Å)."""
    from pymatgen.core.surface import SlabGenerator

    try:
        hkl = tuple(int(h) for h in miller_index)
        integral = all(float(h) == int(h) for h in miller_index) and len(hkl) == 3
    except (TypeError, ValueError):
        integral, hkl = False, ()
    if not integral or not any(hkl):
        raise PhasefireError(
            f"slab plane {list(miller_index)} is not a lattice plane; give three integers h,k,l, not all zero, e.g. 0,0,1"
        )
    if not (thickness_A > 0 and vacuum_A > 0):
        raise PhasefireError(f"slab thickness and vacuum must be positive (Å), got {thickness_A} and {vacuum_A}")
    generator = SlabGenerator(AseAtomsAdaptor.get_structure(atoms), hkl, thickness_A, vacuum_A, center_slab=True,
                              in_unit_planes=False, primitive=False, reorient_lattice=True)  # fmt: skip
    slab = generator.get_slab().get_orthogonal_c_slab()
    return AseAtomsAdaptor.get_atoms(slab)


def slab_normal(atoms: Atoms) -> list[float]:
    normal = np.cross(atoms.cell[0], atoms.cell[1])
    return (normal / np.linalg.norm(normal)).tolist()


def born_from_database(atoms: Atoms, database) -> tuple[list | None, str | None]:
    """Z* of the newest non-metallic ``born`` document of the same formula and atom count."""
    from pymatgen.core import Composition

    formula = Composition(atoms.get_chemical_formula()).reduced_formula
    documents = [d for d in database.query(task_type="born") if d.get("formula_pretty") == formula
                 and d.get("nsites") == len(atoms) and (d.get("output") or {}).get("born_charges_e")]  # fmt: skip
    if not documents:
        return None, None
    newest = max(documents, key=lambda d: d.get("task_id") or 0)
    return newest["output"]["born_charges_e"], f"born task {newest['task_id']}"


@explicit_serialize
class FieldGapCheckTask(FiretaskBase):
    """Refuse PEAD on a metal: the band gap of the parent static run (vasprun.xml eigenvalues)."""

    required_params = ["min_band_gap_eV"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        from phasefire.workflows.engines.vasp.parsing import band_gap_eV

        document = results_db(fw_spec, getattr(self, "launchpad", None)).get(fw_spec["parent_task_id"])
        check_gap(band_gap_eV(document["run_dir"]), float(self["min_band_gap_eV"]), document["formula_pretty"])
        return FWAction()


def check_gap(gap_eV: float | None, min_gap_eV: float, formula: str) -> None:
    """One line when the gap is unknown or below ``min_gap_eV`` (PEAD needs an insulator)."""
    if gap_eV is None or gap_eV < min_gap_eV:
        shown = "unknown" if gap_eV is None else f"{gap_eV:.3f} eV"
        raise PhasefireError(
            f"{formula} is metallic at this level of theory (band gap {shown} < {min_gap_eV} eV): EFIELD_PEAD needs a gap; "
            "use the slab route (--route slab) or --engine mlip"
        )


def field_workflow(
    atoms: Atoms, label: str, engine_spec: dict[str, Any], values: list[float], overrides: dict[str, Any] | None = None,
    slab_plane=None, slab_thickness_A: float = 12.0, vacuum_A: float = 15.0, database=None, name: str | None = None,
) -> Workflow:  # fmt: skip
    """One relaxation under each field in ``values`` (V/Å); see the module docstring."""
    overrides = dict(overrides or {})
    route = overrides.get("route", "slab" if slab_plane is not None else "bulk")
    overrides["route"] = route
    if route == "slab":
        atoms = build_slab(atoms, slab_plane or (0, 0, 1), slab_thickness_A, vacuum_A)
        overrides["field_direction"] = slab_normal(atoms)
    if overrides.get("born_charges_e") is None and database is not None:
        born, source = born_from_database(atoms, database)
        if born is not None:
            overrides |= {"born_charges_e": born, "born_source": source}
    elif overrides.get("born_charges_e") is not None:
        overrides.setdefault("born_source", "user")
    engine = load_engine(engine_spec)
    name = name or f"field/{label}/{route}/{engine_spec['name']}"
    top = run_folder(name)
    fireworks, parents = [], None
    makers = [CalculationMaker("field", {**overrides, "field_V_per_A": value}) for value in values]
    for maker in makers:
        maker.check_engine(engine_spec)
    settings: FieldSettings = makers[0].settings
    if settings.born_charges_e is not None and len(settings.born_charges_e) != len(atoms):
        raise PhasefireError(
            f"Born charges must be one 3x3 tensor per atom, shape ({len(atoms)}, 3, 3), got {len(settings.born_charges_e)} tensors"
        )
    gap_check = route == "bulk" and _has_electrons(engine)
    if gap_check:
        static = CalculationMaker("static").make(f"{label} gap", engine_spec, name, f"{top}/static", atoms=atoms)
        fireworks.append(static)
        parents = [static]
    for maker in makers:
        tag = f"{label} E={maker.settings.field_V_per_A:+g}V_per_A"
        folder = f"{top}/{safe_slug(f'E{maker.settings.field_V_per_A:+g}')}"
        task = maker.task(tag, engine_spec, name, **({} if gap_check else {"structure": _structure(atoms)}))
        tasks = [FieldGapCheckTask(min_band_gap_eV=settings.min_band_gap_eV), task] if gap_check else [task]
        fireworks.append(Firework(tasks, name=f"field {tag}", parents=parents,
                                  spec={"_launch_dir": f"$PHASEFIRE_RUNS_DIR/{folder}", FW_ID_FLAG: True}))  # fmt: skip
    return Workflow(fireworks, name=name, metadata={"phasefire": "field", "engine": engine_spec["name"]})


def _has_electrons(engine) -> bool:
    """VASP puts the field on the electrons; an ASE-calculator engine gets the Born-charge wrapper."""
    return not engine.runs_ase_drivers


def _structure(atoms: Atoms) -> dict[str, Any]:
    from phasefire.workflows.documents import structure_dict

    return structure_dict(atoms)


def born_workflow(
    structures: dict[str, Atoms], engine_spec: dict[str, Any], overrides: dict[str, Any] | None = None
) -> Workflow:
    """One ``born`` calculation per labelled structure."""
    from phasefire.workflows.makers import calculation_workflow

    return calculation_workflow(structures, engine_spec, CalculationMaker("born", overrides or {}))


def interpolate_series(nonpolar: Atoms, polar: Atoms, n_images: int) -> list[Atoms]:
    """Non-polar, ``n_images`` linear images and polar (pymatgen ``Structure.interpolate``)."""
    start, end = AseAtomsAdaptor.get_structure(nonpolar), AseAtomsAdaptor.get_structure(polar)
    if [str(s.specie) for s in start] != [str(s.specie) for s in end]:
        raise PhasefireError("the non-polar and polar structures must hold the same atoms in the same order")
    return [
        AseAtomsAdaptor.get_atoms(s) for s in start.interpolate(end, nimages=n_images + 1, interpolate_lattices=True)
    ]


def berry_slot(index: int) -> str:
    return f"berry_point_{index}"


def berry_workflow(nonpolar: Atoms, polar: Atoms, label: str, engine_spec: dict[str, Any], n_images: int = 8,
                   name: str | None = None) -> Workflow:  # fmt: skip
    """Berry-phase points along the path and the series step (see the module docstring)."""
    points = interpolate_series(nonpolar, polar, n_images)
    name = name or f"berry/{label}/{engine_spec['name']}"
    top = run_folder(name)
    fireworks = []
    for index, atoms in enumerate(points):
        maker = CalculationMaker("berry", {"n_images": n_images, "point_index": index})
        if index == 0:
            maker.check_engine(engine_spec)
        fireworks.append(maker.make(f"{label} point {index}", engine_spec, name, f"{top}/{index:02d}", atoms=atoms,
                                    publish_as=berry_slot(index)))  # fmt: skip
    series = Firework([BerrySeriesTask(n_points=len(points))], name=f"berry series {label}", parents=list(fireworks),
                      spec={"_launch_dir": f"$PHASEFIRE_RUNS_DIR/{top}/series"})  # fmt: skip
    return Workflow([*fireworks, series], name=name, metadata={"phasefire": "berry", "engine": engine_spec["name"]})


@explicit_serialize
class BerrySeriesTask(FiretaskBase):
    """ΔP of the finished series (pymatgen ``Polarization``) added to the polar point's document."""

    required_params = ["n_points"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        from phasefire.analysis.polarization import read_berry_folders

        database = results_db(fw_spec, getattr(self, "launchpad", None))
        documents = [database.get(fw_spec[berry_slot(k)]["task_id"]) for k in range(int(self["n_points"]))]
        series = read_berry_folders([d["run_dir"] for d in documents]).as_dict()
        database.update_output(documents[-1]["task_id"], {"series": series})
        return FWAction(stored_data={"delta_polarization_norm_uC_cm2": series["delta_polarization_norm_uC_cm2"]})
