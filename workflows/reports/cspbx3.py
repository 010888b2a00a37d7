"""Report of the CsPbX3 NEB -> rectification study: Markdown beside one PNG (profiles, migration
length vs bias, rectification ratio)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

#: Br-vacancy migration barrier in CsPbBr3 from ionic conductivity, J. Mizusaki, K. Arai and
#: K. Fueki, Solid State Ionics 11, 203 (1983) (the perovskite paper's ref. 17), eV
EXPERIMENTAL_BR_BARRIER_EV = 0.25
#: the perovskite paper's measured numbers: halide mobility (cm² V^-1 s^-1) and rectification ratio at ±4 V/µm
PAPER_MOBILITY_CM2_PER_V_S = 1.7e-13
PAPER_RECTIFICATION_RATIO = 20.0


def write_report(summary: dict[str, Any], out: Path) -> Path:
    """Write out/report.md and out/cspbx3.png; return the Markdown path."""
    out.mkdir(parents=True, exist_ok=True)
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.8))
    for species, neb in summary["neb"].items():
        profile = neb["profile"]
        left.plot(profile["reaction_coordinate_A"], profile["energies_eV"], "o-", label=f"{species} vacancy")
    left.axhline(EXPERIMENTAL_BR_BARRIER_EV, ls=":", color="k", label="Br exp. 0.25 eV")
    left.set(xlabel="reaction coordinate (Å)", ylabel="E - E_initial (eV)", title="NEB profiles")
    left.legend(fontsize=8)
    runs = summary["rectification"]
    for key, label in (("neb", "from NEB barriers"), ("paper", "paper parameters")):
        middle.plot(runs[key]["biases_V_per_um"], runs[key]["forward_migration_um"], "o-", label=label)
    middle.set(xlabel="forward bias (V/µm)", ylabel="migration length (µm)", title=f"after {runs['neb']['hours']:g} h")
    middle.legend(fontsize=8)
    labels = ["NEB", "paper set", "experiment"]
    ratios = [runs["neb"]["rectification_ratio"], runs["paper"]["rectification_ratio"], PAPER_RECTIFICATION_RATIO]
    right.bar(labels, ratios, color=["C0", "C1", "0.5"])
    right.set(ylabel="rectification ratio at max bias", title="L_forward / |L_reverse|")
    figure.tight_layout()
    figure.savefig(out / "cspbx3.png", dpi=120)
    plt.close(figure)

    barrier = summary["barriers_eV"]
    lines = [
        f"# CsPbBr3/CsPbCl3 halide-vacancy NEB and ionic rectification ({summary['profile']} profile)",
        "",
        f"Workflow `{summary['workflow']}`, engine {summary['engine']}, T = {summary['temperature_K']} K.",
        "",
        "| quantity | this run (NEB) | paper parameter set | experiment |",
        "|---|---|---|---|",
        f"| Br-vacancy barrier, CsPbBr3 (eV) | {barrier['Br']:.3f} | 0.30 (assumed in the model) | {EXPERIMENTAL_BR_BARRIER_EV} (Mizusaki et al. 1983) |",
        f"| Cl-vacancy barrier, CsPbCl3 (eV) | {barrier['Cl']:.3f} | equal to Br (ratio 1) | - |",
        f"| vacancy diffusivity D_V (µm²/s) | {runs['neb']['vacancy_diffusivity_um2_per_s']:.3g} | {runs['paper']['vacancy_diffusivity_um2_per_s']:.3g} | - |",
        f"| halide mobility (cm² V⁻¹ s⁻¹) | {runs['neb']['mobility_cm2_per_V_s']:.2e} | {runs['paper']['mobility_cm2_per_V_s']:.2e} | {PAPER_MOBILITY_CM2_PER_V_S:.1e} |",
        f"| rectification ratio at ±{runs['neb']['biases_V_per_um'][-1]} V/µm | {runs['neb']['rectification_ratio']:.1f} | {runs['paper']['rectification_ratio']:.1f} | ~{PAPER_RECTIFICATION_RATIO:.0f} |",
        "",
        "Barriers: forward barrier of the shortest (a/√2) halide-vacancy hop in the cubic phase, 2x2x2 supercell "
        "(defect images ≥ 9 Å apart), endpoints relaxed from a rattled start, climbing-image NEB. "
        "Model link: `phasefire.models.rectification.parameters_from_barrier` (D_V = 8 ν exp(-Ea/kT) (a/√2)²/6, ν = 1e13 Hz; "
        "Cl/Br jump ratio exp(-(Ea_Cl - Ea_Br)/kT)).",
        "",
        f"Wall time: NEB workflow {summary['wall_time_s']['neb_workflow']:.0f} s, rectification model "
        f"{summary['wall_time_s']['rectification_model']:.0f} s.",
        "",
        "![profiles, migration length vs bias, rectification ratio](cspbx3.png)",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
