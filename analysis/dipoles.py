"""Local dipoles of an anion in its cation cage, their statistics by orientation, vortices and
Abrahams' spontaneous-polarization estimate.

The dipole of a Se is its displacement from the centroid of its N nearest Ag (minimum image),
as measured from HAADF-STEM column positions in Luo et al., Nat. Commun. (2025),
doi:10.1038/s41467-025-57057-5, Fig. 2a-e and 3b-c, i. Directions such as ``(1, 0, 0)`` are
crystal directions [uvw] (u a + v b + w c). Pure: Atoms in, numbers out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

#: Abrahams, Kurtz & Jamieson, Phys. Rev. 172, 551 (1968): Ps (uC/cm^2) = 258 * dz (A)
ABRAHAMS_UC_CM2_PER_A = 258.0
#: farthest cation counted as a cage neighbour, Å (Ag-Se bonds are 2.6-2.9 Å; 3.5 Å leaves room for distortion)
MAX_CAGE_DISTANCE_A = 3.5


def crystal_direction(atoms: Atoms, uvw) -> np.ndarray:
    """Unit Cartesian vector of the crystal direction [uvw]; ValueError for a zero vector."""
    uvw = np.asarray(uvw, dtype=float)
    if uvw.shape != (3,) or not np.all(np.isfinite(uvw)) or np.linalg.norm(uvw) < 1e-12:
        raise ValueError(f"direction {tuple(uvw.tolist())} is not a non-zero 3-vector; give e.g. 1,0,0")
    vector = uvw @ atoms.cell.array
    return vector / np.linalg.norm(vector)


def local_dipoles(
    atoms: Atoms, neighbors: int = 4, center: str = "Se", cage: str = "Ag", max_distance_A: float = MAX_CAGE_DISTANCE_A
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``center`` atoms and their dipoles (Å, shape (n, 3)): position minus the
    centroid of the ``neighbors`` nearest ``cage`` atoms (minimum image).

    ValueError when a centre has fewer than ``neighbors`` cage atoms within ``max_distance_A``.
    """
    if neighbors < 1:
        raise ValueError(f"neighbors must be at least 1, got {neighbors}")
    symbols = np.array(atoms.get_chemical_symbols())
    centres = np.flatnonzero(symbols == center)
    if not len(centres):
        raise ValueError(f"no {center} in {atoms.get_chemical_formula()}; the dipoles need {center} centres")
    i, j, vectors = neighbor_list("ijD", atoms, max_distance_A)
    dipoles = np.empty((len(centres), 3))
    for row, index in enumerate(centres):
        mine = (i == index) & (symbols[j] == cage)
        bonds = vectors[mine]
        if len(bonds) < neighbors:
            raise ValueError(
                f"{center} {index} has {len(bonds)} {cage} within {max_distance_A:g} A, fewer than --neighbors "
                f"{neighbors}; check the structure or lower --neighbors"
            )
        nearest = bonds[np.argsort(np.linalg.norm(bonds, axis=1), kind="stable")[:neighbors]]
        dipoles[row] = -nearest.mean(axis=0)  # Se - centroid(Ag) = -(mean Se->Ag vector)
    return centres, dipoles


