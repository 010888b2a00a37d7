"""The energy profile of a NEB path as a PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from phasefire.analysis.neb import BarrierProfile  # noqa: E402


def draw_profile(axis, profile: BarrierProfile, label: str | None = None, converged: bool = True) -> None:
    """Images as markers joined by lines on ``axis``; the saddle circled; dashed when not converged."""
    (line,) = axis.plot(profile.reaction_coordinate_A, profile.energies_eV, "o-" if converged else "o--", label=label)
    axis.plot(profile.reaction_coordinate_A[profile.saddle_index], profile.energies_eV[profile.saddle_index], "o",
              markersize=12, markerfacecolor="none", color=line.get_color())  # fmt: skip
    axis.set_xlabel("reaction coordinate (Å)")
    axis.set_ylabel("energy relative to initial image (eV)")


def plot_profile(profile: BarrierProfile, path: Path, title: str, converged: bool = True) -> Path:
    """Write the profile with its forward/backward barriers in the title (PNG, 120 dpi)."""
    figure, axis = plt.subplots(figsize=(5, 3.6))
    draw_profile(axis, profile, converged=converged)
    state = "" if converged else " NOT CONVERGED"
    axis.set_title(
        f"{title}\nEa fwd {profile.barrier_forward_eV:.3f} eV, bwd {profile.barrier_backward_eV:.3f} eV{state}",
        fontsize=9,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return Path(path)
