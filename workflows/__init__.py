"""phasefire workflows: FireWorks tasks, engines, database and the command line."""
