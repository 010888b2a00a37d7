"""The VASP engine: per calculation type, an input set, a custodian handler group and a parser
(``RECIPES``); ``run`` writes the inputs, runs custodian and parses. Nothing else branches on type."""

from __future__ import annotations

import difflib
import functools
import importlib.metadata
import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from phasefire.workflows.calculations.base import Calculation, Settings
from phasefire.workflows.calculations.neb import Endpoints, interpolate_images
from phasefire.workflows.engines.base import Engine
from phasefire.workflows.engines.vasp import inputs as vasp_inputs
from phasefire.workflows.engines.vasp import parsing, running
from phasefire.workflows.errors import PhasefireError

#: POTCAR libraries pymatgen knows (``user_potcar_functional``)
POTCAR_FUNCTIONALS = ("PBE", "PBE_52", "PBE_54", "PBE_64", "LDA", "LDA_52", "LDA_54", "LDA_64", "PW91")


@dataclass(frozen=True)
class VaspRecipe:
    """How VASP runs one calculation type.

    input_set(engine, inputs, settings) -> pymatgen input set; handlers() -> custodian handler
    group; parse(workdir, inputs, settings) -> result; prepare(engine, inputs, settings,
    workdir): extra input files (NEB image folders); neb_layout: custodian's VaspNEBJob and no
    vasprun validators (the root vasprun.xml of a NEB is often unreadable).
    """

    input_set: Callable
    handlers: Callable[[], list]
    parse: Callable
    prepare: Callable | None = None
    neb_layout: bool = False


def _relax_set(engine: VaspEngine, atoms, settings):
    incar = {**vasp_inputs.relax_incar(atoms, settings), **engine.incar}
    return vasp_inputs.relax_set(atoms, incar, engine.reciprocal_density, engine.potcar_functional)


def _static_set(engine: VaspEngine, atoms, settings):
    incar = {**vasp_inputs.static_incar(atoms, settings, engine.incar), **engine.incar}
    return vasp_inputs.relax_set(atoms, incar, engine.reciprocal_density, engine.potcar_functional)


def _md_set(engine: VaspEngine, atoms, settings):
    incar = {**vasp_inputs.md_incar(atoms, settings), **engine.incar}
    return vasp_inputs.md_set(atoms, incar, engine.potcar_functional)


def _neb_set(engine: VaspEngine, endpoints: Endpoints, settings):
    incar = {**vasp_inputs.neb_incar(endpoints.initial, settings, engine.vtst), **engine.incar}
    return vasp_inputs.relax_set(endpoints.initial, incar, engine.reciprocal_density, engine.potcar_functional)


def _neb_images(engine: VaspEngine, endpoints: Endpoints, settings, workdir: Path) -> None:
    images = interpolate_images(endpoints.initial, endpoints.final, settings.n_images)
    vasp_inputs.write_image_folders(images, workdir)


def _born_set(engine: VaspEngine, atoms, settings):
    incar = {**vasp_inputs.born_incar(atoms, settings), **engine.incar}
    return vasp_inputs.relax_set(atoms, incar, engine.reciprocal_density, engine.potcar_functional)


def _berry_set(engine: VaspEngine, atoms, settings):
    incar = {**vasp_inputs.berry_incar(atoms, settings), **engine.incar}
    return vasp_inputs.relax_set(atoms, incar, engine.reciprocal_density, engine.potcar_functional)


def _field_set(engine: VaspEngine, inputs, settings):
    incar = {**vasp_inputs.field_incar(inputs.atoms, settings), **engine.incar}
    return vasp_inputs.relax_set(inputs.atoms, incar, engine.reciprocal_density, engine.potcar_functional)


