"""VASP through pymatgen input sets and custodian: inputs (``inputs``), running (``running``),
parsing (``parsing``) and the engine that puts them together per calculation type (``engine``)."""

from phasefire.workflows.engines.vasp.engine import VaspEngine

__all__ = ["VaspEngine"]
