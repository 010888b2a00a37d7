"""User-facing errors: each message names the problem and the fix, on one line."""


class PhasefireError(Exception):
    """A problem the user can fix (bad input, missing executable, unreachable database)."""
