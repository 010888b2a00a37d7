"""Amorphous Sb2Se3 under pressure: per-stage structure analysis, the comparison with the paper
(Zhang et al., PRL 127, 127002 (2021), Figs. 2–4) and the report (Markdown + PNG figures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from ase.io import Trajectory  # noqa: E402

from phasefire.analysis.angles import bond_angle_distribution  # noqa: E402
from phasefire.analysis.coordination import coordination_numbers  # noqa: E402
from phasefire.analysis.eos import birch_murnaghan_pressure, density_crossover, fit_birch_murnaghan  # noqa: E402
from phasefire.analysis.neighbors import shortest_cell_height  # noqa: E402
from phasefire.analysis.rdf import first_peak, radial_distribution  # noqa: E402
from phasefire.analysis.rings import ring_statistics  # noqa: E402
from phasefire.analysis.structure_factor import xray_structure_factor  # noqa: E402
from phasefire.workflows.errors import PhasefireError  # noqa: E402
from phasefire.workflows.reports.sb2se3_elf import elf_lines  # noqa: E402
from phasefire.workflows.studies.validation import engine_choice_note, engine_description  # noqa: E402

#: the paper's simulated/measured landmarks (GPa)
PAPER = {
    "density_crossover_GPa": 16.0,  # Fig. 4a: a-Sb2Se3 denser than Pnma above ~16 GPa
    "angle_60_onset_GPa": 16.0,  # Fig. 3b: 60° bond angles appear from 16 GPa
    "three_rings_dominant_GPa": 20.0,  # Fig. 3d: 6-8 rings give way to 3-rings at 20 GPa
    "r1_maximum_GPa": 20.0,  # Fig. 3a (simulation; 15.7 GPa in the experiment, Fig. 2d)
}

#: the experiment's S(q) principal peak: slopes dq1/dP (Å⁻¹/GPa) below and above 15.7 GPa (paper, Fig. 2)
PAPER_Q1_SLOPES = {"below_inv_A_per_GPa": 0.021, "above_inv_A_per_GPa": 0.0048, "break_GPa": 15.7}

#: frames of each stage used for ring statistics (the most expensive analysis)
RING_FRAMES = 5


def stage_frames(document: dict[str, Any]) -> list:
    """The sampled frames (after equilibration) of an MD stage's trajectory."""
    path = Path(document["run_dir"], document["files"]["trajectory"])
    with Trajectory(str(path)) as trajectory:
        return [trajectory[k] for k in range(document["output"]["sample_start_frame"], len(trajectory))]


def xray_weighted_gr(rdf) -> np.ndarray:
    """g(r) weighted as X-rays see it at q -> 0: sum over ordered pairs c_a c_b Z_a Z_b g_ab / (sum c_a Z_a)^2
    (Faber–Ziman with f_a(0) = Z_a); equals the number-weighted total g(r) for a single species."""
    from ase.data import atomic_numbers

    c, z = rdf.concentrations, {s: atomic_numbers[s] for s in rdf.species}
    norm = sum(c[s] * z[s] for s in rdf.species) ** 2
    total = np.zeros_like(rdf.r)
    for key, g in rdf.partial.items():
        a, b = key.split("-")
        total += (1 if a == b else 2) * c[a] * c[b] * z[a] * z[b] * g
    return total / norm


def q1_slopes(stages: list[dict[str, Any]], break_GPa: float = PAPER_Q1_SLOPES["break_GPa"]) -> dict[str, Any]:
    """Least-squares slopes dq1/dP (Å⁻¹/GPa) of the S(q) principal peak below and above ``break_GPa``
    (each needs two ladder points; None otherwise) with their standard errors from the scatter about
    each line (three points or more), beside the paper's."""
    from scipy.stats import linregress

    points = [(s["target_pressure_GPa"], s["q1_inv_A"]) for s in stages if s.get("q1_inv_A") is not None]
    slopes = {}
    for name, chosen in (
        ("below", [p for p in points if p[0] <= break_GPa]),
        ("above", [p for p in points if p[0] >= break_GPa]),
    ):
        fit = linregress(*np.array(chosen).T) if len(chosen) >= 2 else None
        slopes[f"{name}_inv_A_per_GPa"] = None if fit is None else float(fit.slope)
        slopes[f"{name}_error_inv_A_per_GPa"] = float(fit.stderr) if fit is not None and len(chosen) >= 3 else None
    return {**slopes, "break_GPa": break_GPa, "paper": PAPER_Q1_SLOPES}


