"""Relaxation workflows: one Firework per structure, code-agnostic (the engine is passed in)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from ase import Atoms
from fireworks import Firework, Workflow

from phasefire.workflows.tasks import RelaxTask, atoms_to_dict
from phasefire.workflows.worker import RUNS_DIR_VARIABLE


@dataclass
class RelaxMaker:
    """Make a relaxation Firework (atomate2-style maker; quacc-style defaults + overrides).

    fmax_eV_per_A: force criterion (the Ag2Se paper: 0.01 eV/Å); relax_cell: relax the cell
    too (VASP ISIF=3); max_steps: optimizer steps (VASP NSW); pressure_GPa: hydrostatic
    pressure on the cell (GPa; VASP PSTRESS = 10 x pressure_GPa kBar).
    """

    name: str = "relax"
    fmax_eV_per_A: float = 0.01
    relax_cell: bool = True
    max_steps: int = 300
    pressure_GPa: float = 0.0

    def settings(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "name"}

    def make(self, atoms: Atoms, label: str, engine_spec: dict[str, Any], workflow: str, launch_dir: str) -> Firework:
        task = RelaxTask(
            structure=atoms_to_dict(atoms),
            engine=engine_spec,
            label=label,
            settings=self.settings(),
            workflow=workflow,
        )
        return Firework(
            [task], name=f"{self.name} {label}", spec={"_launch_dir": f"${RUNS_DIR_VARIABLE}/{launch_dir}/{label}"}
        )


def relax_workflow(
    structures: dict[str, Atoms],
    engine_spec: dict[str, Any],
    maker: RelaxMaker | None = None,
    name: str | None = None,
) -> Workflow:
    """One independent relaxation per labelled structure; run folders ``<workflow>-<id>/<label>``."""
    maker = maker or RelaxMaker()
    name = name or f"relax/{'+'.join(structures)}/{engine_spec['name']}"
    launch_dir = f"{name.replace('/', '_').replace('+', '_')}-{uuid.uuid4().hex[:8]}"
    fireworks = [maker.make(atoms, label, engine_spec, name, launch_dir) for label, atoms in structures.items()]
    return Workflow(fireworks, name=name, metadata={"phasefire": "relax", "engine": engine_spec["name"]})
