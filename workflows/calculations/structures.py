"""Where a single-structure calculation's input comes from: its own parameter, or a parent's
result in the firework spec, optionally with atoms moved (a hop's final endpoint)."""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms
from ase.io import Trajectory
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from phasefire.workflows.errors import PhasefireError


def atoms_from_dict(structure: dict[str, Any] | Structure) -> Atoms:
    """Atoms from a pymatgen Structure dict (FireWorks may already have deserialised it)."""
    if not isinstance(structure, Structure):
        structure = Structure.from_dict(structure)
    return AseAtomsAdaptor.get_atoms(structure)


def structure_input(task: dict[str, Any], fw_spec: dict[str, Any]) -> Atoms:
    """The task's ``structure``, else the spec entry named by ``structure_from`` (default
    'structure': the parent's result; a record with a 'structure' key is accepted too), with
    ``move_atoms`` ({index: [x, y, z] Å}) applied and, when the parent left one
    (``velocities_from``: a trajectory whose last frame holds the momenta), its velocities."""
    if task.get("structure") is not None:
        return atoms_from_dict(task["structure"])
    slot = task.get("structure_from") or "structure"
    if slot not in fw_spec:
        raise PhasefireError(f"this firework expects '{slot}' from a parent calculation, which did not provide it")
    record = fw_spec[slot]
    atoms = atoms_from_dict(record["structure"] if "structure" in record and "lattice" not in record else record)
    for index, position in (task.get("move_atoms") or {}).items():
        atoms.positions[int(index)] = position
    velocities_from = fw_spec.get("velocities_from") if slot == "structure" else None
    if velocities_from:
        with Trajectory(velocities_from) as trajectory:
            momenta = trajectory[-1].get_momenta()
        if len(momenta) == len(atoms) and np.any(momenta):
            atoms.set_momenta(momenta)
    return atoms
