"""Continuum physics models fed by the atomistic results (``phasefire.models``)."""
