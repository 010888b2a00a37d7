"""User-facing errors: each message names the problem and the fix, on one line."""

from collections.abc import Iterator
from contextlib import contextmanager


class PhasefireError(Exception):
    """A problem the user can fix (bad input, missing executable, unreachable database)."""


@contextmanager
def user_input() -> Iterator[None]:
    """At a command boundary: the pure packages (``structures``, ``analysis``) raise ValueError for
    bad arguments, which there are the user's input; re-raise them as PhasefireError."""
    try:
        yield
    except ValueError as exc:
        raise PhasefireError(str(exc).splitlines()[0] if str(exc) else "invalid input") from None
