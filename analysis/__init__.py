"""Pure structural analysis: periodic ASE Atoms (or lists of them) in, numbers out.

No FireWorks, no files written: every function is vectorised numpy on arrays or Atoms.
"""
