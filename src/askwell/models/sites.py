"""What a model knows about each site: base rates, per-site calibration, score percentiles.

A score means little without its site: 90% is below average on a site where 97% of
questions do well and well above it where 80% do. The :class:`SiteTable` is learned with
the model (``fit`` + calibration side) and kept in ``model.json`` under ``sites``:

- **base rate** of each site and each site kind (``main``/``meta``), what the API shows
  beside the score;
- **per-site calibration**: one log-odds shift per site, so that the model's mean score
  on a site's training questions equals that site's base rate. The model has no site
  input (a site is context the writer can't change), so without it every site gets the
  pooled calibration. The shift is shrunk toward the site kind's by ``n / (n + K)``
  (:data:`SHRINK_QUESTIONS`): a site with few questions moves little. A site the model
  never saw gets its kind's shift: the best estimate without that site's labels
  (``askwell evaluate``'s leave-one-site-out section measures how good that is);
- **percentiles**: quantiles of the site's scores on the questions the model did not fit
  (calibration and held-out sides), so "better received than 70% of questions on
  beer.stackexchange.com" ranks a question among real ones. Sites with fewer than
  :data:`MIN_PERCENTILE_QUESTIONS` such questions use their kind's distribution.

Hand-written because it is three small numbers per site over arrays the model already
has; no library keeps group-wise intercept shifts beside a saved booster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from askwell.data.sitekind import site_kind
from askwell.models.base import logit as _logit
from askwell.models.base import sigmoid as _sigmoid

#: Questions at which a site's own calibration shift gets half its weight.
SHRINK_QUESTIONS = 100.0
#: Scores a site needs before its own percentiles are used.
MIN_PERCENTILE_QUESTIONS = 30
#: Quantile points stored per site (0, 1/Q, ..., 1).
QUANTILES = 100
_EPS = 1e-6


def matching_shift(p: np.ndarray, target: float) -> float:
    """The log-odds shift ``d`` with ``mean(sigmoid(logit(p) + d)) == target`` (bisection:
    the mean is monotone in ``d``)."""
    z = _logit(p)
    target = float(np.clip(target, _EPS, 1 - _EPS))
    lo, hi = -15.0, 15.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _sigmoid(z + mid).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@dataclass(frozen=True)
class SiteContext:
    """One site as the model knows it (``known``: it had training questions from it)."""

    name: str | None
    known: bool
    kind: str | None
    base_rate: float | None
    questions: int = 0


@dataclass
class SiteStats:
    kind: str
    questions: int
    base_rate: float
    shift: float
    quantiles: list[float] = field(default_factory=list)


@dataclass
class SiteTable:
    """Per-site and per-kind base rates, calibration shifts and score quantiles."""

    by_site: dict[str, SiteStats]
    kinds: dict[str, SiteStats]
    overall: SiteStats

    # -- learning -----------------------------------------------------------------
    @classmethod
    def learn(cls, train_sites: Sequence[str | None], y: np.ndarray, p_train: np.ndarray,
              rank_sites: Sequence[str | None] = (), p_rank: np.ndarray | None = None) -> SiteTable:
        """Learn from the training side (sites, labels, pooled-calibrated scores) and rank
        on the questions the model did not fit (``rank_sites``/``p_rank``)."""
        sites = np.asarray([s or "" for s in train_sites], dtype=object)
        y = np.asarray(y, dtype=float)
        p_train = np.asarray(p_train, dtype=float)
        kinds = np.asarray([site_kind(s) if s else "" for s in sites], dtype=object)
        overall = SiteStats("", len(y), float(y.mean()), matching_shift(p_train, float(y.mean())))
        kind_stats: dict[str, SiteStats] = {}
        for kind in sorted(set(kinds) - {""}):
            m = kinds == kind
            kind_stats[kind] = SiteStats(kind, int(m.sum()), float(y[m].mean()),
                                         matching_shift(p_train[m], float(y[m].mean())))
        site_stats: dict[str, SiteStats] = {}
        for site in sorted(set(sites) - {""}):
            m = sites == site
            n = int(m.sum())
            prior = kind_stats.get(site_kind(site), overall)
            own = matching_shift(p_train[m], float(y[m].mean()))
            weight = n / (n + SHRINK_QUESTIONS)
            site_stats[site] = SiteStats(site_kind(site), n, float(y[m].mean()),
                                         weight * own + (1 - weight) * prior.shift)
        table = cls(site_stats, kind_stats, overall)
        if p_rank is not None and len(rank_sites):
            table.rank(rank_sites, np.asarray(p_rank, dtype=float))
        return table

    def rank(self, rank_sites: Sequence[str | None], p_pooled: np.ndarray) -> None:
        """(Re)learn the percentiles from these questions' pooled-calibrated scores: the
        quantiles of their *site-calibrated* scores, as the writer will see them."""
        p = self.adjust(rank_sites, p_pooled)
        sites = np.asarray([s or "" for s in rank_sites], dtype=object)
        grid = np.linspace(0, 1, QUANTILES + 1)

        def q(values: np.ndarray) -> list[float]:
            return [round(float(v), 6) for v in np.quantile(values, grid)] if len(values) else []

        self.overall.quantiles = q(p)
        for kind, stats in self.kinds.items():
            stats.quantiles = q(p[[site_kind(s) == kind if s else False for s in sites]])
        for site, stats in self.by_site.items():
            values = p[sites == site]
            stats.quantiles = q(values) if len(values) >= MIN_PERCENTILE_QUESTIONS else []

    # -- use ------------------------------------------------------------------------
    def _stats(self, site: str | None) -> tuple[SiteStats, bool]:
        if site and site in self.by_site:
            return self.by_site[site], True
        if site:
            return self.kinds.get(site_kind(site), self.overall), False
        return self.overall, False

    def shift(self, site: str | None) -> float:
        """The log-odds shift for a site (its own, its kind's if unseen, the pooled one if
        no site is given)."""
        return self._stats(site)[0].shift

    def adjust(self, sites: Sequence[str | None], p: np.ndarray) -> np.ndarray:
        """Site-calibrated probabilities from the model's pooled-calibrated ones."""
        p = np.asarray(p, dtype=float)
        if not len(p):
            return p
        shifts = np.array([self.shift(s) for s in sites], dtype=float)
        return _sigmoid(_logit(p) + shifts)

    def context(self, site: str | None) -> SiteContext:
        stats, known = self._stats(site)
        return SiteContext(site or None, known, site_kind(site) if site else None,
                           stats.base_rate, stats.questions if known else 0)

    def percentile(self, site: str | None, p: float) -> float | None:
        """Share (0–100) of the site's scored questions below ``p`` (its kind's when the
        site has too few, all sites' when no site is given)."""
        stats, _ = self._stats(site)
        quantiles = stats.quantiles
        if not quantiles and site:
            quantiles = self.kinds.get(site_kind(site), self.overall).quantiles
        if not quantiles:
            quantiles = self.overall.quantiles
        if not quantiles:
            return None
        q = np.asarray(quantiles)
        # a tie (many questions with the same score) counts as half below, half above
        below = np.searchsorted(q, p, side="left")
        not_above = np.searchsorted(q, p, side="right")
        return round(float(100.0 * (below + not_above) / (2 * len(q))), 1)

    def sites(self) -> list[SiteContext]:
        """The sites the model was trained on, most questions first."""
        return sorted((self.context(s) for s in self.by_site),
                      key=lambda c: (-c.questions, c.name or ""))

    # -- model.json -----------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        def one(s: SiteStats) -> dict[str, Any]:
            return {"kind": s.kind, "questions": s.questions, "base_rate": round(s.base_rate, 6),
                    "shift": round(s.shift, 6), "quantiles": s.quantiles}

        return {"version": 1, "shrink_questions": SHRINK_QUESTIONS,
                "overall": one(self.overall),
                "kinds": {k: one(v) for k, v in self.kinds.items()},
                "sites": {k: one(v) for k, v in self.by_site.items()}}

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> SiteTable:
        def one(d: Mapping[str, Any]) -> SiteStats:
            return SiteStats(str(d.get("kind", "")), int(d["questions"]), float(d["base_rate"]),
                             float(d.get("shift", 0.0)), [float(v) for v in d.get("quantiles") or []])

        return cls({k: one(v) for k, v in (payload.get("sites") or {}).items()},
                   {k: one(v) for k, v in (payload.get("kinds") or {}).items()},
                   one(payload["overall"]))

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> SiteTable | None:
        """The table a model's meta carries (None for models trained before it existed)."""
        payload = meta.get("sites") if hasattr(meta, "get") else None
        if not isinstance(payload, Mapping) or "overall" not in payload:
            return None
        return cls.from_json(payload)
