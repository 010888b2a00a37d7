"""GPAW as a local real-DFT engine: an ASE calculator (plane waves, PBE) and the ELF.

GPAW (GPL, https://gpaw.readthedocs.io) is the optional extra ``phasefire[dft]``; it builds
from PyPI with a C++ compiler (``CC=g++ pip install 'phasefire[dft]'``) and takes its PAW
setups from the ``gpaw-data`` package. Debian's ``libxc-dev`` and ``libopenblas-dev`` are
optional: without them GPAW 26.7 still builds and runs PBE with its own XC code and
numpy/scipy BLAS; with both it links libxc and OpenBLAS (libxc is only enabled when a
``-lblas`` library links too).

The engine only hands out a calculator (``calculator``) and its ``versions``; relaxations,
statics and MD are driven by phasefire's ASE-calculator drivers. ``GpawEngine.elf`` runs a
static SCF and writes the ELF of ``gpaw.elf.elf_from_dft_calculation`` with the structure
as a VASP-format ELFCAR (pymatgen's writer): the grid convention is VASP's (point (i, j, k)
at fractional (i/n1, j/n2, k/n3)), one ``total`` block (GPAW's spin-summed ELF, Kohout and
Savin eq. 9, of the pseudo valence density), so ``phasefire analyze elf`` and any ELFCAR
viewer (VESTA) read it.
"""

from __future__ import annotations

import importlib.metadata
import os
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
from ase import Atoms
from pydantic import Field, model_validator

from phasefire.workflows.engines.base import CalculatorEngine
from phasefire.workflows.errors import PhasefireError

INSTALL_HINT = (
    "install the DFT extra: CC=g++ pip install 'phasefire[dft]' "
    "(on Debian first, for libxc and BLAS: apt-get install g++ libxc-dev libopenblas-dev)"
)

#: name of the ELF file written into the run folder
ELF_FILE = "ELFCAR"


def require_gpaw() -> None:
    """Raise a one-line PhasefireError unless GPAW, its PAW setups (gpaw-data) and threadpoolctl import."""
    try:
        import gpaw  # noqa: F401
        import gpaw_data  # noqa: F401
        import threadpoolctl  # noqa: F401
    except ImportError as exc:
        raise PhasefireError(f"the gpaw engine needs GPAW ({exc.name} is not installed); {INSTALL_HINT}") from None


