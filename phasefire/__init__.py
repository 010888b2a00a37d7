"""phasefire: atomistic workflows for the Ag2Se, CsPbX3 and amorphous Sb2Se3 papers.

The repository's top-level folders install as subpackages of this one namespace
(``pyproject.toml``: ``[tool.setuptools] package-dir``): ``structures/`` is
``phasefire.structures``, ``workflows/`` is ``phasefire.workflows``, ``analysis/`` is
``phasefire.analysis`` and ``models/`` is ``phasefire.models``. Nothing named
``workflows``, ``analysis``, ``structures`` or ``models`` is installed at the top level
(PyPI has unrelated distributions of those names).
"""

import importlib.metadata

__version__ = importlib.metadata.version("phasefire")
