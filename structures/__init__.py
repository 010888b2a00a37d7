"""Pure structure builders for the phasefire papers: literature coordinates in, ASE Atoms out.

``build(name)`` returns a new ``ase.Atoms``; ``MATERIALS`` lists every builder with its source.
Nothing here reads or writes files.
"""

from phasefire.structures.catalog import MATERIALS, Material, build, parse_supercell

__all__ = ["MATERIALS", "Material", "build", "parse_supercell"]
