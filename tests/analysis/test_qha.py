"""Quasi-harmonic thermal expansion of EMT copper, checked against a direct F(V) minimisation."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from phasefire.analysis.qha import qha_thermal_expansion


def test_emt_copper_expansion_matches_direct_minimisation():
    result = qha_thermal_expansion(bulk("Cu", "fcc", a=3.6), EMT(), supercell=(3, 3, 3), relax_shape=False)
    volumes = np.array(result["volumes_A3"])
    energies = np.array(result["energies_eV"])
    free = np.array(result["vibrational_free_energy_kJ_per_mol"]) / 96.485  # eV per cell
    temperatures = np.array(result["temperatures_K"])
    grid = np.linspace(volumes[0], volumes[-1], 20001)

    def volume_at(temperature):
        column = int(np.argmin(np.abs(temperatures - temperature)))
        fit = np.polyfit(volumes, energies + free[:, column], 4)
        return grid[np.argmin(np.polyval(fit, grid))]

    direct = (volume_at(310) - volume_at(290)) / 20 / volume_at(300) / 3
    assert result["linear_expansion_300K_per_K"] == pytest.approx(direct, rel=0.05)
    assert result["linear_expansion_300K_per_K"] == pytest.approx(2.09e-5, rel=0.02)  # EMT; Cu exp. 1.65e-5
    assert result["imaginary_mesh_modes"] == [0] * 6
