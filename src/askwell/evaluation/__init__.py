"""Metrics, plots and reports on how a model does and where it fails."""
