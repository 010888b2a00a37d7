"""The ``phasefire`` command line.

Each command group lives in its own module with a ``register(subparsers)`` function;
this module only assembles them. A ``PhasefireError`` (a problem the user can fix) becomes one
line on stderr and exit 1; any other exception is a bug and says so, pointing to ``--debug``
(which shows the traceback instead), with exit 70.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from phasefire.workflows.commands import register_optional
from phasefire.workflows.errors import PhasefireError

#: modules contributing command groups, in the order shown by ``phasefire --help``
COMMAND_MODULES = (
    "phasefire.workflows.commands.structures",
    "phasefire.workflows.commands.submit",
    "phasefire.workflows.commands.run",
    "phasefire.workflows.commands.manage",
    "phasefire.workflows.commands.queue",
    "phasefire.workflows.commands.db",
    "phasefire.workflows.commands.analyze",
    "phasefire.workflows.commands.model",
    "phasefire.workflows.commands.validate",
    "phasefire.workflows.commands.reproduce",
)

#: exit code for a user-facing error (argparse itself uses 2 for bad usage)
EXIT_USER_ERROR = 1
#: exit code for a bug (sysexits EX_SOFTWARE)
EXIT_INTERNAL_ERROR = 70


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="phasefire",
        description="Atomistic workflows for the Ag2Se, CsPbX3 and amorphous Sb2Se3 papers.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_optional(subparsers, COMMAND_MODULES)
    return parser


def main(argv: list[str] | None = None) -> int:
    # scipy's logm inside ASE's FrechetCellFilter warns at every cell-relaxation step about errors of
    # ~1e-13: noise that buried `reproduce ag2se`'s progress lines under hundreds of warnings
    warnings.filterwarnings("ignore", message="logm result may be inaccurate", category=RuntimeWarning)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except PhasefireError as exc:  # a bad option value (``commands._output.number``): one line, like any user error
        print(f"phasefire: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    debug = args.debug or os.environ.get("PHASEFIRE_DEBUG") == "1"
    try:
        return int(args.handler(args) or 0)
    except PhasefireError as exc:
        if debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"phasefire: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("phasefire: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `phasefire db query | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # anything else is a bug, not the user's input
        if debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"phasefire: internal error ({type(exc).__name__}: {first}); this is a bug in phasefire: "
            "rerun with --debug for the traceback and report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