RECIPES: dict[str, VaspRecipe] = {
    "relax": VaspRecipe(_relax_set, running.relax_handlers, lambda workdir, atoms, settings: parsing.parse_vasp_run(workdir)),
    "static": VaspRecipe(_static_set, running.static_handlers, lambda workdir, atoms, settings: parsing.parse_vasp_run(workdir)),
    "md": VaspRecipe(
        _md_set,
        running.md_handlers,
        lambda workdir, atoms, settings: parsing.parse_vasp_md(workdir, settings.sample_interval, settings.equilibration_steps),
    ),
    "neb": VaspRecipe(
        _neb_set,
        running.neb_handlers,
        lambda workdir, endpoints, settings: parsing.parse_vasp_neb(workdir, endpoints.energies_eV),
        prepare=_neb_images,
        neb_layout=True,
    ),
    "born": VaspRecipe(_born_set, running.born_handlers, lambda workdir, atoms, settings: parsing.parse_vasp_born(workdir)),
    "berry": VaspRecipe(_berry_set, running.berry_handlers, lambda workdir, atoms, settings: parsing.parse_vasp_berry(workdir)),
    "field": VaspRecipe(_field_set, running.field_handlers, lambda workdir, inputs, settings: parsing.parse_vasp_run(workdir)),
}  # fmt: skip


#: tags of the VTST Tools build, which pymatgen's list of VASP tags does not know
VTST_TAGS = {"LCLIMB": "bool", "IOPT": "int", "ICHAIN": "int", "LTANGENTOLD": "bool", "LDNEB": "bool"}
#: MAGMOM as VASP reads it: numbers, with 'N*value' repeats ("2*1.0 10*0")
MAGMOM_STRING = re.compile(r"^\s*((\d+\*)?-?\d+(\.\d*)?([eE][-+]?\d+)?\s*)+$")


@functools.cache
def vasp_tag_types() -> dict[str, str]:
    """Every INCAR tag VASP knows (pymatgen's ``incar_parameters.json``, plus VTST's) -> its type."""
    import pymatgen.io.vasp.inputs

    table = json.loads((Path(pymatgen.io.vasp.inputs.__file__).parent / "incar_parameters.json").read_text())
    return {tag: entry.get("type", "str") for tag, entry in table.items()} | VTST_TAGS


def check_incar_value(tag: str, value: Any) -> None:
    """Raise ValueError unless ``value`` has the type VASP expects for ``tag``."""
    expected = vasp_tag_types()[tag]
    if tag == "MAGMOM":
        numbers = isinstance(value, list) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        per_element = isinstance(value, dict) and all(isinstance(v, int | float) for v in value.values())
        if not (numbers or per_element or (isinstance(value, str) and MAGMOM_STRING.match(value))):
            raise ValueError(f"MAGMOM = {value!r}: give one number per atom, 'N*value' repeats or {{element: value}}")
        return
    valid = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "list": isinstance(value, list | int | float) and not isinstance(value, bool),
        "str": isinstance(value, str),
    }.get(expected, True)
    if not valid:
        raise ValueError(f"INCAR {tag} = {value!r} is not a {expected}")


