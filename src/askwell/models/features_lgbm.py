"""``features``: gradient-boosted trees (LightGBM) on the feature registry.

The interpretable model that drives recommendations: its inputs are named, human-readable
features, and LightGBM's TreeSHAP gives exact per-feature contributions to each score in
microseconds (no sampling explainer on the serving path). Saved as LightGBM's own text
format, which holds only numbers and tree structure (no pickle).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from askwell.models.base import FeatureModelBase, sigmoid
from askwell.models.faults import FAULT_PRIORS, FaultPrior, fault_units  # noqa: F401 - re-exported
from askwell.models.lgbm_native import NativeBooster
from askwell.plain import finite_or_none
from askwell.question import Question

if TYPE_CHECKING:
    import pandas as pd

_FILE = "booster.txt"
#: Up to this many rows (one question and its candidate edits) are predicted one by one
#: through LightGBM's single-row C API: the same trees and arithmetic as ``predict``,
#: without its per-call set-up (~0.2 ms, more than the trees themselves cost).
_FAST_ROWS = 64
_RAW, _CONTRIB = 1, 3  # C_API_PREDICT_RAW_SCORE, C_API_PREDICT_CONTRIB


class _SingleRows:
    """LightGBM's ``LGBM_BoosterPredictForMatSingleRowFast`` for one booster and one kind
    of output (raw score or TreeSHAP contributions). Calls are serialised: a fast config
    holds one row buffer."""

    def __init__(self, booster: Any, ncol: int, kind: int) -> None:
        import ctypes
        import threading

        # LightGBM's C library, loaded without importing the lightgbm package (whose import
        # pulls scikit-learn, SciPy and pandas: a cold `askwell analyze` must not pay that)
        from askwell.models.lgbm_native import _check, _lib

        _LIB = _lib()
        self._ctypes, self._lib, self._safe_call = ctypes, _LIB, _check
        self._booster = booster  # keeps the handle alive as long as the config
        self._width = 1 if kind == _RAW else ncol + 1
        self._ncol = ncol
        self._lock = threading.Lock()
        self._handle = ctypes.c_void_p()
        _check(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle, ctypes.c_int(kind), ctypes.c_int(0), ctypes.c_int(-1),
            ctypes.c_int(1), ctypes.c_int32(ncol), b"num_threads=1",
            ctypes.byref(self._handle)))

    def predict(self, x: np.ndarray) -> np.ndarray:
        ctypes = self._ctypes
        rows = np.ascontiguousarray(x, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != self._ncol:
            raise ValueError(f"expected rows of {self._ncol} features, got shape {rows.shape}")
        out = np.empty((len(rows), self._width), dtype=np.float64)
        out_len = ctypes.c_int64(0)
        double_p = ctypes.POINTER(ctypes.c_double)
        with self._lock:
            for i in range(len(rows)):
                self._safe_call(self._lib.LGBM_BoosterPredictForMatSingleRowFast(
                    self._handle, rows[i].ctypes.data_as(ctypes.c_void_p), ctypes.byref(out_len),
                    out[i].ctypes.data_as(double_p)))
        return out

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and handle.value:
            try:  # at interpreter shutdown the library may be gone: nothing left to free
                self._lib.LGBM_FastConfigFree(handle)
            except Exception:
                handle = None


def _features(questions: list[Question], names: list[str] | None = None) -> pd.DataFrame:
    from askwell.features import compute_features

    frame = compute_features(questions)
    return frame if names is None else frame.reindex(columns=names)


def fit_fault_prior(x: pd.DataFrame, y: np.ndarray, strength: float | None) -> list[dict[str, Any]]:
    """Per fault: rows where present, observed log-odds ratio, and the points it costs.

    ``strength`` is the weight of the expert figure in pseudo-questions against the
    observed log-odds ratio (a Bayesian blend, never positive); ``None`` keeps the expert
    figure as it is, for when the observed association is not a cost estimate (confounded
    by site and topic) yet the guidance is clear.
    """
    y = np.asarray(y, dtype=float)
    base = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
    out = []
    for name, rule in FAULT_PRIORS.items():
        if name not in x.columns:
            continue
        present = fault_units(x[name].to_numpy(dtype=float), rule.threshold, rule.below) > 0
        n1 = int(present.sum())
        good1 = float(y[present].sum())
        rate = (good1 + 2 * base) / (n1 + 2)  # shrunk toward the base rate
        observed = float(np.log(rate / (1 - rate)) - np.log(base / (1 - base)))
        if strength is None:
            points = rule.expert
        else:
            points = min(0.0, (n1 * observed + strength * rule.expert) / (n1 + strength))
        out.append({"feature": name, "threshold": rule.threshold, "below": rule.below,
                    "cap": rule.cap, "points": points, "expert": rule.expert,
                    "observed": observed, "n_present": n1})
    return out


def monotone_constraints(names: list[str]) -> list[int]:
    """LightGBM monotone constraints: the writer-facing direction of each actionable
    feature (+1 more is better, -1 less is better), 0 for everything else."""
    from askwell.features.registry import get_spec

    return [spec.direction if spec.actionable else 0 for spec in map(get_spec, names)]


def build_reference(x: pd.DataFrame, y: np.ndarray, sites: list[str | None]) -> dict[str, Any]:
    """What "typical" looks like, kept with the model (plain JSON).

    ``typical``: medians of well-received questions, overall and per site with at least
    ``MIN_SITE_ROWS`` of them (suggestions move a feature there). ``quantiles``: the 1st,
    50th and 99th percentile of every feature over all training questions (safeguards use
    them to spot inputs far from what the model saw).
    """
    import pandas as pd

    good = x[np.asarray(y) == 1]
    site_series = pd.Series(sites, index=x.index).fillna("")
    typical = {"*": _medians(good)}
    for site, rows in good.groupby(site_series[good.index]):
        if site and len(rows) >= MIN_SITE_ROWS:
            typical[str(site)] = _medians(rows)
    q = x.quantile([0.01, 0.5, 0.99])
    quantiles = {c: [finite_or_none(v) for v in q[c].tolist()] for c in x.columns}
    return {"typical": typical, "quantiles": quantiles, "rows": len(x)}


MIN_SITE_ROWS = 30


def _medians(frame: pd.DataFrame) -> dict[str, float | None]:
    return {c: finite_or_none(v) for c, v in frame.median().items()}


class FeaturesModel(FeatureModelBase):
    family = "features"
    estimator_files: ClassVar[tuple[str, ...]] = (_FILE,)
    #: ``matrix`` is the registry's features of each question, in ``feature_names_`` order,
    #: so the recommendation engine may compute it from the analysis it already made.
    registry_matrix = True

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.03,
        num_leaves: int = 5,
        min_child_samples: int = 60,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        groups: list[str] | None = None,
        prior: bool = True,
        prior_strength: float | None = None,
        monotone: bool = True,
        seed: int = 42,
        **extra: Any,
    ) -> None:
        super().__init__(
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            num_leaves=num_leaves,
            min_child_samples=min_child_samples,
            subsample=subsample,
            colsample_bytree=colsample_bytree,
            reg_lambda=reg_lambda,
            groups=groups,
            prior=prior,
            prior_strength=prior_strength,
            monotone=monotone,
            seed=seed,
            **extra,
        )
        self.booster_: Any = None  # a NativeBooster once fitted or loaded

    @property
    def reference_(self) -> dict[str, Any]:
        """What "typical" looks like, learned by ``fit`` (see :func:`build_reference`)."""
        return self.meta.extra.get("reference") or {}

    @property
    def prior_(self) -> list[dict[str, Any]]:
        """The fault prior learned by ``fit`` (see :func:`fit_fault_prior`)."""
        return self.meta.extra.get("prior") or []

    def _lgb_params(self) -> dict[str, Any]:
        p = self.params
        return {
            "objective": "binary",
            "learning_rate": p["learning_rate"],
            "num_leaves": p["num_leaves"],
            "min_data_in_leaf": p["min_child_samples"],
            "bagging_fraction": p["subsample"],
            "bagging_freq": 1 if p["subsample"] < 1 else 0,
            "feature_fraction": p["colsample_bytree"],
            "lambda_l2": p["reg_lambda"],
            "seed": p["seed"],
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": 1,
            "verbosity": -1,
        }

    def _selected(self, frame: pd.DataFrame) -> pd.DataFrame:
        groups = self.params.get("groups")
        if not groups:
            return frame
        from askwell.features import feature_names

        return frame[feature_names(groups=groups)]

    def _fit_raw(self, questions: list[Question], y: np.ndarray) -> None:
        self._fit_trees(questions, y)

    def _fit_trees(self, questions: list[Question], y: np.ndarray,
                   extra: dict[str, np.ndarray] | None = None) -> None:
        """Fit the trees on the registry features, plus ``extra`` columns after them (a
        stacked model's text score: no writer-facing direction but "more is better",
        kept out of the reference, which describes registry features only)."""
        import lightgbm as lgb

        x = self._selected(_features(questions))
        self.meta.extra["reference"] = build_reference(x, y, [q.site for q in questions])
        self.meta.extra["prior"] = (
            fit_fault_prior(x, y, self.params["prior_strength"]) if self.params.get("prior") else []
        )
        params = self._lgb_params()
        if self.params.get("monotone"):
            params["monotone_constraints"] = [*monotone_constraints(list(x.columns)),
                                              *([1] * len(extra or {}))]
        for name, column in (extra or {}).items():
            x = x.assign(**{name: column})
        self.feature_names_ = list(x.columns)
        matrix = x.to_numpy(dtype=float)
        data = lgb.Dataset(matrix, label=y, feature_name=self.feature_names_,
                           init_score=self._prior_points(matrix).sum(axis=1), free_raw_data=True)
        trained = lgb.train(params, data, num_boost_round=self.params["n_estimators"])
        # One scoring path: the trained model is scored exactly as a loaded one is.
        self.booster_ = NativeBooster.from_string(trained.model_to_string(importance_type="gain"))

    def matrix(self, questions: Sequence[Question]) -> np.ndarray:
        """The model's input matrix (features in the model's order; no pandas on this path)."""
        from askwell.features.registry import feature_array

        return feature_array(questions, self.feature_names_)

    def _prior_points(self, x: np.ndarray) -> np.ndarray:
        """Fault-prior log-odds per row and feature (zeros where no prior applies): the
        :func:`fault_units` of every rule at once, on the rules' columns."""
        cols, threshold, below, cap, points_per_unit = self._prior_arrays()
        points = np.zeros_like(x, dtype=float)
        if len(cols):
            values = np.nan_to_num(np.asarray(x[:, cols], dtype=float), nan=0.0)
            units = np.where(below, (values < threshold).astype(float),
                             np.minimum(np.floor(values / threshold), cap))
            points[:, cols] = units * points_per_unit
        return points

    def _prior_arrays(self) -> tuple[np.ndarray, ...]:
        """The prior's rules as arrays (columns, thresholds, below, caps, points), kept
        until the rules or the features change."""
        rules = self.prior_
        key = (id(rules), len(rules), tuple(self.feature_names_))
        cached = self.__dict__.get("_prior_cache")
        if cached is not None and cached[0] == key:
            return cached[1]
        index = {n: j for j, n in enumerate(self.feature_names_)}
        kept = [r for r in rules if r["feature"] in index]
        arrays = (np.array([index[r["feature"]] for r in kept], dtype=np.intp),
                  np.array([float(r["threshold"]) for r in kept]),
                  np.array([bool(r.get("below", False)) for r in kept]),
                  np.array([float(r.get("cap", 1)) for r in kept]),
                  np.array([float(r["points"]) for r in kept]))
        self.__dict__["_prior_cache"] = (key, arrays)
        return arrays

    def raw_from_matrix(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated probability from a ready feature matrix (used by re-scoring)."""
        if len(x) <= _FAST_ROWS:
            raw = self._fast(_RAW).predict(x)[:, 0]
        else:
            raw = self.booster_.predict(x, raw_score=True, num_threads=1)
        return sigmoid(raw + self._prior_points(x).sum(axis=1))

    def _fast(self, kind: int) -> _SingleRows:
        """LightGBM's single-row predictor for this booster (made on first use)."""
        cache = self.__dict__.setdefault("_fast_predictors", {})
        key = (id(self.booster_), kind)
        if key not in cache:
            cache.clear() if len(cache) > 4 else None
            cache[key] = _SingleRows(self.booster_, len(self.feature_names_), kind)
        return cache[key]

    def contributions_from_matrix(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact TreeSHAP contributions (log-odds) and the base value, per row."""
        if len(x) <= _FAST_ROWS:
            out = self._fast(_CONTRIB).predict(x)
        else:
            out = self.booster_.predict(x, pred_contrib=True, num_threads=1)
        return out[:, :-1] + self._prior_points(x), out[:, -1]

    def feature_importance(self) -> dict[str, float]:
        gain = self.booster_.feature_importance(importance_type="gain")
        return dict(zip(self.feature_names_, map(float, gain), strict=True))

    def _save_estimator(self, folder: Path) -> None:
        self.booster_.save_model(str(folder / _FILE), importance_type="gain")

    def _load_estimator(self, folder: Path) -> None:
        from askwell.models.booster_check import verify_booster

        verify_booster(folder / _FILE)  # LightGBM aborts the process on a damaged file
        # LightGBM's C library without its Python package (which imports scikit-learn,
        # SciPy and pandas): see askwell.models.lgbm_native.
        self.booster_ = NativeBooster.from_file(folder / _FILE)
        self.feature_names_ = list(self.booster_.feature_name())
        expected = self.meta.feature_spec
        if expected and expected != self.feature_names_:
            from askwell.models.artifacts import ArtifactError

            raise ArtifactError("booster features do not match the model's feature spec")


__all__ = ["FeaturesModel", "sigmoid"]
