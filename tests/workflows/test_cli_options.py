"""Every numeric option of the CLI: a bad value is one line naming the option and its range (exit 1,
no numpy or argparse usage text); every ``--plot`` says on stderr where it wrote."""

from __future__ import annotations

import argparse
import json

import pytest

from phasefire.workflows.cli import build_parser, main


def _numeric_options(parser: argparse.ArgumentParser, path: str = "phasefire"):
    """(command path, option) of every option converted by the bare int/float types, recursively."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _numeric_options(sub, f"{path} {name}")
        elif action.type in (int, float):
            yield path, "/".join(action.option_strings) or action.dest


#: checked after parsing, with its own tested message (test_cli_polarization: "finite and non-zero")
CHECKED_AFTER_PARSING = {("phasefire submit field", "--field-V-per-A")}


def test_no_numeric_option_is_parsed_by_bare_int_or_float():
    """int/float take nan, inf and negative values silently; every option uses ``_output.number``."""
    assert set(_numeric_options(build_parser())) == CHECKED_AFTER_PARSING


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["analyze", "sq", "cspbbr3-cubic", "--qmax", "nan"], "--qmax nan is not finite; give a number > 0.3"),
        (["analyze", "sq", "cspbbr3-cubic", "--qmax", "-1"], "--qmax must be > 0.3 (a number, 1/Å;"),
        (["analyze", "adf", "cspbbr3-cubic", "--bins", "0"], "--bins must be ≥ 1 (an integer), got '0'"),
        (["analyze", "rdf", "cspbbr3-cubic", "--bins", "1"], "--bins must be ≥ 2 (an integer), got '1'"),
        (["analyze", "rdf", "cspbbr3-cubic", "--rmax", "-1"], "--rmax must be > 0 (a number), got '-1'"),
        (["analyze", "all", "cspbbr3-cubic", "--rmax", "inf"], "--rmax inf is not finite"),
        (["analyze", "cn", "cspbbr3-cubic", "--cutoff", "0"], "--cutoff must be a distance > 0 in Å"),
        (["analyze", "cn", "cspbbr3-cubic", "--cutoff", "Pb-Br=nan"], "--cutoff: cutoff Pb-Br must be a positive"),
        (["analyze", "rings", "cspbbr3-cubic", "--max-size", "2"], "--max-size must be ≥ 3 and ≤ 200 (an integer"),
        (["analyze", "altbc", "cspbbr3-cubic", "--angle-min", "200"], "--angle-min must be ≥ 90 and < 180"),
        (["analyze", "altbc", "cspbbr3-cubic", "--rmin", "-0.5"], "--rmin must be ≥ 0 (a number, Å)"),
        (["analyze", "all", "cspbbr3-cubic", "--sq-bins", "1.5"], "--sq-bins must be ≥ 2 (an integer)"),
        (["analyze", "all", "cspbbr3-cubic", "--angle-bins", "-3"], "--angle-bins must be ≥ 1"),
        (["analyze", "elf", "ELFCAR", "--cutoff", "nan"], "--cutoff nan is not finite"),
        (["analyze", "dipoles", "ag2se-alpha", "--neighbors", "0"], "--neighbors must be ≥ 1"),
        (["analyze", "dipoles", "ag2se-alpha", "--projection", "nan,0,1"], "--projection takes 3 comma-separated"),
        (["analyze", "neb", ".", "--endpoint-energies", "nan", "1"], "--endpoint-energies nan is not finite"),
        (["structures", "build", "sb2se3-bcc", "--seed", "-5"], "--seed must be ≥ 0 (an integer), got '-5'"),
        (["model", "rectification", "--bias", "nan"], "--bias nan is not finite"),
        (["model", "rectification", "--hours", "-1"], "--hours must be > 0 (a number), got '-1'"),
        (["model", "rectification", "--grid", "2.5"], "--grid must be ≥ 10 (an integer), got '2.5'"),
        (["model", "rectification", "--rate-constant", "0"], "--rate-constant must be > 0"),
        (["model", "rectification", "--from-task", "0"], "--from-task must be ≥ 1"),
        (["submit", "amorphous", "--seed", "-1"], "--seed must be ≥ 0"),
        (["submit", "neb", "--structure", "cspbbr3-cubic", "--temperature", "-10"], "--temperature must be > 0"),
        (["submit", "berry", "--structure", "x", "--images", "0"], "--images must be ≥ 1"),
        (["submit", "field", "--structure", "x", "--field-ladder", "0.05"], "--field-ladder takes 2 comma-separated"),
        (["submit", "field", "--structure", "x", "--vacuum", "-1"], "--vacuum must be > 0"),
        (["run", "--workers", "0"], "--workers must be ≥ 1 (an integer), got '0'"),
        (["reproduce", "campaign", "--fmax", "0"], "--fmax must be > 0"),
        (["reproduce", "cspbx3", "--temperature", "nan"], "--temperature nan is not finite"),
        (["validate", "models", "--workers", "two"], "--workers must be ≥ 1 (an integer), got 'two'"),
        (["show", "-3"], "FW_ID must be ≥ 1"),
        (["queue", "launch", "--njobs", "all"], "--njobs must be an integer, got 'all'"),
        (["db", "show", "x"], "TASK_ID must be ≥ 1 (an integer), got 'x'"),
    ],
)
def test_a_bad_numeric_value_is_one_line_naming_the_option(capsys, argv, fragment):
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("phasefire: error: ") and err.count("\n") == 1 and fragment in err, err


def test_every_plot_says_where_it_went(capsys, tmp_path):
    """The analyze commands are covered in test_cli_analyze; here the others that draw."""
    from tests.workflows.test_cli_elf import ELFCAR_GZ

    cif, png = tmp_path / "ag2se.cif", tmp_path / "dipoles.png"
    assert main(["structures", "build", "ag2se-alpha", "-o", str(cif)]) == 0
    capsys.readouterr()
    assert main(["analyze", "dipoles", str(cif), "--projection", "1,0,0", "--json", "--plot", str(png)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) and err == f"wrote plot to {png}\n" and png.stat().st_size > 10_000
    png = tmp_path / "elf.png"
    assert main(["analyze", "elf", str(ELFCAR_GZ), "--plot", str(png)]) == 0
    assert f"wrote plot to {png}\n" in capsys.readouterr().err and png.stat().st_size > 10_000
    png = tmp_path / "profiles.png"
    argv = ["model", "rectification", "--json", "--grid", "250", "--hours", "0.05", "--rate-constant", "1e-5"]
    assert main([*argv, "--plot", str(png)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["plot"] == str(png) and f"wrote plot to {png}\n" in err
