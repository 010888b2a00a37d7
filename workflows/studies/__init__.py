"""Studies: the papers' calculations composed from workflows, and what their results mean
(summaries, landmarks, caveats). Command modules only parse arguments and print these."""
