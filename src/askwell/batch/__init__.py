"""Batch predictions on Dask: score a whole dataset overnight, report the questions that need
help, and hand the answers to the service as precomputed analyses (the book's chapter 9).

- :mod:`askwell.batch.analysis`: the one function a task calls to analyse a list of
  questions the way the service does, and the per-worker model cache;
- :mod:`askwell.batch.inputs`: what a job reads (a dataset, Parquet, JSON Lines), planned
  as partitions that each task streams on its own;
- :mod:`askwell.batch.output`: partitioned Parquet written temp-then-rename with a
  verified sidecar per partition, the rejects, the manifest;
- :mod:`askwell.batch.job`: the job on a Dask cluster (embedded or existing);
- :mod:`askwell.batch.report`: the moderator queue;
- ``askwell batch score | report`` live in :mod:`askwell.cli.batch`.
"""
