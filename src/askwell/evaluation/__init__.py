"""Metrics, plots and reports on how a model does and where it fails.

- :mod:`~askwell.evaluation.metrics`: classification metrics, confusion, reliability, ECE,
  ROC points, univariate AUC.
- :mod:`~askwell.evaluation.bootstrap`: seeded, vectorised bootstrap intervals and paired
  differences.
- :mod:`~askwell.evaluation.operating`: the threshold for a target precision or recall.
- :mod:`~askwell.evaluation.leakage`, :mod:`~askwell.evaluation.importance`,
  :mod:`~askwell.evaluation.segments`, :mod:`~askwell.evaluation.erroranalysis`,
  :mod:`~askwell.evaluation.curves`: the report's analyses.
- :mod:`~askwell.evaluation.evaluate`: every figure as one JSON-ready dict;
  :mod:`~askwell.reports.evaluation` and :mod:`~askwell.evaluation.plots` render it;
  :mod:`~askwell.evaluation.commands` is the ``askwell evaluate`` glue.
"""
