"""Pure structural analysis: periodic ASE Atoms (or lists or streams of them) in, numbers out.

No FireWorks, no files written. Pair and bond statistics run in numba cell-list kernels
(``cells``) without pair arrays; ``trajectory.analyze_trajectory`` feeds every analysis from
one streaming pass over the frames; bonds follow one cutoff specification (``bonds``).
"""
