"""Calculation engines, looked up by name.

A workflow stores only the engine's *spec* (a small JSON-able dict such as
``{"name": "mlip", "model": "chgnet"}``); the worker that runs it turns the spec into an
engine with ``load_engine(spec, worker_env)``, adding machine-specific settings (VASP
command, POTCAR folder, device). Workflows never branch on the engine's name.
"""

from __future__ import annotations

from typing import Any

from phasefire.workflows.engines.base import CalculatorEngine, Engine
from phasefire.workflows.errors import PhasefireError


def _registry() -> dict[str, type[Engine]]:
    from phasefire.workflows.engines.gpaw import GpawEngine
    from phasefire.workflows.engines.mlip import MLIPEngine
    from phasefire.workflows.engines.vasp import VaspEngine

    return {cls.name: cls for cls in (MLIPEngine, VaspEngine, GpawEngine)}


def engine_names() -> list[str]:
    return list(_registry())


def engine_type(name: str) -> type[Engine]:
    registry = _registry()
    if name not in registry:
        raise PhasefireError(f"unknown engine '{name}'; choose one of {', '.join(registry)}")
    return registry[name]


def load_engine(spec: dict[str, Any] | str, worker_env: dict[str, Any] | None = None) -> Engine:
    """Build the engine named in ``spec`` with its parameters and this worker's settings."""
    spec = {"name": spec} if isinstance(spec, str) else dict(spec)
    return engine_type(spec.pop("name", None)).from_spec(spec, worker_env or {})


__all__ = ["CalculatorEngine", "Engine", "engine_names", "engine_type", "load_engine"]
