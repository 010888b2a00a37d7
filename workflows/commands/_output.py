"""Shared printing for commands (JSON for scripts, aligned tables for people, where a plot went) and the
argparse types of numeric options (a bad value is one line naming the option and its range)."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

from phasefire.workflows.errors import PhasefireError


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def format_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.4e}"
        return "-" if value is None else str(value)

    text_rows = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text_rows)) if text_rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in text_rows]
    return "\n".join(lines)


def print_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> None:
    print(format_table(rows, header))


def wrote_plot(path: str | os.PathLike) -> None:
    """Say on stderr (stdout may be JSON) where a ``--plot`` figure went."""
    print(f"wrote plot to {path}", file=sys.stderr)


def number(
    flag: str,
    kind: type = float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
    hint: str = "",
):
    """argparse ``type=`` for a numeric option: a finite ``kind`` (float or int) within the given
    bounds (``minimum``/``maximum`` inclusive, ``above``/``below`` exclusive; ``hint`` follows the
    range, e.g. the unit). A bad value is a
    PhasefireError naming ``flag`` and the allowed range (one line, exit 1; ``cli.main``)."""
    bounds = []
    if minimum is not None:
        bounds.append(f"≥ {minimum:g}")
    if above is not None:
        bounds.append(f"> {above:g}")
    if maximum is not None:
        bounds.append(f"≤ {maximum:g}")
    if below is not None:
        bounds.append(f"< {below:g}")
    kind_text = "an integer" if kind is int else "a number"
    allowed = f"{' and '.join(bounds)} ({kind_text}{', ' + hint if hint else ''})" if bounds else kind_text
    wanted = " ".join([kind_text, *bounds]) + (f" ({hint})" if hint else "")

    def parse(text: str):
        try:
            value = int(text) if kind is int else float(text)
        except ValueError:
            raise PhasefireError(f"{flag} must be {allowed}, got {text!r}") from None
        if not math.isfinite(value):
            raise PhasefireError(f"{flag} {text} is not finite; give {wanted}")
        if (
            (minimum is not None and value < minimum)
            or (above is not None and value <= above)
            or (maximum is not None and value > maximum)
            or (below is not None and value >= below)
        ):
            raise PhasefireError(f"{flag} must be {allowed}, got {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its own messages
    return parse


def positive_float(flag: str):
    """A finite number > 0 (``number``)."""
    return number(flag, float, above=0)


def finite_float(flag: str):
    """Any finite number (``number``)."""
    return number(flag, float)


def positive_int(flag: str):
    """An integer ≥ 1 (``number``)."""
    return number(flag, int, minimum=1)


def finite_floats(flag: str, count: int, example: str = "1,0,0"):
    """argparse ``type=`` for ``count`` comma-separated finite numbers (a PhasefireError naming ``flag``)."""

    def parse(text: str) -> tuple[float, ...]:
        try:
            values = tuple(float(x) for x in text.split(","))
        except ValueError:
            values = ()
        if len(values) != count or not all(math.isfinite(v) for v in values):
            raise PhasefireError(f"{flag} takes {count} comma-separated finite numbers like {example}, got {text!r}")
        return values

    parse.__name__ = "numbers"
    return parse