def project_on_plane(vectors: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Components of ``vectors`` (n, 3) in the plane normal to the unit vector ``normal``."""
    return vectors - np.outer(vectors @ normal, normal)


def orientation_statistics(
    dipoles_A: np.ndarray, direction: np.ndarray, normal: np.ndarray | None = None
) -> dict[str, Any]:
    """Dipoles split by the sign of their component along the unit ``direction``: 'along' (>= 0)
    and 'against'. Per family: count, mean magnitude (pm) and its standard deviation, mean angle
    (degrees) to +direction (along) or -direction (against); with a projection ``normal`` the
    vectors are first projected and the angle is signed about ``normal`` (right-handed).

    ``delta_z_pm``: net displacement along ``direction``, the mean axial component of the along
    family plus that of the against family (the paper's 54 - 68 = -14 pm, Fig. 2e).
    """
    vectors = dipoles_A if normal is None else project_on_plane(dipoles_A, normal)
    axial = vectors @ direction
    families = {}
    for name, mask, axis in (("along", axial >= 0, direction), ("against", axial < 0, -direction)):
        chosen = vectors[mask]
        magnitudes = np.linalg.norm(chosen, axis=1) * 100.0
        if len(chosen):
            cosines = np.clip((chosen @ axis) / np.maximum(np.linalg.norm(chosen, axis=1), 1e-12), -1.0, 1.0)
            angles = np.degrees(np.arccos(cosines))
            if normal is not None:
                angles *= np.sign(np.cross(axis, chosen) @ normal + 1e-15)
        families[name] = {
            "count": int(mask.sum()),
            "mean_magnitude_pm": float(magnitudes.mean()) if len(chosen) else None,
            "std_magnitude_pm": float(magnitudes.std()) if len(chosen) else None,
            "mean_angle_deg": float(angles.mean()) if len(chosen) else None,
            "mean_abs_angle_deg": float(np.abs(angles).mean()) if len(chosen) else None,
            "mean_axial_pm": float((chosen @ direction).mean() * 100.0) if len(chosen) else None,
        }
    parts = [families[f]["mean_axial_pm"] for f in families if families[f]["mean_axial_pm"] is not None]
    delta = float(sum(parts)) if len(parts) == 2 else float(axial.mean() * 100.0)
    return {**families, "delta_z_pm": delta, "abrahams_Ps_uC_cm2": abrahams_polarization_uC_cm2(delta / 100.0)}


def abrahams_polarization_uC_cm2(delta_z_A: float) -> float:
    """Abrahams' estimate Ps = 258 * dz (uC/cm^2, dz in Å; Phys. Rev. 172, 551 (1968)), sign kept."""
    return ABRAHAMS_UC_CM2_PER_A * float(delta_z_A)


def _plane_basis(atoms: Atoms, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """2-D cell of the projection along cell vector ``axis``: the other two vectors projected on
    the plane, expressed in an orthonormal in-plane basis (rows), and that basis (2, 3)."""
    cell = atoms.cell.array
    normal = cell[axis] / np.linalg.norm(cell[axis])
    first, second = cell[(axis + 1) % 3], cell[(axis + 2) % 3]
    e1 = project_on_plane(first[None], normal)[0]
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(normal, e1)
    basis = np.array([e1, e2])
    cell2d = np.array([basis @ first, basis @ second])
    return cell2d, basis


def vortex_map(
    atoms: Atoms,
    centres: np.ndarray,
    dipoles_A: np.ndarray,
    axis: int = 0,
    grid: int | None = None,
    threshold: float = 0.25,
    smoothing: float = 0.5,
) -> dict[str, Any]:
    """Vortices of the dipole field projected along cell vector ``axis``.

    The projected dipoles (Å) at the projected centre positions are interpolated on a ``grid`` x
    ``grid`` mesh (default 6 points per Å of the longer 2-D cell vector) of the 2-D cell by Gaussian-weighted averaging (Nadaraya-Watson, periodic images
    included; width ``smoothing`` x the median nearest-column distance);
    the discrete curl dv2/dx1 - dv1/dx2 (numpy finite differences, per Å) is then searched for
    local extrema (scipy ``ndimage``, periodic) whose |curl| exceeds ``threshold`` x max |curl|:
    positive = anticlockwise, negative = clockwise, seen looking down -axis (axis towards the viewer).
    Returns counts per projected cell, the grid, the curl and the arrows for a plot.
    """
    from scipy import ndimage

    cell2d, basis = _plane_basis(atoms, axis)
    grid = grid or int(np.ceil(6.0 * np.linalg.norm(cell2d, axis=1).max()))
    normal = atoms.cell.array[axis] / np.linalg.norm(atoms.cell.array[axis])
    fractional = atoms.get_scaled_positions()[centres][:, [(axis + 1) % 3, (axis + 2) % 3]]
    arrows = project_on_plane(dipoles_A, normal) @ basis.T
    # columns that project onto the same point are averaged (griddata needs distinct points)
    keys = np.round(fractional % 1.0, 4)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    mean_arrows = np.array([arrows[inverse == k].mean(axis=0) for k in range(len(unique))])
    shifts = np.array([(p, q) for p in (-2, -1, 0, 1, 2) for q in (-2, -1, 0, 1, 2)], dtype=float)
    tiled = ((unique[None, :, :] + shifts[:, None, :]).reshape(-1, 2)) @ cell2d
    tiled_arrows = np.tile(mean_arrows, (len(shifts), 1))
    gaps = np.linalg.norm(tiled[None, :, :] - (unique @ cell2d)[:, None, :], axis=2)
    gaps[gaps < 1e-6] = np.inf
    sigma = smoothing * float(np.median(gaps.min(axis=1)))
    s = (np.arange(grid) + 0.5) / grid
    mesh = np.stack(np.meshgrid(s, s, indexing="ij"), axis=-1).reshape(-1, 2) @ cell2d
    weights = np.exp(-0.5 * (np.linalg.norm(mesh[:, None, :] - tiled[None, :, :], axis=2) / sigma) ** 2)
    field = ((weights @ tiled_arrows) / weights.sum(axis=1)[:, None]).reshape(grid, grid, 2)
    # derivatives in fractional coordinates, converted to Cartesian with the inverse 2-D cell
    d_ds = np.stack([np.gradient(field[..., k], 1.0 / grid, axis=0) for k in range(2)], axis=-1)
    d_dt = np.stack([np.gradient(field[..., k], 1.0 / grid, axis=1) for k in range(2)], axis=-1)
    inverse_cell = np.linalg.inv(cell2d)  # columns: d(s, t)/d(x1, x2)
    dv_dx1 = d_ds * inverse_cell[0, 0] + d_dt * inverse_cell[1, 0]
    dv_dx2 = d_ds * inverse_cell[0, 1] + d_dt * inverse_cell[1, 1]
    curl = dv_dx1[..., 1] - dv_dx2[..., 0]
    peak = float(np.nanmax(np.abs(curl))) if np.isfinite(curl).any() else 0.0
    counts = {"anticlockwise": 0, "clockwise": 0}
    if peak > 0:
        level = threshold * peak
        spacing = min(np.linalg.norm(cell2d, axis=1)) / grid
        size = max(3, 2 * int(np.ceil(sigma / spacing)) + 1)
        maxima = (curl == ndimage.maximum_filter(curl, size=size, mode="wrap")) & (curl > level)
        minima = (curl == ndimage.minimum_filter(curl, size=size, mode="wrap")) & (curl < -level)
        counts = {"anticlockwise": int(maxima.sum()), "clockwise": int(minima.sum())}
    return {
        "axis": axis,
        "anticlockwise_vortices": counts["anticlockwise"],
        "clockwise_vortices": counts["clockwise"],
        "max_abs_curl_per_A": peak * 1.0,
        "_grid": {"cell2d_A": cell2d, "curl": curl, "points": unique @ cell2d, "arrows_A": mean_arrows},
    }


def dipole_analysis(
    atoms: Atoms, neighbors: int = 4, projection=None, direction=(0, 0, 1), center: str = "Se", cage: str = "Ag"
) -> dict[str, Any]:
    """Everything ``phasefire analyze dipoles`` reports (JSON-ready, plus ``_grid`` for the plot).

    projection: crystal direction [uvw] whose normal plane the dipoles are projected on (the paper's
    [100] zone axis), or None; direction: [uvw] that splits the dipoles into 'along' and 'against'
    families ([001] in Fig. 2e, the field [011] in Fig. 3b-c). Vortices need a projection along a
    cell vector.
    """
    centres, dipoles = local_dipoles(atoms, neighbors, center, cage)
    normal = None if projection is None else crystal_direction(atoms, projection)
    axis_direction = crystal_direction(atoms, direction)
    magnitudes_pm = np.linalg.norm(dipoles, axis=1) * 100.0
    result: dict[str, Any] = {
        "formula": atoms.get_chemical_formula(),
        "neighbors": neighbors,
        "count": len(centres),
        "mean_magnitude_pm": float(magnitudes_pm.mean()),
        "net_dipole_pm": (dipoles.mean(axis=0) * 100.0).tolist(),
        "direction": list(map(float, direction)),
        "projection": None if projection is None else list(map(float, projection)),
    }
    if normal is not None:
        projected = project_on_plane(dipoles, normal)
        result["mean_projected_magnitude_pm"] = float(np.linalg.norm(projected, axis=1).mean() * 100.0)
        in_plane = project_on_plane(axis_direction[None], normal)[0]
        if np.linalg.norm(in_plane) < 1e-8:
            raise ValueError("the direction is parallel to the projection; give a direction in the projection plane")
        axis_direction = in_plane / np.linalg.norm(in_plane)
    result["families"] = orientation_statistics(dipoles, axis_direction, normal)
    result["delta_z_pm"] = result["families"].pop("delta_z_pm")
    result["abrahams_Ps_uC_cm2"] = result["families"].pop("abrahams_Ps_uC_cm2")
    result["vortices"] = None
    if normal is not None:
        alignment = np.abs(np.linalg.norm(np.cross(atoms.cell.array, normal), axis=1)) / atoms.cell.lengths()
        axis = int(np.argmin(alignment))
        if alignment[axis] < 1e-6:
            result["vortices"] = vortex_map(atoms, centres, dipoles, axis)
    result["dipoles"] = [
        {"index": int(k), "vector_pm": (v * 100.0).tolist(), "magnitude_pm": float(m)}
        for k, v, m in zip(centres, dipoles, magnitudes_pm)
    ]
    return result


def plot_dipole_map(result: dict[str, Any], path: str, title: str = "", repeats: int = 2) -> None:
    """PNG like the paper's Fig. 2e: projected dipoles (arrows, x5) over the curl of the interpolated
    field (red anticlockwise, blue clockwise), ``repeats`` x ``repeats`` projected cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = result["vortices"]["_grid"]
    cell2d, curl = np.asarray(grid["cell2d_A"]), np.asarray(grid["curl"])
    n = curl.shape[0]
    fig, ax = plt.subplots(figsize=(6, 6))
    limit = np.nanmax(np.abs(curl)) or 1.0
    s = (np.arange(n * repeats) + 0.5) / n
    S, T = np.meshgrid(s, s, indexing="ij")
    X, Y = S * cell2d[0, 0] + T * cell2d[1, 0], S * cell2d[0, 1] + T * cell2d[1, 1]
    mesh = ax.pcolormesh(X, Y, np.tile(curl, (repeats, repeats)), cmap="coolwarm", vmin=-limit, vmax=limit)
    fig.colorbar(mesh, ax=ax, label="curl of projected dipole field (1)")
    points, arrows = np.asarray(grid["points"]), np.asarray(grid["arrows_A"])
    for p in range(repeats):
        for q in range(repeats):
            origin = p * cell2d[0] + q * cell2d[1]
            ax.scatter(*(points + origin).T, s=12, color="k")
            ax.quiver(*(points + origin).T, *(arrows * 5).T, angles="xy", scale_units="xy", scale=1, color="k")
    ax.set_aspect("equal")
    ax.set_xlabel("in-plane x (A)")
    ax.set_ylabel("in-plane y (A)")
    vortices = result["vortices"]
    ax.set_title(
        f"{title} dipoles x5; vortices/cell: {vortices['anticlockwise_vortices']} anticlockwise, "
        f"{vortices['clockwise_vortices']} clockwise",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def public(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` without the plot-only grid (JSON-serialisable)."""
    clean = dict(result)
    if clean.get("vortices"):
        clean["vortices"] = {k: v for k, v in clean["vortices"].items() if not k.startswith("_")}
    return clean


def field_comparison(zero_field: Atoms, plus_field: Atoms, minus_field: Atoms, field_direction, **kwargs) -> dict:
    """The field ladder's dipole rows (paper Fig. 3b-c, i): families relative to the field direction
    at 0 and +/-E, the change of the along/against mean magnitudes (pm) and of their mean signed
    in-plane angles (degrees, the rotation). Structures relaxed under field come from the MLIP field
    route (issue 11); this function only compares them.
    """
    rows = {}
    for label, atoms in (("0", zero_field), ("+E", plus_field), ("-E", minus_field)):
        rows[label] = public(dipole_analysis(atoms, direction=field_direction, **kwargs))["families"]
    change = {
        sign: {
            family: {
                "magnitude_change_pm": rows[sign][family]["mean_magnitude_pm"] - rows["0"][family]["mean_magnitude_pm"],
                "rotation_deg": rows[sign][family]["mean_angle_deg"] - rows["0"][family]["mean_angle_deg"],
            }
            for family in ("along", "against")
            if rows[sign][family]["count"] and rows["0"][family]["count"]
        }
        for sign in ("+E", "-E")
    }
    return {"families": rows, "change": change}
