"""The catalogue of named structures and the one ``build`` entry point."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from phasefire.structures import ag2se, cspbx3, sb2se3


@dataclass(frozen=True)
class Material:
    """A named builder. ``random`` builders take a numpy Generator (seeded by ``build``)."""

    name: str
    description: str
    builder: Callable[..., Atoms]
    random: bool = False


MATERIALS: dict[str, Material] = {
    m.name: m
    for m in (
        Material("ag2se-alpha", "alpha-Ag2Se naumannite, P2_12_12_1 (Wiegers 1971; paper cell)", ag2se.alpha_ag2se),
        Material(
            "ag2se-beta",
            "beta-Ag2Se approximant: bcc Se (Im-3m, a=4.98 A) 2x2x2, Ag on tetrahedral sites (lowest-energy sample)",
            ag2se.beta_ag2se,
        ),
        Material(
            "ag2se-fcc-paper",
            "the Ag2Se paper's beta cell taken literally: antifluorite Fm-3m a=5.3357 A (36% too dense; not physical)",
            ag2se.fcc_paper_ag2se,
        ),
        Material("cspbbr3-cubic", "CsPbBr3 cubic perovskite, Pm-3m", cspbx3.cubic_cspbbr3),
        Material("cspbcl3-cubic", "CsPbCl3 cubic perovskite, Pm-3m", cspbx3.cubic_cspbcl3),
        Material("cspbi3-cubic", "CsPbI3 cubic perovskite, Pm-3m", cspbx3.cubic_cspbi3),
        Material("cspbbr3-ortho", "CsPbBr3 orthorhombic perovskite, Pnma", cspbx3.orthorhombic_cspbbr3),
        Material("cspbcl3-ortho", "CsPbCl3 orthorhombic perovskite, Pnma", cspbx3.orthorhombic_cspbcl3),
        Material("sb2se3-pnma", "Sb2Se3 stibnite-type, Pnma (Voutsas et al. 1985)", sb2se3.pnma_sb2se3),
        Material(
            "sb2se3-bcc",
            "Sb2Se3 high-pressure bcc, Im-3m, Sb/Se disordered (random supercell, seeded)",
            sb2se3.bcc_sb2se3,
            random=True,
        ),
    )
}


def parse_supercell(text: str) -> tuple[int, int, int]:
    """'2x2x2' (or '2,2,2' or a single '2') -> (2, 2, 2)."""
    parts = [p for p in re.split(r"[x,*\s]+", text.strip().lower()) if p]
    if len(parts) == 1:
        parts *= 3
    try:
        repeats = tuple(int(p) for p in parts)
    except ValueError:
        repeats = ()
    if len(repeats) != 3 or min(repeats) < 1:
        raise ValueError(f"bad supercell '{text}': give three positive integers like 2x2x2")
    return repeats  # type: ignore[return-value]


def build(name: str, supercell: tuple[int, int, int] = (1, 1, 1), seed: int | None = 0) -> Atoms:
    """Build the named structure, repeated ``supercell`` times; ``seed`` fixes random builders."""
    try:
        material = MATERIALS[name]
    except KeyError:
        raise ValueError(
            f"unknown structure '{name}'; choose one of {', '.join(MATERIALS)} (see `phasefire structures list`)"
        ) from None
    atoms = material.builder(np.random.default_rng(seed)) if material.random else material.builder()
    if tuple(supercell) != (1, 1, 1):
        atoms = atoms.repeat(tuple(supercell))
    atoms.info["name"] = name
    return atoms
