"""Figures and Markdown reports written by workflows and studies (matplotlib, Agg backend)."""