def analyse_stage(document: dict[str, Any], bond_cutoff_A: float, ring_max_size: int) -> dict[str, Any]:
    """g(r) and r1, ADF and its weight near 60°, coordination numbers and ring fractions of one
    compression stage; bonds are pairs closer than ``bond_cutoff_A`` (Å)."""
    frames = stage_frames(document)
    r_max = min(8.0, 0.5 * min(shortest_cell_height(a.cell.array) for a in frames) - 0.01)
    rdf = radial_distribution(frames, r_max=r_max, bins=int(r_max / 0.04))
    adf = bond_angle_distribution(frames, cutoff=bond_cutoff_A, bins=90)
    cn = coordination_numbers(frames, cutoff=bond_cutoff_A)
    xray_peak = first_peak(rdf.r, xray_weighted_gr(rdf))
    structure_factor = xray_structure_factor(rdf)
    ring_frames = frames[:: max(1, len(frames) // RING_FRAMES)][:RING_FRAMES]
    rings = ring_statistics(ring_frames, cutoff=bond_cutoff_A, max_size=ring_max_size)
    extra = document["output"]
    return {
        **volume_settling(frames),
        "target_pressure_GPa": document["input"]["settings"]["pressure_GPa"],
        "pressure_GPa": extra["mean_pressure_GPa"],
        "pressure_std_GPa": extra["std_pressure_GPa"],
        "temperature_K": extra["mean_temperature_K"],
        "volume_per_atom_A3": extra["mean_volume_per_atom_A3"],
        "density_g_cm3": extra["mean_density_g_cm3"],
        "n_frames": len(frames),
        "r1_A": rdf.first_peak.r1,
        "r1_error_A": rdf.first_peak.r1_error,
        "r1_xray_A": xray_peak.r1,
        "r1_xray_error_A": xray_peak.r1_error,
        "q1_inv_A": structure_factor.q1,
        "g_r": {"r_A": rdf.r.tolist(), "g": rdf.total.tolist()},
        "weight_near_60": adf.weight_near_60,
        "adf": {"angle_deg": adf.angle.tolist(), "density_per_deg": adf.total.tolist()},
        "cn_by_species": cn.by_species,
        "cn_mean": cn.mean,
        "ring_fraction": {str(k): v for k, v in rings.fraction.items()},
        "rings_per_atom": {str(k): v for k, v in rings.rings_per_atom.items()},
        "md_steps_per_s": extra.get("md_steps_per_s"),
    }


def volume_settling(frames: list) -> dict[str, float | None]:
    """Barostat settling over the sampled frames: the relative change (%) of the mean volume from the
    first to the second half of the sampling window, and the volume's standard deviation (% of its
    mean) for scale; None with fewer than 2 frames."""
    volumes = np.array([a.get_volume() for a in frames])
    if len(volumes) < 2:
        return {"volume_drift_percent": None, "volume_std_percent": None}
    half = len(volumes) // 2
    drift = (volumes[len(volumes) - half :].mean() - volumes[:half].mean()) / volumes.mean()
    return {
        "volume_drift_percent": float(100 * drift),
        "volume_std_percent": float(100 * volumes.std() / volumes.mean()),
    }


def analyse_crystal_stage(document: dict[str, Any]) -> dict[str, Any]:
    """A Pnma NPT MD stage (``metadata.phase == 'pnma'``): means over its sampled frames and their settling."""
    extra = document["output"]
    return {
        "target_pressure_GPa": document["input"]["settings"]["pressure_GPa"],
        "target_temperature_K": document["input"]["settings"]["temperature_K"],
        "pressure_GPa": extra["mean_pressure_GPa"],
        "pressure_std_GPa": extra["std_pressure_GPa"],
        "temperature_K": extra["mean_temperature_K"],
        "volume_per_atom_A3": extra["mean_volume_per_atom_A3"],
        "density_g_cm3": extra["mean_density_g_cm3"],
        "n_atoms": document["nsites"],
        "supercell": document["input"]["metadata"].get("supercell"),
        **volume_settling(stage_frames(document)),
    }


def settling_summary(
    stages: list[dict[str, Any]], crystal_300K: list[dict[str, Any]], profile: dict[str, Any]
) -> dict[str, Any]:
    """The equilibration each pressure had in barostat times (the profile's ``barostat_time_fs``, else
    md.BAROSTAT_TIME_FS) and the stages whose mean volume still moved by more than
    ``volume_drift_tolerance_percent`` between the halves of sampling."""
    from phasefire.workflows.calculations.md import BAROSTAT_TIME_FS

    barostat_time_fs = float(profile.get("barostat_time_fs", BAROSTAT_TIME_FS))
    tolerance = float(profile.get("volume_drift_tolerance_percent", 1.0))
    timestep = float(profile["timestep_fs"])

    def unsettled(points: list[dict[str, Any]], phase: str) -> list[str]:
        return [f"{phase} {p['target_pressure_GPa']:g} GPa ({p['volume_drift_percent']:+.2f} %)" for p in points
                if p.get("volume_drift_percent") is not None and abs(p["volume_drift_percent"]) > tolerance]  # fmt: skip

    def times(key: str) -> float | None:
        return None if key not in profile else int(profile[key]) * timestep / barostat_time_fs

    return {
        "barostat_time_fs": barostat_time_fs,
        "amorphous_equilibration_barostat_times": times("equilibration_steps"),
        "amorphous_sampling_barostat_times": times("sample_steps"),
        "crystal_equilibration_barostat_times": times("crystal_md_equilibration_steps"),
        "crystal_sampling_barostat_times": times("crystal_md_sample_steps"),
        "tolerance_percent": tolerance,
        "unsettled": unsettled(stages, "amorphous") + unsettled(crystal_300K, "Pnma MD"),
    }


def two_branch_fit(
    pressures_GPa, volumes, fallback_break_GPa: float = PAPER["density_crossover_GPa"], min_points: int = 3
) -> dict[str, Any] | None:
    """Separate straight-line fits V = a + b P of the low- and high-pressure (LDA/HDA) branches.

    Every split of the pressure-ordered points into a low and a high set of at least ``min_points``
    each is tried; the data decide when the split with the least total squared residual leaves at most
    a quarter of the one-line residual (a real change of slope), and the break is then where the two
    lines meet (kept between the two sets' neighbouring points). Otherwise (a straight or noisy
    series) the split is at ``fallback_break_GPa`` (the paper's ~16 GPa). None with too few points."""
    order = np.argsort(pressures_GPa)
    p, v = np.asarray(pressures_GPa, dtype=float)[order], np.asarray(volumes, dtype=float)[order]
    if len(p) < 2 * min_points:
        return None

    def line(x, y) -> tuple[np.ndarray, float]:
        coefficients = np.polyfit(x, y, 1)
        return coefficients, float(np.sum((np.polyval(coefficients, x) - y) ** 2))

    _, one_line = line(p, v)
    splits = [(line(p[:k], v[:k]), line(p[k:], v[k:]), k) for k in range(min_points, len(p) - min_points + 1)]
    (low, low_ssr), (high, high_ssr), k = min(splits, key=lambda s: s[0][1] + s[1][1])
    decided = low_ssr + high_ssr <= 0.25 * one_line
    if decided:
        meet = (high[1] - low[1]) / (low[0] - high[0]) if low[0] != high[0] else 0.5 * (p[k - 1] + p[k])
        break_GPa = float(np.clip(meet, p[k - 1], p[k]))
        how = f"least two-line residual ({low_ssr + high_ssr:.3g} vs {one_line:.3g} A^6 for one line)"
    else:
        break_GPa = float(fallback_break_GPa)
        low_set, high_set = p <= break_GPa, p >= break_GPa
        if low_set.sum() < 2 or high_set.sum() < 2:
            return None
        (low, low_ssr), (high, high_ssr) = line(p[low_set], v[low_set]), line(p[high_set], v[high_set])
        how = f"the paper's {break_GPa:g} GPa (two lines do not beat one by 4x: {low_ssr + high_ssr:.3g} vs {one_line:.3g})"

    def branch(coefficients, ssr: float, chosen) -> dict[str, Any]:
        return {"slope_A3_per_GPa": float(coefficients[0]), "intercept_A3": float(coefficients[1]),
                "rms_residual_A3": float(np.sqrt(ssr / chosen.sum())),
                "pressure_range_GPa": [float(p[chosen].min()), float(p[chosen].max())], "n_points": int(chosen.sum())}  # fmt: skip

    low_set = np.arange(len(p)) < k if decided else p <= break_GPa
    high_set = ~low_set if decided else p >= break_GPa
    return {"break_GPa": break_GPa, "data_decide": bool(decided), "how": how,
            "low": branch(low, low_ssr, low_set), "high": branch(high, high_ssr, high_set)}  # fmt: skip


def branch_volume(branches: dict[str, Any], pressure_GPa: float) -> float:
    """V (Å³/atom) of the two-branch amorphous fit: the low line below the break, the high one above."""
    fit = branches["low"] if pressure_GPa < branches["break_GPa"] else branches["high"]
    return fit["intercept_A3"] + fit["slope_A3_per_GPa"] * pressure_GPa


def crystal_curve(crystal: list[dict[str, Any]]) -> tuple[Any, str, tuple[float, float]] | None:
    """(V(P) callable, how, pressure range) of a crystal series: its Birch–Murnaghan fit, else linear
    interpolation; pressures are the measured means when the points have them (MD), else the targets."""
    if len(crystal) < 2:
        return None
    pressures = np.array([c["pressure_GPa"] for c in crystal])
    volumes = np.array([c["volume_per_atom_A3"] for c in crystal])
    order = np.argsort(pressures)
    span = (float(pressures.min()), float(pressures.max()))
    try:
        fit = fit_birch_murnaghan(pressures, volumes)
        return fit.volume, "Birch-Murnaghan fit", span
    except PhasefireError:
        return (lambda q: float(np.interp(q, pressures[order], volumes[order]))), "linear interpolation", span


def branch_crossing(branches: dict[str, Any] | None, crystal: list[dict[str, Any]], samples: int = 600) -> float | None:
    """First pressure (GPa) where the two-branch amorphous V(P) falls to the crystal curve, within the
    range both cover; None if it does not."""
    curve = crystal_curve(crystal)
    if branches is None or curve is None:
        return None
    volume, _, (low, high) = curve
    low, high = max(low, branches["low"]["pressure_range_GPa"][0]), min(high, branches["high"]["pressure_range_GPa"][1])
    if not high > low:
        return None
    try:
        grid = np.linspace(low, high, samples)
        difference = np.array([branch_volume(branches, q) - volume(q) for q in grid])
    except PhasefireError:
        return None
    change = np.flatnonzero((difference[:-1] > 0) & (difference[1:] <= 0))
    if not change.size:
        return None
    k = int(change[0])  # linear between grid points (the branch fit has a step at the break)
    return float(grid[k] + (grid[k + 1] - grid[k]) * difference[k] / (difference[k] - difference[k + 1]))


def volume_differences(
    stages: list[dict[str, Any]], crystal: list[dict[str, float]]
) -> list[tuple[float, float, float]]:
    """(ladder pressure, V_am - V_Pnma, V_Pnma) in GPa and Å³/atom at the ladder pressures both have (the
    crystal's target pressures: ``target_pressure_GPa`` for MD points, ``pressure_GPa`` for relaxations)."""
    crystal_volume = {c.get("target_pressure_GPa", c["pressure_GPa"]): c["volume_per_atom_A3"] for c in crystal}
    return [(s["target_pressure_GPa"], s["volume_per_atom_A3"] - crystal_volume[s["target_pressure_GPa"]],
             crystal_volume[s["target_pressure_GPa"]]) for s in stages if s["target_pressure_GPa"] in crystal_volume]  # fmt: skip


def linear_crossover(stages: list[dict[str, Any]], crystal: list[dict[str, float]]) -> float | None:
    """First pressure (GPa) where V_am - V_Pnma changes sign, interpolated linearly between the
    ladder pressures both have; None if it keeps one sign."""
    pairs = [(p, d) for p, d, _ in volume_differences(stages, crystal)]
    for (p0, d0), (p1, d1) in zip(pairs, pairs[1:]):
        if d0 > 0 >= d1:
            return float(p0 + (p1 - p0) * d0 / (d0 - d1))
    return None


def closest_approach(stages: list[dict[str, Any]], crystal: list[dict[str, float]]) -> dict[str, float] | None:
    """The ladder pressure (GPa) where the amorphous volume comes nearest the crystal's, with
    100 (V_am - V_Pnma) / V_Pnma there (%): how near a crossover that was not found came."""
    differences = volume_differences(stages, crystal)
    if not differences:
        return None
    pressure, difference, volume = min(differences, key=lambda item: abs(item[1] / item[2]))
    return {"pressure_GPa": float(pressure), "volume_difference_percent": float(100 * difference / volume)}


def crystal_reference(crystal_md: list[dict[str, Any]] | None) -> str:
    """How a crystal series was made, for every number computed against it."""
    if not crystal_md:
        return "Pnma relaxed at 0 K"
    return f"Pnma NPT MD at {crystal_md[0].get('target_temperature_K', 300):g} K"


def crossover_against(stages: list[dict[str, Any]], crystal: list[dict[str, Any]], reference: str, eos: dict,
                      key: str) -> dict[str, Any]:  # fmt: skip
    """The density crossover against one crystal series (Birch–Murnaghan fits, else linear between
    ladder points), naming the reference; the crystal's fit goes into ``eos[key]``."""
    try:
        amorphous = fit_birch_murnaghan([s["pressure_GPa"] for s in stages], [s["volume_per_atom_A3"] for s in stages])
        solid = fit_birch_murnaghan([c["pressure_GPa"] for c in crystal], [c["volume_per_atom_A3"] for c in crystal])
        value = density_crossover(amorphous, solid)
        eos.update({"amorphous": amorphous.to_dict(), key: solid.to_dict()})
        how = "V_am(P) = V_Pnma(P) on Birch-Murnaghan fits"
    except (ValueError, PhasefireError) as exc:
        value = linear_crossover(stages, crystal)
        how = f"linear interpolation of V_am - V_Pnma between ladder points (Birch-Murnaghan route: {exc})"
    return {"value": value, "reference": reference, "how": f"against {reference}: {how}",
            "closest_approach": closest_approach(stages, crystal)}  # fmt: skip


def compare_with_paper(
    stages: list[dict[str, Any]], crystal: list[dict[str, float]], crystal_md: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The paper's four landmarks from the computed ladder; each with value (GPa or None) and how it was found.

    The density crossover is taken against the crystal simulated at the ladder's temperature
    (``crystal_md``, NPT MD: the paper's crossover is against room-temperature experimental data),
    with the one against the 0 K relaxations (``crystal``) beside it; without ``crystal_md`` (older
    campaigns) the 0 K one is the headline. ``amorphous_branches``: separate LDA/HDA line fits of
    V(P) (``two_branch_fit``) and where they cross each crystal curve."""
    pressures = np.array([s["target_pressure_GPa"] for s in stages])
    results: dict[str, Any] = {}

    eos: dict[str, Any] = {}
    zero_K = crossover_against(stages, crystal, crystal_reference(None), eos, "crystal")
    if crystal_md:
        results["density_crossover_GPa"] = crossover_against(stages, crystal_md, crystal_reference(crystal_md), eos,
                                                             "crystal_md")  # fmt: skip
    else:
        results["density_crossover_GPa"] = {**zero_K, "how": zero_K["how"] + " (no crystal MD in this campaign)"}
    results["density_crossover_crystal_0K_GPa"] = zero_K
    if eos:
        results["eos"] = eos
    branches = two_branch_fit([s["pressure_GPa"] for s in stages], [s["volume_per_atom_A3"] for s in stages])
    if branches is not None:
        branches["crossing_crystal_md_GPa"] = branch_crossing(branches, crystal_md or [])
        branches["crossing_crystal_0K_GPa"] = branch_crossing(branches, crystal)
    results["amorphous_branches"] = branches
    headline = crystal_reference(crystal_md)
    results["density_crossover_branches_GPa"] = {
        "value": None if branches is None else branches[f"crossing_crystal_{'md' if crystal_md else '0K'}_GPa"],
        "reference": headline,
        "how": "fewer than 6 ladder points: no branch fits" if branches is None else
        f"against {headline}: LDA/HDA line fits of V(P) split at {branches['break_GPa']:.1f} GPa ({branches['how']}) "
        f"vs the crystal's {crystal_curve(crystal_md or crystal)[1]}",
    }  # fmt: skip

    weight = np.array([s["weight_near_60"] for s in stages])
    half_rise = weight[0] + 0.5 * (weight.max() - weight[0])
    onset = pressures[np.argmax(weight >= half_rise)] if weight.max() > weight[0] else None
    results["angle_60_onset_GPa"] = {
        "value": None if onset is None else float(onset),
        "how": f"first pressure where the 50-70° weight passes half its rise ({weight[0]:.3f} at 0 GPa -> {weight.max():.3f})",
    }

    dominant = [max(s["ring_fraction"], key=s["ring_fraction"].get) for s in stages]
    three = [p for p, d in zip(pressures, dominant) if d == "3"]
    results["three_rings_dominant_GPa"] = {
        "value": float(three[0]) if three else None,
        "how": "first pressure where 3-rings are the most common ring size; most common per pressure: "
        + ", ".join(f"{p:g}:{d}" for p, d in zip(pressures, dominant)),
    }

    r1 = np.array([s["r1_A"] for s in stages])
    error = np.nan_to_num(np.array([s["r1_error_A"] for s in stages]), nan=0.0)
    peak = int(np.nanargmax(r1))
    expands = r1[peak] - r1[0] > error[peak] + error[0]
    contracts = r1[peak] - r1[-1] > error[peak] + error[-1]
    results["r1_maximum_GPa"] = {
        "value": float(pressures[peak]),
        "how": f"r1 {r1[0]:.3f} Å at 0 GPa, max {r1[peak]:.3f} Å, {r1[-1]:.3f} Å at {pressures[-1]:g} GPa: "
        + (
            "expands then contracts"
            if expands and contracts
            else "expands"
            if expands
            else "contracts"
            if contracts
            else "flat within errors"
        ),
    }
    results["q1_slopes"] = q1_slopes(stages)
    return results


def _pressure_colors(n: int):
    return plt.cm.viridis(np.linspace(0.0, 0.9, n))


def plot_figures(
    stages: list[dict[str, Any]],
    crystal: list[dict[str, float]],
    comparison: dict[str, Any],
    out: Path,
    crystal_md: list[dict[str, Any]] | None = None,
) -> list[str]:
    """Figs. 3a–d and 4a in spirit: g(r), ADF (60° marked), CN, ring fractions and V(P); PNG names."""
    colors = _pressure_colors(len(stages))
    names = []

    figure, axis = plt.subplots(figsize=(5, 6))
    for k, (stage, color) in enumerate(zip(stages, colors)):
        axis.plot(stage["g_r"]["r_A"], np.asarray(stage["g_r"]["g"]) + 1.5 * k, color=color)
        axis.text(
            stage["g_r"]["r_A"][-1], 1.5 * k + 1.1, f"{stage['target_pressure_GPa']:g} GPa", ha="right", fontsize=7
        )
    axis.set(xlabel="r (Å)", ylabel="g(r) + offset", title="a-Sb2Se3 g(r) vs pressure")
    names.append(_save(figure, out / "gr_vs_pressure.png"))

    figure, axis = plt.subplots(figsize=(5, 6))
    for k, (stage, color) in enumerate(zip(stages, colors)):
        axis.plot(stage["adf"]["angle_deg"], np.asarray(stage["adf"]["density_per_deg"]) + 0.02 * k, color=color)
        axis.text(178, 0.02 * k + 0.004, f"{stage['target_pressure_GPa']:g} GPa", ha="right", fontsize=7)
    axis.axvline(60, color="red", linestyle="--", label="60°")
    axis.set(xlabel="bond angle (°)", ylabel="ADF (1/°) + offset", title="bond-angle distribution vs pressure")
    axis.legend(loc="upper left")
    names.append(_save(figure, out / "adf_vs_pressure.png"))

    pressures = [s["target_pressure_GPa"] for s in stages]
    figure, axis = plt.subplots(figsize=(5, 3.6))
    for species in stages[0]["cn_by_species"]:
        axis.plot(pressures, [s["cn_by_species"][species] for s in stages], "o-", label=f"around {species}")
    axis.plot(pressures, [s["cn_mean"] for s in stages], "k.--", label="mean")
    axis.set(xlabel="pressure (GPa)", ylabel="coordination number", title="CN vs pressure")
    axis.legend()
    names.append(_save(figure, out / "cn_vs_pressure.png"))

    figure, axis = plt.subplots(figsize=(5, 3.6))
    for size in stages[0]["ring_fraction"]:
        axis.plot(pressures, [s["ring_fraction"][size] for s in stages], "o-", label=f"{size}-rings")
    axis.set(xlabel="pressure (GPa)", ylabel="fraction of rings", title="ring-size distribution vs pressure")
    axis.legend(fontsize=7, ncol=2)
    names.append(_save(figure, out / "rings_vs_pressure.png"))

    figure, axis = plt.subplots(figsize=(5, 3.6))
    axis.errorbar([s["pressure_GPa"] for s in stages], [s["volume_per_atom_A3"] for s in stages],
                  xerr=[s["pressure_std_GPa"] for s in stages], fmt="o", label="amorphous (NPT mean)")  # fmt: skip
    axis.plot(
        [c["pressure_GPa"] for c in crystal], [c["volume_per_atom_A3"] for c in crystal], "s", label="Pnma (relaxed)"
    )
    if crystal_md:
        axis.errorbar([c["pressure_GPa"] for c in crystal_md], [c["volume_per_atom_A3"] for c in crystal_md],
                      xerr=[c["pressure_std_GPa"] for c in crystal_md], fmt="D", color="C2",
                      label=crystal_reference(crystal_md))  # fmt: skip
    branches = comparison.get("amorphous_branches")
    if branches:
        for side, style in (("low", "C0--"), ("high", "C0-.")):
            fit = branches[side]
            span = np.array(fit["pressure_range_GPa"])
            axis.plot(span, fit["intercept_A3"] + fit["slope_A3_per_GPa"] * span, style, linewidth=1,
                      label=f"{'LDA' if side == 'low' else 'HDA'} line fit")  # fmt: skip
    for key, style, points in (("amorphous", "C0-", stages), ("crystal", "C1-", crystal),
                               ("crystal_md", "C2-", crystal_md or [])):  # fmt: skip
        fit = comparison.get("eos", {}).get(key)
        if fit:  # the fitted P(V) drawn over the volumes the data span
            volumes = np.linspace(
                min(q["volume_per_atom_A3"] for q in points), max(q["volume_per_atom_A3"] for q in points), 100
            )
            axis.plot(
                birch_murnaghan_pressure(volumes, fit["V0_per_atom_A3"], fit["B0_GPa"], fit["B0_prime"]),
                volumes,
                style,
                linewidth=1,
            )
    crossover = comparison["density_crossover_GPa"]["value"]
    if crossover is not None:
        axis.axvline(crossover, color="gray", linestyle=":", label=f"crossover {crossover:.1f} GPa "
                     f"({comparison['density_crossover_GPa'].get('reference', 'Pnma relaxed at 0 K')})")  # fmt: skip
    axis.set(xlabel="pressure (GPa)", ylabel="volume (Å³/atom)", title="V(P): amorphous vs Pnma")
    axis.legend(fontsize=7)
    names.append(_save(figure, out / "volume_vs_pressure.png"))
    return names


def _save(figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path.name


def landmark_text(entry: dict[str, Any]) -> str:
    """A landmark's value (GPa), or 'not found' with a crossover's closest approach where it has one."""
    if entry["value"] is not None:
        return f"{entry['value']:.1f}"
    closest = entry.get("closest_approach")
    if not closest:
        return "not found"
    return f"not found (closest: V_am {closest['volume_difference_percent']:+.2f} % at {closest['pressure_GPa']:g} GPa)"


def comparison_rows(comparison: dict[str, Any]) -> list[list[str]]:
    """[quantity, paper, this run, how] rows for the report and the terminal."""
    labels = {
        "density_crossover_GPa": "density crossover a-Sb2Se3 / Pnma (GPa)",
        "density_crossover_branches_GPa": "density crossover, LDA/HDA branch fits (GPa)",
        "density_crossover_crystal_0K_GPa": "density crossover (for reference) (GPa)",
        "angle_60_onset_GPa": "onset of 60° bond angles (GPa)",
        "three_rings_dominant_GPa": "3-rings dominant from (GPa)",
        "r1_maximum_GPa": "r1 largest at (GPa)",
    }
    rows = []
    for key, label in labels.items():
        if key not in comparison:  # results stored before the crystal MD and the branch fits
            continue
        if comparison[key].get("reference"):  # every crossover names the crystal it is measured against
            label = label.replace(" (GPa)", f" vs {comparison[key]['reference']} (GPa)")
        paper = PAPER.get(key, PAPER["density_crossover_GPa"])
        rows.append([label, f"~{paper:g}", landmark_text(comparison[key]), comparison[key]["how"]])
    return rows


def q1_lines(slopes: dict[str, Any] | None, stages: list[dict[str, Any]]) -> list[str]:
    """Report lines: dq1/dP below/above the break beside the paper, and q1, r1 (number) and r1 (X-ray) per pressure."""
    if not slopes or not any(s.get("q1_inv_A") is not None for s in stages):
        return ["Not computed for this campaign (stored before S(q) was analysed).", ""]

    def fmt(value):
        return "-" if value is None else f"{value:.4f}"

    def slope(name: str) -> str:
        error = slopes.get(f"{name}_error_inv_A_per_GPa")  # absent from results stored before it was computed
        return fmt(slopes[f"{name}_inv_A_per_GPa"]) + ("" if error is None else f" ± {error:.4f}")

    paper = slopes["paper"]
    return [
        f"dq1/dP below {slopes['break_GPa']:g} GPa: {slope('below')} Å⁻¹/GPa (paper ~{paper['below_inv_A_per_GPa']}); "
        f"above: {slope('above')} Å⁻¹/GPa (paper ~{paper['above_inv_A_per_GPa']}); "
        "q1 from the Faber–Ziman X-ray S(q) (Lorch window) of each stage's partial g(r); ± the slope's standard "
        "error from the scatter of q1 about each line.",
        "",
        "| P target (GPa) | q1 (Å⁻¹) | r1 number-weighted (Å) | r1 X-ray-weighted (Å) |",
        "|---|---|---|---|",
        *(
            f"| {s['target_pressure_GPa']:g} | {fmt(s.get('q1_inv_A'))} | {s['r1_A']:.3f} | "
            f"{fmt(s.get('r1_xray_A'))} |"
            for s in stages
        ),  # fmt: skip
        "",
    ]


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def crossover_lines(comparison: dict[str, Any], crystal_md: list[dict[str, Any]]) -> list[str]:
    """Report section: the crossover against each crystal reference, the LDA/HDA branch fits and the
    Pnma MD ladder."""
    lines = ["## Density crossover: crystal references and LDA/HDA branches", ""]
    for key in ("density_crossover_GPa", "density_crossover_crystal_0K_GPa", "density_crossover_branches_GPa"):
        if key in comparison:
            entry = comparison[key]
            value = landmark_text(entry)
            lines.append(
                f"- {value}{' GPa' if entry['value'] is not None else ''} {entry['how']}"
            )  # how: the reference
    lines.append("- paper: ~16 GPa against room-temperature experimental Pnma data (its ref. 38, Fig. 4a).")
    branches = comparison.get("amorphous_branches")
    if branches:
        lines += [
            "",
            f"Amorphous V(P) fitted as two straight lines split at {branches['break_GPa']:.1f} GPa "
            f"({'chosen by the data' if branches['data_decide'] else 'the paper break; the data do not decide'}: "
            f"{branches['how']}):",
            "",
            "| branch | P range (GPa) | points | dV/dP (Å³/atom/GPa) | V at 0 GPa (Å³/atom) | rms residual (Å³/atom) |",
            "|---|---|---|---|---|---|",
            *(f"| {name} | {b['pressure_range_GPa'][0]:.1f}–{b['pressure_range_GPa'][1]:.1f} | {b['n_points']} | "
              f"{b['slope_A3_per_GPa']:.3f} | {b['intercept_A3']:.2f} | {b['rms_residual_A3']:.3f} |"
              for name, b in (("LDA (low P)", branches["low"]), ("HDA (high P)", branches["high"]))),
            "",
            f"Branch fits cross {crystal_reference(crystal_md)} at {_fmt(branches.get('crossing_crystal_md_GPa'), '.1f')} GPa"
            f" and Pnma relaxed at 0 K at {_fmt(branches.get('crossing_crystal_0K_GPa'), '.1f')} GPa.",
        ]  # fmt: skip
    if crystal_md:
        lines += [
            "",
            f"{crystal_reference(crystal_md)} ({crystal_md[0]['n_atoms']} atoms, supercell "
            f"{'x'.join(map(str, crystal_md[0].get('supercell') or []))} of the 20-atom cell; same md type, thermostat "
            "and barostat as the amorphous ladder):",
            "",
            "| P target (GPa) | <P> (GPa) | <T> (K) | V (Å³/atom) | ρ (g/cm³) |",
            "|---|---|---|---|---|",
            *(f"| {c['target_pressure_GPa']:g} | {c['pressure_GPa']:.1f} ± {c['pressure_std_GPa']:.1f} | "
              f"{c['temperature_K']:.0f} | {c['volume_per_atom_A3']:.2f} | {c['density_g_cm3']:.2f} |" for c in crystal_md),
        ]  # fmt: skip
    return [*lines, ""]


def settling_lines(
    settling: dict[str, Any] | None, stages: list[dict[str, Any]], crystal_md: list[dict[str, Any]]
) -> list[str]:
    """Report section: equilibration in barostat times and the volume drift over each sampling window."""
    if not settling:
        return []
    by_pressure = {c["target_pressure_GPa"]: c for c in crystal_md}

    def drift(point: dict[str, Any] | None) -> str:
        if point is None or point.get("volume_drift_percent") is None:
            return "-"
        flag = " **unsettled**" if abs(point["volume_drift_percent"]) > settling["tolerance_percent"] else ""
        return f"{point['volume_drift_percent']:+.2f} (σ {point['volume_std_percent']:.2f}){flag}"

    lines = [
        "## Barostat settling",
        "",
        f"Barostat time {settling['barostat_time_fs']:g} fs (profile `barostat_time_fs`); equilibration before sampling "
        f"{_fmt(settling['amorphous_equilibration_barostat_times'], '.1f')} barostat times per amorphous pressure, "
        f"{_fmt(settling['crystal_equilibration_barostat_times'], '.1f')} per crystal pressure; sampling "
        f"{_fmt(settling['amorphous_sampling_barostat_times'], '.1f')} / {_fmt(settling['crystal_sampling_barostat_times'], '.1f')}. "
        "Check: the mean volume of the second half of each sampling window against the first half, in % "
        f"(σ: the volume's standard deviation, for scale); beyond ±{settling['tolerance_percent']:g} % the stage is "
        "flagged unsettled.",
        "",
        "| P target (GPa) | amorphous ΔV % | Pnma MD ΔV % |",
        "|---|---|---|",
        *(f"| {s['target_pressure_GPa']:g} | {drift(s)} | {drift(by_pressure.get(s['target_pressure_GPa']))} |" for s in stages),
        "",
        ("Unsettled: " + ", ".join(settling["unsettled"]) + ".") if settling["unsettled"] else
        f"Every stage settled within ±{settling['tolerance_percent']:g} %.",
        "",
    ]  # fmt: skip
    return lines


def write_report(summary: dict[str, Any], out: Path) -> Path:
    """report.md, results.json and the PNG figures in ``out``; returns the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    stages, crystal, comparison = summary["stages"], summary["crystal"], summary["comparison"]
    crystal_md = summary.get("crystal_md") or []
    figures = plot_figures(stages, crystal, comparison, out, crystal_md)
    engine = summary.get("engine_spec") or {"name": summary["engine"]}
    (out / "results.json").write_text(json.dumps(summary, indent=1, default=float))
    lines = [
        "# Amorphous Sb2Se3 under pressure",
        "",
        f"Workflow `{summary['workflow']}`, engine `{engine_description(engine)}`, profile `{summary['profile_name']}`, "
        f"{summary['n_atoms']} atoms, seed {summary['seed']}; campaign wall time {summary['wall_time_s']:.0f} s.",
        "Paper: K. Zhang et al., Phys. Rev. Lett. 127, 127002 (2021), Figs. 2–4 (simulated values where the paper has them).",
        "",
        *([note, ""] if (note := engine_choice_note("sb2se3", summary["profile_name"], engine)) else []),
        "## Computed vs paper",
        "",
        "| quantity | paper | this run | how it was obtained |",
        "|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in comparison_rows(comparison)),
        "",
        "## S(q) principal peak and r1 (X-ray- and number-weighted)",
        "",
        *q1_lines(comparison.get("q1_slopes"), stages),
        "## Ladder",
        "",
        "| P target (GPa) | <P> (GPa) | <T> (K) | V (Å³/atom) | ρ (g/cm³) | r1 (Å) | weight 50–70° | CN mean | most common ring |",
        "|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {s['target_pressure_GPa']:g} | {s['pressure_GPa']:.1f} ± {s['pressure_std_GPa']:.1f} | {s['temperature_K']:.0f} | "
            f"{s['volume_per_atom_A3']:.2f} | {s['density_g_cm3']:.2f} | {s['r1_A']:.3f} ± {s['r1_error_A']:.3f} | "
            f"{s['weight_near_60']:.3f} | {s['cn_mean']:.2f} | {max(s['ring_fraction'], key=s['ring_fraction'].get)} |"
            for s in stages
        ),
        "",
        "| P (GPa) | Pnma V (Å³/atom) |",
        "|---|---|",
        *(f"| {c['pressure_GPa']:g} | {c['volume_per_atom_A3']:.2f} |" for c in crystal),
        "",
        *crossover_lines(comparison, crystal_md),
        *settling_lines(summary.get("settling"), stages, crystal_md),
        *elf_lines(summary.get("elf")),
        "## Why numbers may differ from the paper",
        "",
        *(f"- {reason}" for reason in summary["caveats"]),
        "",
        "## Figures",
        "",
        *(f"![{name}]({name})" for name in figures),
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
