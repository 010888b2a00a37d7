"""The alpha-Ag2Se report (Luo et al., Nat. Commun. (2025), doi:10.1038/s41467-025-57057-5):
relaxed cells, dipoles and vortices, Abrahams Ps, transformation strain, QHA thermal expansion,
percolating Ag and Se barriers, each beside the paper's number with the reason they differ.
Written as report.md + PNG figures (temporary names, then ``os.replace``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from phasefire.analysis.dipoles import plot_dipole_map  # noqa: E402
from phasefire.workflows.studies.validation import engine_description  # noqa: E402


def _fmt(value, spec: str = ".3f", missing: str = "n/a") -> str:
    return missing if value is None else format(value, spec)


def _replace(path: Path, write) -> Path:
    temporary = path.with_name(f".tmp-{path.name}")  # keeps the suffix (matplotlib format)
    write(temporary)
    os.replace(temporary, path)
    return path


def write_figures(results: dict[str, Any], out: Path) -> dict[str, str]:
    """Dipole/vortex maps of the cited and relaxed alpha and the QHA expansion curve."""
    names = {}
    for label, result in results["_dipoles"].items():
        if result.get("vortices"):
            name = f"dipoles-{label.replace(' ', '-')}.png"
            _replace(out / name, lambda p, r=result, t=label: plot_dipole_map(r, str(p), f"{t} [100] projection:"))
            names[label] = name
    qha = results["qha"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(qha["temperatures_K"], [1e6 * b / 3 for b in qha["volumetric_expansion_per_K"]])
    left.set(xlabel="T (K)", ylabel="linear alpha (1e-6 / K)", title="alpha-Ag2Se QHA (volumetric / 3)")
    right.plot(qha["temperatures_K"], qha["volume_A3"])
    right.set(xlabel="T (K)", ylabel="V (Å^3 per 12-atom cell)", title="V(T)")
    figure.tight_layout()

    def save(path):
        figure.savefig(path, dpi=120, format="png")

    _replace(out / "qha.png", save)
    plt.close(figure)
    names["qha"] = "qha.png"
    return names


def field_ladder_lines(ladder: dict[str, Any] | None, paper: dict[str, Any]) -> list[str]:
    """The field ladder's section: family changes and rotation, Se displacement, induced P and cell change."""
    if not ladder:
        return ["The field ladder did not run to the end (a rung is missing): see `phasefire status`."]
    lines = [
        "| field | family | \\|d\\| at 0 → at E (pm) | change (pm) | angle change (°) |",
        "|---|---|---|---|---|",
    ]
    for sign, families in ladder["change"].items():
        for family, change in families.items():
            before = ladder["families"]["0"][family]["mean_magnitude_pm"]
            after = ladder["families"][sign][family]["mean_magnitude_pm"]
            lines.append(
                f"| {sign} | {family} | {before:.1f} → {after:.1f} | {change['magnitude_change_pm']:+.2f} | "
                f"{change['rotation_deg']:+.2f} |"
            )
    lines.append(
        f"| paper 0.4 V | along / against | {paper['dipole_up_pm']:.0f} → {paper['dipole_along_field_pm']:.0f} / "
        f"{paper['dipole_down_pm']:.0f} → {paper['dipole_against_field_pm']:.0f} | "
        f"{paper['dipole_along_field_pm'] - paper['dipole_up_pm']:+.0f} / "
        f"{paper['dipole_against_field_pm'] - paper['dipole_down_pm']:+.0f} | against: {paper['rotation_deg']:+.0f} |"
    )
    lines += ["", "| field | E (V/Å) | Se u along E (pm) | Ag u along E (pm) | ΔP along E (µC/cm²) | Δa, Δb, Δc (%) |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for sign, response in ladder["response"].items():
        moves = response["displacements_pm"]
        lines.append(
            f"| {sign} | {response['field_V_per_A']:+g} | "
            f"{moves['Se']['mean_displacement_along_direction_pm']:+.2f} | "
            f"{moves['Ag']['mean_displacement_along_direction_pm']:+.2f} | "
            f"{response['induced_polarization_along_field_uC_cm2']:+.3f} | "
            f"{', '.join(f'{x:+.3f}' for x in response['cell_length_change_percent'])} |"
        )
    source = next(iter(ladder["response"].values()))["born_source"]
    lines += [
        "",
        f"Alpha relaxed (ions and cell, no symmetry, one driver) at 0 and ±E along [011], the paper's voltage "
        f"direction; Born charges: {source}; all rungs converged: {ladder['converged']}. The field is a static "
        "field acting on Born charges, many orders of magnitude stronger than the paper's 0.4 V across its "
        "electrodes, so that a relaxation resolves the response; the response is linear in E, so the changes "
        "scale down with the field. Why they differ: the paper's change is driven by a current (carriers and "
        "Joule heat in a thin sample with preparation strain) and measured on projected STEM columns; a bulk "
        "crystal under a static field only shifts each ion along Z*·E. In the perfect crystal the along and "
        "against families respond with opposite signs of the same size, so the paper's asymmetric 54 → 58 / "
        "68 → 63 pm pattern and the ~10° rotation of only the opposing family are not expected here.",
    ]
    return lines


def neb_settings_line(settings: dict[str, Any]) -> str:
    """How the NEBs were run (the profile's settings; defaults of ``workflows.neb`` where it sets none)."""
    from phasefire.workflows.neb import hop_settings

    neb = hop_settings(settings)
    images = f"{neb.n_images} climbing image" if neb.n_images == 1 and neb.climb else f"{neb.n_images} images"
    return (
        f"Climbing-image NEB, {images}, NEB forces < {neb.fmax_eV_per_A:g} eV/Å; both endpoints relaxed from the "
        f"same {neb.rattle_A:g} Å rattle to {neb.endpoint_fmax_eV_per_A:g} eV/Å (the paper: 0.01 eV/Å); "
        f"symmetry-equivalent endpoints flagged beyond {neb.endpoint_tolerance_eV:g} eV."
    )


def endpoint_cell(check: dict[str, Any] | None) -> str:
    """Endpoint energy difference (eV), marked when symmetry-equivalent endpoints disagree."""
    if check is None:
        return "n/a"
    return f"{check['energy_difference_eV']:+.3f}" + (" FLAGGED" if check["flagged"] else "")


def write_report(results: dict[str, Any], out: Path) -> Path:
    """Write out/report.md, out/results.json and the figures; return the Markdown path."""
    out.mkdir(parents=True, exist_ok=True)
    figures = write_figures(results, out)
    paper = results["paper"]
    lines = [
        "# alpha-Ag2Se electromechanics reproduced",
        "",
        f"Profile `{results['profile']}`, engine `{engine_description(results['engine'])}`; workflow `{results['workflow']}`; wall time "
        f"{results['timings_s']['total_s']:.0f} s ({', '.join(f'{k} {v:.0f}' for k, v in results['timings_s'].items())}).",
        "Paper: Luo et al., Nat. Commun. (2025), doi:10.1038/s41467-025-57057-5.",
        "",
        "## Cells: cited vs relaxed",
        "",
        "| structure | cited a, b, c (Å) | relaxed a, b, c (Å) | V/f.u. cited → relaxed (Å^3) | E (eV/atom) |",
        "|---|---|---|---|---|",
    ]
    for row in results["cells"]:
        lines.append(
            f"| {row['structure']} | {', '.join(f'{x:.3f}' for x in row['cited_abc_A'])} | "
            f"{', '.join(f'{x:.3f}' for x in row['relaxed_abc_A'])} | {row['cited_volume_per_fu_A3']:.2f} → "
            f"{row['relaxed_volume_per_fu_A3']:.2f} | {_fmt(row['relaxed_energy_per_atom_eV'], '.4f')} |"
        )
    lines += [
        "",
        "Cited alpha: Wiegers (1971) coordinates in the paper's cell. Cited beta: bcc Se (Im-3m, a = 4.98 Å, "
        "2x2x2) with Ag on tetrahedral sites, the lowest-energy of 200 seeded arrangements (an ordered "
        "approximant of a disordered phase). The paper's own beta cell (Fm-3m, a = 5.3357 Å, `ag2se-fcc-paper`) "
        "has 36 % less volume per formula unit than alpha and Ag-Se bonds of 2.31 Å; it is not used.",
        "",
        "## Local dipoles at zero field ([100] projection, families along/against [001])",
        "",
        "| structure | mean \\|d\\| (pm) | projected (pm) | along [001]: n, \\|d\\| (pm), angle (°) "
        "| against: n, \\|d\\| (pm), angle (°) | Δz (pm) | Abrahams Ps (µC/cm²) | vortices (acw/cw) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, result in results["dipoles"].items():
        along, against = result["families"]["along"], result["families"]["against"]
        vortices = result["vortices"] or {}
        lines.append(
            f"| {label} | {result['mean_magnitude_pm']:.1f} | {_fmt(result.get('mean_projected_magnitude_pm'), '.1f')} | "
            f"{along['count']}, {_fmt(along['mean_magnitude_pm'], '.1f')}, {_fmt(along['mean_abs_angle_deg'], '.1f')} | "
            f"{against['count']}, {_fmt(against['mean_magnitude_pm'], '.1f')}, "
            f"{_fmt(against['mean_abs_angle_deg'], '.1f')} | {result['delta_z_pm']:.2f} | "
            f"{result['abrahams_Ps_uC_cm2']:.2f} | {vortices.get('anticlockwise_vortices')}/"
            f"{vortices.get('clockwise_vortices')} |"
        )
    lines.append(
        f"| paper (STEM, Fig. 2e) | | | {paper['dipole_up_pm']:.0f} ± 5 | {paper['dipole_down_pm']:.0f} ± 3 | "
        f"{paper['delta_z_pm']:.0f} | {paper['Ps_uC_cm2']} | alternating |"
    )
    lines += [
        "",
        "Why they differ: in the perfect P2_12_12_1 crystal the four Se are symmetry-equivalent, so the "
        "families along and against [001] have the same magnitude and Δz = 0: the antipolar order cancels "
        "exactly. The paper's 54 vs 68 pm asymmetry (Δz = -14 pm) is attributed by the authors to strain from "
        "the STEM sample preparation, which a bulk relaxation does not contain. Abrahams' relation gives "
        "258 × (-0.14 Å) = -36 µC/cm², ten times the paper's 3.6 µC/cm²: the paper's arithmetic is off by "
        "a factor 10 (3.6 µC/cm² would need Δz = 1.4 pm). The angle column is the mean |angle| to [001] in the "
        "(100) plane (the paper's [014] is 14°). The cage is the 4 nearest Ag in 3-D, "
        "whereas the paper measured the centre of the projected Ag columns.",
        "",
    ]
    for label, name in figures.items():
        if label != "qha":
            lines.append(f"![{label}]({name})")
    lines += [
        "",
        "## Dipoles under field (the field ladder)",
        "",
    ]
    lines += field_ladder_lines(results.get("field_ladder"), paper)
    lines += ["", "## alpha → beta transformation strain (Se sublattices)", ""]
    lines += [
        "| cells | strain along alpha [001] | length change of c | principal strains | volume change | "
        "beta vectors for alpha a, b, c (cubic units) |",
        "|---|---|---|---|---|---|",
    ]
    for label, strain in results["strain"].items():
        for kind in ("minimal", "orientation_relation"):
            row = strain[kind]
            if row is None:
                lines.append(
                    f"| {label}, {kind} | none found{(': ' + strain['reason']) if strain.get('reason') else ''} | | | | |"
                )
                continue
            lines.append(
                f"| {label}, {kind.replace('_', ' ')} | {100 * row['strain_along_axis']:+.2f} % | "
                f"{100 * row['length_change_along_axis']:+.2f} % | "
                f"{', '.join(f'{100 * e:+.1f}' for e in row['principal_strains'])} % | "
                f"{100 * row['volume_change']:+.2f} % | {row['beta_directions_cubic']} |"
            )
    lines += [
        f"| paper (Fig. 4e) | ~{100 * paper['transformation_strain']:.1f} % | | | | [100]α ∥ [111]β |",
        "",
        "The minimal-strain correspondence found by search (pymatgen `Lattice.find_all_mappings`, Biot strain "
        "U - I) already has alpha a along beta <111>, i.e. it is the paper's orientation relation; alpha c maps "
        "onto a beta <311>/2 vector. The paper's projected Se-Se 3.97 → 4.15 Å (+4.5 %) is a local STEM "
        "measure of the same elongation.",
        "",
        "## Thermal expansion of alpha (QHA)",
        "",
        f"Linear α(300 K) = {1e6 * results['qha']['linear_expansion_300K_per_K']:.1f} × 10⁻⁶ /K "
        f"(volumetric {1e6 * results['qha']['volumetric_expansion_300K_per_K']:.1f} × 10⁻⁶ /K; "
        f"{results['qha']['method']}; supercell {results['qha']['supercell']}; imaginary mesh modes per volume "
        f"{results['qha']['imaginary_mesh_modes']}).",
        "With it the paper's s = kJ + αΔT separates: the Joule part of the strain is α·ΔT "
        f"(ΔT = 53 K at the transition, Fig. S4: {100 * 53 * results['qha']['linear_expansion_300K_per_K']:.2f} %), "
        "the rest is the current's kJ. The paper gives no α; an orthorhombic crystal's axes expand differently "
        "and the isotropic estimate is the volumetric third.",
        "",
        f"![QHA]({figures['qha']})",
        "",
        "## Vacancy hops and percolating barriers",
        "",
        neb_settings_line(results["neb_settings"]),
        "",
        "| species | hop | supercell | atoms | Ea fwd (eV) | Ea bwd (eV) | migration (eV) | converged | endpoints ΔE (eV) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["hops"]:
        lines.append(
            f"| {row['species']} | {row['hop']} | {row['supercell']} | {row['atoms']} | "
            f"{row['barrier_forward_eV']:.3f} | {row['barrier_backward_eV']:.3f} | "
            f"{_fmt(row['migration_barrier_eV'])} | {'yes' if row['converged'] else 'NO'} | "
            f"{endpoint_cell(row['endpoint_check'])} |"
        )
    percolation = results["percolation"]
    lines += [
        "",
        "| species | percolating barrier (eV) | dimensionality | 1-D / 2-D / 3-D from (eV) |",
        "|---|---|---|---|",
    ]
    for species in ("Ag", "Se"):
        p = percolation[species]
        by = p["barrier_by_dimensionality_eV"]
        lines.append(
            f"| {species} | {_fmt(p['percolating_barrier_eV'])} | {p['dimensionality']} | "
            f"{_fmt(by['1D'])} / {_fmt(by['2D'])} / {_fmt(by['3D'])} |"
        )
    ratio = percolation["ratio_Se_over_Ag"]
    lines += [
        "",
        f"Ratio Se/Ag of the percolating barriers: {_fmt(ratio, '.1f')} (paper, DFT, Fig. S21: ~{paper['barrier_ratio']:.0f}). "
        "The paper does not say which hops it compared; a single short hop can be a closed 1-D chain, so only "
        "barriers at which hops connect through the crystal (pymatgen's Larsen dimensionality of the hop "
        "network) bound long-range migration. MLIP barriers of vacancy hops in a small supercell, not DFT.",
        "",
    ]
    path = out / "report.md"
    _replace(path, lambda p: p.write_text("\n".join(lines)))
    public = {k: v for k, v in results.items() if not k.startswith("_")}
    _replace(out / "results.json", lambda p: p.write_text(json.dumps(public, indent=2, default=str)))
    return path