class GpawEngine(CalculatorEngine):
    """GPAW plane-wave PAW DFT through its ASE calculator.

    ecut_eV: plane-wave cutoff (eV); xc: exchange-correlation functional (PBE);
    kpts: Monkhorst-Pack mesh (n1, n2, n3), or kpoint_density_per_inv_A: k-points per Å⁻¹ of
    reciprocal-lattice vector length (GPAW's ``kpts={"density": ..., "gamma": True}``);
    neither: the Γ point only, right for the ~100-atom amorphous cells this engine is meant
    for (cell heights ≳ 10 Å) — give kpts or a density for small crystal cells.
    smearing_eV: Fermi-Dirac width (eV); spin_polarized: collinear spin;
    txt: GPAW's log file, written into the run folder;
    nbands: GPAW's ``nbands`` — a count, or a percentage of the occupied bands such as "105%"
    (None: GPAW's default, ~20 % empty bands); eigenstates_convergence / density_convergence:
    GPAW's SCF criteria (squared residual in eV² per valence electron; density change in
    electrons per valence electron; None: GPAW's defaults 4e-8 and 1e-4). For an ELF,
    "105%", 1e-4 and 1e-3 are enough: 40-atom amorphous Sb2Se3 at Γ, PW 250 eV, mean ELF
    0.30736 vs 0.30741 and ELF > 0.7 fraction 0.05831 vs 0.05842 at 1e-6 (22 vs ~12 SCF
    iterations; measured 2026-12-01). Amorphous Sb2Se3 has 9.6 valence electrons per atom
    (Sb 15, Se 6), so a 40-atom SCF is ~100 bands.
    blas_threads: threads of every loaded BLAS library (threadpoolctl; process-wide, set when a
    calculator is made; None keeps the libraries' defaults). 1 by default: OpenBLAS's one
    thread per core made a NaCl SCF (PW 300 eV, 3×3×3 k) take 20 s instead of 2.4 s on this
    2-core machine shared with other jobs (measured 2026-12-01).
    A static calculation with ``write_elf`` writes the ELF as an ELFCAR (``write_volumetric``).
    """

    name: ClassVar[str] = "gpaw"
    volumetric_outputs: ClassVar[frozenset[str]] = frozenset({"elf"})

    ecut_eV: float = Field(400.0, gt=0)
    xc: str = "PBE"
    kpts: tuple[int, int, int] | None = None
    kpoint_density_per_inv_A: float | None = Field(None, gt=0)
    smearing_eV: float = Field(0.05, gt=0)
    spin_polarized: bool = False
    txt: str = "gpaw.txt"
    blas_threads: int | None = Field(1, ge=1)
    nbands: int | str | None = None
    eigenstates_convergence: float | None = Field(None, gt=0)
    density_convergence: float | None = Field(None, gt=0)

    def model_post_init(self, context) -> None:
        require_gpaw()

    @model_validator(mode="after")
    def _one_k_point_choice(self) -> GpawEngine:
        if self.kpts is not None and self.kpoint_density_per_inv_A is not None:
            raise ValueError("give either kpts or kpoint_density_per_inv_A for the gpaw engine, not both")
        if isinstance(self.nbands, str) and not (self.nbands.endswith("%") and self.nbands[:-1].isdigit()):
            raise ValueError(
                f"nbands must be a count or a percentage of occupied bands like '105%', got {self.nbands!r}"
            )
        if self.kpts is not None and min(self.kpts) < 1:
            raise ValueError(f"kpts must be three positive integers, got {self.kpts}")
        return self

    def k_points(self):
        """What GPAW's ``kpts`` gets: a mesh, a density dict, or the Γ point."""
        if self.kpts is not None:
            return self.kpts
        if self.kpoint_density_per_inv_A is not None:
            return {"density": float(self.kpoint_density_per_inv_A), "gamma": True}
        return (1, 1, 1)

    def calculator(self, workdir: str | Path | None = None):
        """A fresh GPAW ASE calculator; its log goes to ``workdir/txt`` (the folder is created;
        default: the current folder, which is the run folder inside a Firework)."""
        from gpaw import GPAW, PW, FermiDirac  # loads GPAW's BLAS before the limit below

        if self.blas_threads is not None:
            from threadpoolctl import threadpool_limits

            threadpool_limits(int(self.blas_threads), user_api="blas")
        workdir = Path(workdir or os.getcwd())
        workdir.mkdir(parents=True, exist_ok=True)
        extra = {} if self.nbands is None else {"nbands": self.nbands}
        convergence = {"eigenstates": self.eigenstates_convergence, "density": self.density_convergence}
        convergence = {key: float(value) for key, value in convergence.items() if value is not None}
        if convergence:
            extra["convergence"] = convergence
        return GPAW(
            mode=PW(float(self.ecut_eV)),
            xc=self.xc,
            kpts=self.k_points(),
            occupations=FermiDirac(float(self.smearing_eV)),
            spinpol=bool(self.spin_polarized),
            txt=str(workdir / self.txt),
            **extra,
        )

    def versions(self) -> dict[str, str]:
        versions = {}
        for dist in ("gpaw", "gpaw-data", "ase"):
            try:
                versions[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                pass
        return versions

    def write_volumetric(self, atoms: Atoms, outputs: set[str], workdir: Path) -> dict[str, str]:
        """The ELF of the calculator's converged SCF as ``workdir/ELFCAR`` (the static type's
        ``write_elf``), plus GPAW's log."""
        files = {"log": self.txt}
        if "elf" in outputs:
            write_elf(atoms.calc, atoms, Path(workdir) / ELF_FILE)
            files["elf"] = ELF_FILE
        return files

    def elf(self, atoms: Atoms, workdir: str | Path, filename: str = ELF_FILE) -> dict:
        """Static SCF of ``atoms`` in ``workdir``, then its ELF written to ``workdir/filename``.

        Returns energy_eV, scf_seconds, elf_seconds and files {"elf": filename, "log": txt}.
        """
        workdir = Path(workdir)
        atoms = atoms.copy()
        atoms.calc = self.calculator(workdir)
        start = time.perf_counter()
        energy_eV = float(atoms.get_potential_energy())
        scf_seconds = time.perf_counter() - start
        start = time.perf_counter()
        write_elf(atoms.calc, atoms, workdir / filename)
        return {
            "energy_eV": energy_eV,
            "scf_seconds": scf_seconds,
            "elf_seconds": time.perf_counter() - start,
            "files": {"elf": filename, "log": self.txt},
        }


def elf_grid(calculator) -> np.ndarray:
    """ELF (n1, n2, n3) of a converged GPAW calculation on its coarse grid (point (i, j, k) at
    fractional (i/n1, j/n2, k/n3), as in an ELFCAR); GPAW's ``elf_from_dft_calculation``."""
    from gpaw.elf import elf_from_dft_calculation

    return np.ascontiguousarray(elf_from_dft_calculation(calculator).gather().data, dtype=float)


def write_elf(calculator, atoms: Atoms, path: str | Path) -> Path:
    """Write the ELF of a converged GPAW calculation with ``atoms`` as a VASP-format ELFCAR
    (one ``total`` block; pymatgen's ``Elfcar`` writer); ``.gz`` in the name compresses it."""
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.io.vasp.outputs import Elfcar

    values = elf_grid(calculator)
    structure = AseAtomsAdaptor.get_structure(atoms)
    path = Path(path)
    tmp = path.with_name(path.name + ".part" + ("".join(path.suffixes[-1:]) if path.suffix == ".gz" else ""))
    Elfcar(structure, {"total": values}).write_file(tmp)
    tmp.replace(path)
    return path