class VaspEngine(Engine):
    """VASP under custodian.

    incar: INCAR tags on top of each type's defaults; reciprocal_density: k-points per Å^-3;
    potcar_functional: pymatgen's label of the POTCAR library; max_errors: custodian
    corrections before giving up; polling_time_step_s: how often custodian checks a running
    job (s); require_output_files: fail a run that left no CONTCAR/OSZICAR/OUTCAR (custodian's
    VaspFilesValidator); vtst: the VTST Tools build (its NEB optimiser and climbing image).
    vasp_cmd / vasp_gamma_cmd / potcar_dir come from the worker.
    """

    name: ClassVar[str] = "vasp"
    worker_fields: ClassVar[tuple[str, ...]] = ("vasp_cmd", "vasp_gamma_cmd", "potcar_dir")
    volumetric_outputs: ClassVar[frozenset[str]] = frozenset({"elf", "charge_density", "core_charge"})

    incar: dict[str, Any] = Field(default_factory=dict)
    reciprocal_density: float = Field(vasp_inputs.PAPER_RECIPROCAL_DENSITY, gt=0)
    potcar_functional: str = "PBE_54"
    max_errors: int = Field(5, ge=0)
    polling_time_step_s: float = Field(10.0, gt=0)
    require_output_files: bool = True
    vtst: bool = False
    vasp_cmd: str = "vasp_std"
    vasp_gamma_cmd: str = "vasp_gam"
    potcar_dir: str | None = None

    @field_validator("incar")
    @classmethod
    def _known_tags(cls, incar: dict[str, Any]) -> dict[str, Any]:
        """Only tags VASP knows, each of its type; a misspelt tag gets a suggestion."""
        known = vasp_tag_types()
        for key, value in incar.items():
            tag = key.upper()
            if tag not in known:
                close = difflib.get_close_matches(tag, known, n=1)
                raise ValueError(f"unknown INCAR tag {key}" + (f"; did you mean {close[0]}?" if close else ""))
            if value is not None:
                check_incar_value(tag, value)
        return {key.upper(): value for key, value in incar.items()}

    def check_inputs(self, atoms) -> None:
        """A per-atom INCAR list must have one entry per atom of the structure."""
        magmom = self.incar.get("MAGMOM")
        if isinstance(magmom, list) and len(magmom) != len(atoms):
            raise PhasefireError(
                f"incar.MAGMOM has {len(magmom)} values for {len(atoms)} atoms ({atoms.get_chemical_formula()}); "
                "give one per atom, 'N*value' repeats or {element: value}"
            )

    def local_problems(self, worker_env: dict[str, Any], elements: set[str]) -> list[str]:
        """The VASP command and the POTCARs of ``elements`` as this machine's worker settings give them."""
        problems = []
        for check in (
            lambda: running.vasp_command(worker_env.get("vasp_cmd") or self.vasp_cmd),
            lambda: running.check_potcars(worker_env.get("potcar_dir"), self.potcar_functional, elements),
        ):
            try:
                check()
            except PhasefireError as exc:
                problems.append(str(exc))
        return problems

    def model_post_init(self, context) -> None:
        if self.potcar_functional not in POTCAR_FUNCTIONALS:
            raise PhasefireError(
                f"potcar_functional '{self.potcar_functional}' is unknown; choose one of {', '.join(POTCAR_FUNCTIONALS)}"
            )

    def versions(self) -> dict[str, str]:
        return {dist: importlib.metadata.version(dist) for dist in ("pymatgen", "custodian")}

    def recipe(self, calculation: Calculation) -> VaspRecipe:
        if calculation.task_type not in RECIPES:
            raise PhasefireError(f"engine vasp has no recipe for {calculation.task_type} calculations")
        return RECIPES[calculation.task_type]

    def check(self, calculation: Calculation, settings: Settings) -> None:
        self.recipe(calculation)
        super().check(calculation, settings)

    def input_set(self, calculation: Calculation, inputs: Any, settings: Settings):
        """The pymatgen input set this engine writes for ``calculation``."""
        return self.recipe(calculation).input_set(self, inputs, settings)

    def run(self, calculation: Calculation, inputs: Any, workdir: Path, settings: Settings) -> Any:
        from custodian.vasp.jobs import VaspJob, VaspNEBJob
        from custodian.vasp.validators import VaspFilesValidator, VasprunXMLValidator

        recipe, workdir = self.recipe(calculation), Path(workdir)
        running.write_inputs(
            self.input_set(calculation, inputs, settings), workdir, self.potcar_dir, self.potcar_functional
        )
        if recipe.prepare:
            recipe.prepare(self, inputs, settings, workdir)
        command, gamma = running.vasp_command(self.vasp_cmd), shlex.split(self.vasp_gamma_cmd)
        if recipe.neb_layout:
            job, validators = VaspNEBJob(vasp_cmd=command, gamma_vasp_cmd=gamma, auto_npar=False), []
        else:
            job = VaspJob(vasp_cmd=command, gamma_vasp_cmd=gamma, auto_npar=False)
            validators = [VasprunXMLValidator(), *([VaspFilesValidator()] if self.require_output_files else [])]
        running.run_custodian(workdir, job, recipe.handlers(), validators, self.max_errors, self.polling_time_step_s)
        result = recipe.parse(workdir, inputs, settings)
        if recipe.neb_layout:
            result.details["climbing_image"] = bool(settings.climb and self.vtst)
        return result
