"""Command groups of the ``phasefire`` CLI; each module has ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib


def register_optional(subparsers: argparse._SubParsersAction, modules: tuple[str, ...]) -> None:
    """Let each module in ``modules`` that exists add its (sub)commands."""
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(subparsers)
