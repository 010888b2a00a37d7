"""``phasefire analyze``: every subcommand's JSON and table, plots, and bad input (one line, exit 1)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from benchmarks._standins import rsa_frame
from phasefire.analysis.eos import EV_PER_A3_IN_GPA, birch_murnaghan_pressure
from phasefire.workflows.cli import main


@pytest.fixture
def fcc(tmp_path):
    path = tmp_path / "fcc.extxyz"
    write(path, bulk("Cu", "fcc", a=3.6, cubic=True) * (4, 4, 4))
    return str(path)


@pytest.fixture
def amorphous(tmp_path):
    path = tmp_path / "a.extxyz"
    write(path, [rsa_frame(600, seed=0), rsa_frame(600, seed=0)])
    return str(path)


def run(capsys, *argv):
    code = main(["analyze", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cn_json_with_cutoff(capsys, fcc):
    code, out, _ = run(capsys, "cn", fcc, "--cutoff", "3.2", "--json")
    assert code == 0
    assert json.loads(out)["cn"] == {"Cu-Cu": 12.0}


def test_cn_per_pair_cutoffs_and_table(capsys, amorphous):
    code, out, _ = run(capsys, "cn", amorphous, "--cutoff", "Sb-Sb=3.2,Sb-Se=3.2,Se-Se=3.2", "--json")
    result = json.loads(out)
    assert code == 0 and set(result["cn"]) == {"Sb-Sb", "Sb-Se", "Se-Sb", "Se-Se"}
    code, table, _ = run(capsys, "cn", amorphous, "--cutoff", "3.2")
    assert code == 0 and "Sb-Se" in table and f"{result['cn']['Sb-Se']:.3f}" in table


def test_every_analysis_prints_json_and_plots(capsys, tmp_path, fcc, amorphous):
    cases = {
        "rdf": ([fcc, "--rmax", "7", "--bins", "350"], lambda r: abs(r["r1_A"] - 3.6 / 2**0.5) < 0.02),
        "sq": ([amorphous, "--rmax", "6"], lambda r: 1.5 < r["q1_inv_A"] < 3.5),
        "adf": ([fcc, "--cutoff", "3.0"], lambda r: abs(r["weight_near_60"] - 24 / 66) < 1e-9),
        "altbc": ([amorphous], lambda r: 0 < r["pld"] < 0.3 and r["n_frames"] == 2),
        "rings": ([amorphous, "--max-size", "6"], lambda r: "ring_size_counts" in r),
    }
    for name, (argv, check) in cases.items():
        png = tmp_path / f"{name}.png"
        code, out, err = run(capsys, name, *argv, "--json", "--plot", str(png))
        assert code == 0, err
        assert check(json.loads(out)), name
        assert png.read_bytes()[:4] == b"\x89PNG" and f"wrote plot to {png}\n" in err
        code, table, _ = run(capsys, name, *argv)
        assert code == 0 and table.strip() and not table.lstrip().startswith("{")


def test_eos_from_csv_and_from_structures_with_stress(capsys, tmp_path):
    rows = ["series,pressure_GPa,volume_per_atom_A3"]
    for name, (v0, b0, b0p), volumes in [
        ("amorphous", (39.0, 12.0, 6.0), np.linspace(22, 38, 10)),
        ("crystal", (33.5, 35.0, 4.5), np.linspace(22, 33, 10)),
    ]:
        rows += [f"{name},{birch_murnaghan_pressure(v, v0, b0, b0p)},{v}" for v in volumes]
    csv_path = tmp_path / "eos.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    code, out, err = run(capsys, "eos", str(csv_path), "--json", "--plot", str(tmp_path / "eos.png"))
    assert code == 0 and err == f"wrote plot to {tmp_path / 'eos.png'}\n", err
    result = json.loads(out)
    assert result["fits"]["crystal"]["B0_GPa"] == pytest.approx(35.0, rel=1e-6)
    assert 5 < result["crossover_pressure_GPa"] < 40

    # structure files: one point each, pressure from the stress, volume per atom
    tokens = []
    for k, scale in enumerate(np.linspace(0.9, 1.0, 5)):
        atoms = bulk("Cu", "fcc", a=3.6 * scale, cubic=True)
        volume = atoms.get_volume() / len(atoms)
        pressure = birch_murnaghan_pressure(volume, 11.66, 140.0, 5.0)
        atoms.calc = SinglePointCalculator(atoms, stress=[-pressure / EV_PER_A3_IN_GPA] * 3 + [0, 0, 0])
        path = tmp_path / f"cu{k}.extxyz"
        write(path, atoms)
        tokens.append(f"crystal={path}")
    code, out, err = run(capsys, "eos", *tokens, "--json")
    assert code == 0, err
    fit = json.loads(out)["fits"]["crystal"]
    assert (fit["V0_per_atom_A3"], fit["B0_GPa"]) == pytest.approx((11.66, 140.0), rel=1e-4)


def _assert_one_line_error(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("phasefire: error:") and fragment in err, err


def test_bad_input(capsys, tmp_path, fcc, amorphous):
    garbage = tmp_path / "garbage.xyz"
    garbage.write_text("not a structure\n")
    _assert_one_line_error(capsys, ["cn", str(garbage)], "cannot read structure file")
    _assert_one_line_error(capsys, ["rdf", str(tmp_path / "missing.cif")], "cannot read structure file")
    molecule = tmp_path / "molecule.xyz"
    write(molecule, bulk("Cu", "fcc", a=3.6).repeat(1), format="xyz")
    _assert_one_line_error(capsys, ["adf", str(molecule)], "not periodic")
    _assert_one_line_error(capsys, ["rdf", fcc, "--rmax", "20", "--supercell", "1x1x1"], "half the shortest cell")
    _assert_one_line_error(capsys, ["cn", fcc, "--cutoff", "2.0"], "empty neighbour shells")
    _assert_one_line_error(capsys, ["adf", fcc, amorphous], "frame 1 has 600 atoms")
    iron = tmp_path / "fe.extxyz"
    write(iron, bulk("Fe", "bcc", a=2.87, cubic=True) * (4, 4, 4))
    _assert_one_line_error(capsys, ["sq", str(iron), "--rmax", "5"], "no X-ray form factor tabulated for species 'Fe'")
    crossing = tmp_path / "no_cross.json"
    volumes = np.linspace(22, 33, 8)
    crossing.write_text(
        json.dumps(
            {
                "amorphous": {
                    "pressure_GPa": list(birch_murnaghan_pressure(volumes, 36.0, 40.0, 4.5)),
                    "volume_per_atom_A3": list(volumes),
                },
                "crystal": {
                    "pressure_GPa": list(birch_murnaghan_pressure(volumes, 33.5, 35.0, 4.5)),
                    "volume_per_atom_A3": list(volumes),
                },
            }
        )
    )
    _assert_one_line_error(capsys, ["eos", str(crossing)], "do not cross")
    _assert_one_line_error(capsys, ["eos", fcc], "has no stress")


def test_all_in_one_pass_equals_the_single_commands(capsys, tmp_path, amorphous):
    code, out, err = run(capsys, "all", amorphous, "--max-size", "6", "--json", "--plot", str(tmp_path / "all.png"))
    assert code == 0, err
    together = json.loads(out)
    assert list(together) == ["rdf", "sq", "cn", "adf", "rings", "altbc"]
    assert (tmp_path / "all.png").read_bytes()[:4] == b"\x89PNG" and "wrote plot to" in err
    for name, extra in [
        ("rdf", []),
        ("sq", []),
        ("cn", []),
        ("adf", []),
        ("rings", ["--max-size", "6"]),
        ("altbc", []),
    ]:
        code, out, err = run(capsys, name, amorphous, *extra, "--json")
        assert code == 0, err
        assert json.loads(out) == together[name], name
    assert together["cn"]["n_frames"] == 2 and list(together["cn"]["cutoffs_A"].values()) == [3.2, 3.2, 3.2]
    code, table, _ = run(capsys, "all", amorphous, "--only", "cn,adf")
    assert code == 0 and "[cn]" in table and "[adf]" in table and "[rdf]" not in table


def test_shared_cutoff_option(capsys, amorphous):
    code, out, _ = run(capsys, "all", amorphous, "--only", "rdf,cn", "--cutoff", "auto", "--rmax", "6", "--bins", "300")
    assert code == 0
    code, out, _ = run(capsys, "all", amorphous, "--only", "cn", "--cutoff", "auto", "--json")
    cn = json.loads(out)["cn"]
    code, out, _ = run(capsys, "rdf", amorphous, "--rmax", "6", "--bins", "300", "--json")
    minima = json.loads(out)["first_minimum_A"]
    assert cn["cutoff_source"] == "g(r) first minimum" and cn["cutoffs_A"] == pytest.approx(minima)
    code, out, _ = run(capsys, "rings", amorphous, "--cutoff", "Sb-Se=3.2", "--max-size", "6", "--json")
    assert json.loads(out)["cutoffs_A"] == {"Se-Se": 0.0, "Se-Sb": 3.2, "Sb-Sb": 0.0}  # species in order of appearance


def test_all_bad_input(capsys, amorphous):
    _assert_one_line_error(capsys, ["all", amorphous, "--only", "rdf,elf"], "unknown analysis elf")
    _assert_one_line_error(capsys, ["adf", amorphous, "--cutoff", "Sb-Se:3"], "--cutoff: cutoff 'Sb-Se:3' is neither")
    _assert_one_line_error(capsys, ["cn", amorphous, "--cutoff", "Sb-Te=3.0"], "names Te, not in this structure")


def test_analyze_takes_built_in_names_and_a_supercell(capsys):
    """A unit cell is too small for g(r) to 6 Å; --supercell makes it work; a built-in name is a file."""
    assert main(["analyze", "rdf", "cspbbr3-cubic", "--supercell", "3x3x3", "--rmax", "6", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["r1_A"] == pytest.approx(2.94, abs=0.05)  # Pb-Br, a/2 of the 5.874 Å cell
    assert main(["analyze", "cn", "cspbbr3-cubic", "--supercell", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cn"]["Pb-Br"] == pytest.approx(6.0)  # octahedral
    assert main(["analyze", "cn", "cspbbr3-cubic", "--supercell", "2x0x1"]) == 1
    assert "bad supercell '2x0x1'" in capsys.readouterr().err


def test_analyze_refuses_overlapping_atoms_with_the_pair_named(tmp_path, capsys):
    from ase.build import bulk
    from ase.io import write

    atoms = bulk("Se", "sc", a=3.0).repeat(3)
    atoms.append("Se")
    atoms.positions[-1] = atoms.positions[0] + [0.0006, 0, 0]
    write(tmp_path / "dup.extxyz", atoms)
    assert main(["analyze", "rdf", str(tmp_path / "dup.extxyz")]) == 1
    err = capsys.readouterr().err
    assert "atoms 0 (Se) and 27 (Se)" in err and "0.0006 Å apart" in err and err.count("\n") == 1


def test_structures_build_bad_seed_and_supercell_are_one_line(capsys):
    assert main(["structures", "build", "sb2se3-bcc", "--seed", "-5"]) == 1
    assert main(["structures", "build", "sb2se3-bcc", "--supercell", "abc"]) == 1
    err = capsys.readouterr().err
    assert err.count("phasefire: error:") == 2 and "internal error" not in err


def _json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out), err


def test_a_unit_cell_is_repeated_to_the_smallest_exact_supercell(capsys, tmp_path):
    """CsPbBr3's 5.874 Å cubic cell: g(r) to 6 Å needs heights > 12 Å (3x3x3), bonds to 3.2 Å need > 6.4 Å
    (2x2x2); the automatic repeat gives the numbers of the same crystal repeated by hand, said once on stderr."""
    by_hand = tmp_path / "cspbbr3-333.extxyz"
    from phasefire.structures import build

    write(by_hand, build("cspbbr3-cubic").repeat(3))
    auto, err = _json(capsys, "rdf", "cspbbr3-cubic", "--rmax", "6")
    assert err.count("\n") == 1 and "repeated 3x3x3 (135 atoms)" in err and "g(r) to 6 Å" in err
    assert auto == _json(capsys, "rdf", "cspbbr3-cubic", "--rmax", "6", "--supercell", "3x3x3")[0]
    assert auto == _json(capsys, "rdf", str(by_hand), "--rmax", "6")[0]
    assert auto["r1_A"] == pytest.approx(5.874 / 2, abs=0.03)  # Pb-Br, half the lattice constant

    for name, check in [
        ("cn", lambda r: r["cn"]["Pb-Br"] == 6.0 and r["cn"]["Br-Pb"] == 2.0),  # octahedra sharing corners
        ("adf", lambda r: r["angles_per_atom"] == pytest.approx((15 + 3 * 1) / 5)),  # 15 angles per PbBr6, 1 per Br
    ]:
        result, err = _json(capsys, name, "cspbbr3-cubic")
        assert "repeated 2x2x2 (40 atoms)" in err and "bonds up to 3.2 Å" in err
        assert check(result), result
        extensive = result.pop("counts", None)  # the ADF's raw counts per frame grow with the cell (27/8)
        explicit = _json(capsys, name, str(by_hand))[0]
        assert explicit.pop("counts", None) == (None if extensive is None else [27 * c // 8 for c in extensive])
        assert result == explicit, name
    rings, _ = _json(capsys, "rings", "cspbbr3-cubic", "--max-size", "8")
    by_hand_rings, _ = _json(capsys, "rings", str(by_hand), "--max-size", "8")
    assert rings["rings_per_atom"] == by_hand_rings["rings_per_atom"]
    assert rings["rings_per_atom"]["8"] == pytest.approx(3 / 5)  # the Pb4Br4 squares: 3 faces per Pb


def test_analyze_defaults_work_on_a_bare_unit_cell(capsys, tmp_path):
    """`structures build` a CIF, then every analysis with its defaults: no --supercell, no --rmax."""
    cif = tmp_path / "a.cif"
    assert main(["structures", "build", "ag2se-alpha", "-o", str(cif)]) == 0
    capsys.readouterr()
    rdf, err = _json(capsys, "rdf", str(cif))
    assert "g(r) to 10 Å (the default range)" in err and rdf["r_A"][-1] > 9.9
    assert 2.5 < rdf["first_minimum_A"]["Ag-Se"] < 3.3
    together, _ = _json(capsys, "all", str(cif), "--max-size", "6")
    assert list(together) == ["rdf", "sq", "cn", "adf", "rings", "altbc"] and together["rdf"] == rdf
    auto, err = _json(capsys, "cn", str(cif), "--cutoff", "auto")
    assert "'auto' cutoff's g(r) to 6 Å" in err and auto["cutoff_source"] == "g(r) first minimum"


def test_a_cell_big_enough_is_not_repeated(capsys, fcc):
    result, err = _json(capsys, "rdf", fcc)
    assert "note" not in err and result == _json(capsys, "rdf", fcc, "--supercell", "1x1x1")[0]
    assert result["r_A"][-1] == pytest.approx(0.999 * 0.5 * 14.4, abs=0.05)  # just below half the 14.4 Å cell


def test_shortest_path_pairs_of_the_simple_cubic_lattice():
    """σ of the lattice point (a, b, c) at distance d = |a|+|b|+|c| is the multinomial d!/(|a|!|b|!|c|!)."""
    from itertools import product
    from math import factorial

    from phasefire.workflows.commands.analyze_rings import path_pairs

    indptr = np.array([0, 6])
    shift = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])
    sums, complete = path_pairs(indptr, np.zeros(6, dtype=int), shift, 0, 6)
    expected = np.zeros(7)
    for a, b, c in product(range(-6, 7), repeat=3):
        d = abs(a) + abs(b) + abs(c)
        if d <= 6:
            expected[d] += (factorial(d) // (factorial(abs(a)) * factorial(abs(b)) * factorial(abs(c)))) ** 2
    assert complete and sums.tolist() == expected.tolist()


def test_rings_refuses_a_search_of_days_up_front_and_names_the_size_that_fits(capsys, tmp_path):
    """bcc with 14 neighbours within 3.2 Å: rings up to 20 would take months; refused before the search."""
    from phasefire.workflows.commands import analyze_rings

    path = tmp_path / "fe.extxyz"
    write(path, bulk("Fe", "bcc", a=2.87, cubic=True) * 4)
    code, out, err = run(capsys, "rings", str(path), "--max-size", "20")
    assert code == 1 and out == "" and err.count("\n") == 1, err
    assert "rings up to 20 in this network" in err and "days per frame of 128 atoms" in err and "--force" in err
    suggested = int(err.split("use --max-size ")[1].split()[0])
    frame = bulk("Fe", "bcc", a=2.87, cubic=True) * 4
    estimate = analyze_rings.estimate(frame, np.full((1, 1), 3.2), 20)
    assert estimate.seconds[suggested] <= analyze_rings.REFUSE_ABOVE_S < estimate.seconds[suggested + 1]
    # bcc: the shortest paths multiply about tenfold per two ring sizes
    assert estimate.pairs[12] / estimate.pairs[10] > 8
    assert analyze_rings.check(estimate, 20, force=True) == estimate.seconds[20]  # --force: said, not refused
    assert "rings up to 20" in capsys.readouterr().err
    with analyze_rings.progress(100.0, "rings"):  # stderr is not a terminal: no bar
        pass
    assert capsys.readouterr().err == ""
