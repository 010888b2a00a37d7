"""The Sb2Se3 report's ELF section: LDA vs HDA (and Pnma) beside the paper's Fig. 5 statement,
from ``studies.sb2se3_elf.elf_comparison``."""

from __future__ import annotations

from typing import Any

from phasefire.workflows.studies.validation import engine_description

#: what each compared quantity is called in the report
QUANTITIES = {
    "mean_midpoint_elf": "mean bond-midpoint ELF",
    "volume_fraction_localized": "volume fraction ELF > 0.7 (localized)",
    "mean_elf": "mean ELF over the cell",
    "pld": "Peierls-like distortion (r_long - r_short)/(r_long + r_short)",
}


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def elf_lines(elf: dict[str, Any] | None) -> list[str]:
    """Markdown lines of the ELF section (heading included) for every status of the ELF part."""
    lines = ["## ELF: low- vs high-density amorphous (paper Fig. 5)", ""]
    if not elf:
        return [*lines, "Not computed for this campaign (stored before the ELF part existed).", ""]
    lines += [f"Paper: {elf['paper']}", ""]
    if elf["status"] == "off":
        return [*lines, "Not computed: the profile's `elf` is false (`--set elf=true` computes it).", ""]
    if elf["status"] == "gpaw missing":
        return [*lines, elf["line"], ""]
    if elf["status"] != "computed":
        return [*lines, "Not computed: the campaign stored no ELF documents (run it to the end).", ""]
    phases, changes = elf["phases"], elf["changes"]
    engine = next(iter(phases.values()))["engine"]
    lines += [
        f"ELF from `{engine_description(engine)}` on the {elf['frames']} "
        f"({elf['n_atoms_amorphous']} atoms"
        + (
            "; it repeats the campaign's MD protocol with short stages because a ~100-atom DFT frame costs ~1 h "
            "on 2 cores); "
            if elf["frames"] == "companion chain"
            else "); "
        )
        + f"ELF part {elf['wall_time_s']:.0f} s of task wall time (companion MD {elf['companion_md_wall_time_s']:.0f} s, "
        f"SCF + ELF {elf['elf_wall_time_s']:.0f} s). Pseudo-valence ELF; bonds shorter than the report's bond "
        "cutoff; the distortion counts bond pairs at > 155° up to 3.6 Å; P static is the ELF engine's pressure "
        "on the MD frame (DFT without dispersion on a volume the MD engine chose).",
        "",
        "| quantity | LDA | HDA | LDA -> HDA | paper |",
        "|---|---|---|---|---|",
    ]
    for key, label in QUANTITIES.items():
        change = changes.get(key)
        if change is None:
            lines.append(f"| {label} | - | - | not available | |")
            continue
        verdict = "drops" if change["drops"] else "does not drop"
        lines.append(
            f"| {label} | {_fmt(change['LDA'])} | {_fmt(change['HDA'])} | {verdict} | "
            f"{'drops (Fig. 5)' if key != 'mean_elf' else ''} |"
        )
    lines += [
        "",
        "| frame | P target (GPa) | P static (GPa) | V (Å³/atom) | atoms | grid | mean ELF | midpoint ELF "
        "| midpoint by pair | ELF > 0.7 | 0.4-0.6 | PLD |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in ("LDA", "HDA", "Pnma"):
        if phase not in phases:
            continue
        p = phases[phase]
        pairs = ", ".join(f"{pair} {value:.2f}" for pair, value in p["midpoint_elf_by_pair"].items())
        lines.append(
            f"| {phase} | {p['pressure_GPa']:g} | {_fmt(p['static_pressure_GPa'], 1)} | {p['volume_per_atom_A3']:.2f} "
            f"| {p['n_atoms']} | {'x'.join(map(str, p['grid']))} | {_fmt(p['mean_elf'])} | {_fmt(p['mean_midpoint_elf'])} "
            f"| {pairs or '-'} | {_fmt(p['volume_fraction_localized'])} | {_fmt(p['volume_fraction_electron_gas'])} "
            f"| {_fmt(p['pld'])} |"
        )
    return [*lines, ""]
