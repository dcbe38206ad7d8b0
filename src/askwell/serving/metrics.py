"""Prometheus metrics of one app (its own registry, so tests can build many apps).

Under ``askwell serve --workers N`` every worker is a process with its own counters;
the server sets ``PROMETHEUS_MULTIPROC_DIR`` so that ``/metrics`` on any worker reports
the sum over all of them (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as mp

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """Every series the service exports, created on one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("askwell_requests_total", "HTTP requests by route and status.",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("askwell_request_latency_seconds", "HTTP request latency by route.",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.analyses = Counter("askwell_analyses_total", "Analyses returned, by model version.",
                                ["model", "version"], registry=r)
        self.declined = Counter("askwell_declined_total", "Inputs declined by a safeguard.",
                                ["code"], registry=r)
        self.input_checks = Counter("askwell_input_checks_total",
                                    "Input-check findings, by code.", ["check"], registry=r)
        self.not_ready = Counter("askwell_not_ready_total",
                                 "Answers with verdict not_ready (no score), by reason.", ["reason"],
                                 registry=r)
        self.filter_outcomes = Counter("askwell_filter_outcomes_total",
                                       "The filtering model's outcomes (pass, unsure, reject).",
                                       ["outcome"], registry=r)
        self.fallbacks = Counter("askwell_fallbacks_total", "Answers from the fallback model.",
                                 ["reason"], registry=r)
        self.abstentions = Counter("askwell_abstentions_total", "Analyses without a verdict.",
                                   ["reason"], registry=r)
        self.cache_hits = Counter("askwell_cache_hits_total", "Analyses served from the cache.",
                                  ["backend"], registry=r)
        self.cache_misses = Counter("askwell_cache_misses_total", "Analyses computed (cache miss).",
                                    ["backend"], registry=r)
        self.rate_limited = Counter("askwell_rate_limited_total", "Requests refused with 429.", registry=r)
        self.errors = Counter("askwell_errors_total", "Requests that failed inside the service.",
                              ["route"], registry=r)
        self.log_written = Counter("askwell_log_written_total", "Rows written to the prediction log.",
                                   ["table"], registry=r)
        self.log_dropped = Counter("askwell_log_dropped_total",
                                   "Log rows dropped, by reason: queue_full, unreachable (the "
                                   "database was away too long), bad_row (refused by the "
                                   "database), duplicate.", ["table", "reason"], registry=r)
        self.log_retries = Counter("askwell_log_retries_total", "Failed database writes retried.",
                                   registry=r)
        self.log_queue = Gauge("askwell_log_queue_depth", "Log rows waiting to be written.",
                               registry=r, multiprocess_mode="livesum")
        self.model_info = Gauge("askwell_model_info", "The model serving now (value 1).",
                                ["family", "name", "version", "dataset_id"], registry=r,
                                multiprocess_mode="liveall")
        self.model_swaps = Counter("askwell_model_swaps_total", "Model swaps, by kind.", ["kind"],
                                   registry=r)
        self.model_ready = Gauge("askwell_model_ready", "1 when a model is loaded.", registry=r,
                                 multiprocess_mode="livemin")
        self.answers = Counter("askwell_answers_total", "Analyses returned, by source: "
                               "precomputed (a batch job's) or computed.", ["source"], registry=r)

    def set_model(self, family: str, name: str, version: str, dataset_id: str | None) -> None:
        labels = (family, name, version, dataset_id or "")
        old = getattr(self, "_model_labels", None)
        if old is not None and old != labels:
            self.model_info.labels(*old).set(0)  # multiprocess files keep it: show it as 0
            if not multiprocess_dir():
                self.model_info.remove(*old)
        self._model_labels = labels
        self.model_info.labels(*labels).set(1)
        self.model_ready.set(1)

    def render(self) -> bytes:
        directory = multiprocess_dir()
        registry = self.registry
        if directory:
            registry = CollectorRegistry()
            mp.MultiProcessCollector(registry, path=directory)
        return generate_latest(registry) + _precomputed_share(registry)


def _precomputed_share(registry: CollectorRegistry) -> bytes:
    """``askwell_precomputed_share``: precomputed / all answers, over every worker (derived
    from the summed counters, so it is exact under multiprocess mode too)."""
    counts = {"precomputed": 0.0, "computed": 0.0}
    for family in registry.collect():
        if family.name == "askwell_answers":
            for sample in family.samples:
                if sample.name == "askwell_answers_total" and sample.labels.get("source") in counts:
                    counts[sample.labels["source"]] += sample.value
    total = counts["precomputed"] + counts["computed"]
    share = counts["precomputed"] / total if total else 0.0
    return ("# HELP askwell_precomputed_share Share of analyses answered from precomputed "
            "(batch) answers.\n# TYPE askwell_precomputed_share gauge\n"
            f"askwell_precomputed_share {share!r}\n").encode()
