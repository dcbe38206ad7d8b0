"""Train, calibrate and evaluate one model on one labelled split — the ``askwell train`` core.

The split is made once (train / test); the training side is split again the same way into
a fitting part and a calibration fold, so calibration and the decision threshold are
chosen on data the model never fit, and the test side is only touched for the final
figures. Same dataset + same seed = same model and same metrics.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from askwell.data.store import Dataset
from askwell.evaluation.metrics import classification_metrics
from askwell.models.base import BaseModel, make_model
from askwell.question import questions_from_frame

CALIBRATION_FRACTION = 0.2


@dataclass
class PreparedData:
    """A labelled dataset split into fit / calibration / test frames."""

    label: str
    split: str
    seed: int
    fit: pd.DataFrame
    calibration: pd.DataFrame
    test: pd.DataFrame
    leakage: dict[str, Any] = field(default_factory=dict)
    site_kinds: tuple[str, ...] | None = None

    @property
    def train(self) -> pd.DataFrame:
        return pd.concat([self.fit, self.calibration])


@dataclass
class TrainResult:
    model: BaseModel
    data: PreparedData
    metrics: dict[str, Any]
    train_metrics: dict[str, Any]
    segments: dict[str, dict[str, dict[str, Any]]]
    train_seconds: float
    latency_ms: dict[str, float]


def prepare(
    frame: pd.DataFrame,
    *,
    label: str = "grade",
    split: str = "time",
    seed: int = 42,
    test_size: float = 0.2,
    site_kinds: tuple[str, ...] | None = None,
) -> PreparedData:
    """Label the questions (dropping neutrals), then split test and calibration folds."""
    from askwell.data.labels import apply_label
    from askwell.data.splits import make_split

    if site_kinds:
        frame = frame[frame["site_kind"].isin(site_kinds)]
    labelled = apply_label(frame, label).reset_index(drop=True)
    outer = make_split(labelled, kind=split, seed=seed, test_size=test_size)
    train = labelled.iloc[outer.train].reset_index(drop=True)
    test = labelled.iloc[outer.test].reset_index(drop=True)
    inner = make_split(train, kind=split, seed=seed + 1, test_size=CALIBRATION_FRACTION)
    return PreparedData(
        label=label,
        split=split,
        seed=seed,
        fit=train.iloc[inner.train].reset_index(drop=True),
        calibration=train.iloc[inner.test].reset_index(drop=True),
        test=test,
        leakage=outer.leakage_dict(),
        site_kinds=site_kinds,
    )


def segment_metrics(
    frame: pd.DataFrame, p: np.ndarray, threshold: float, by: str, min_rows: int = 30
) -> dict[str, dict[str, Any]]:
    """Metrics per value of column ``by`` (segments smaller than ``min_rows`` skipped)."""
    out: dict[str, dict[str, Any]] = {}
    for value, idx in frame.groupby(by).indices.items():
        if len(idx) >= min_rows:
            out[str(value)] = classification_metrics(frame["label"].to_numpy()[idx], p[idx], threshold)
    return out


def single_latency_ms(model: BaseModel, frame: pd.DataFrame, n: int = 100) -> dict[str, float]:
    """p50/p99 of scoring one question at a time (features included)."""
    qs = questions_from_frame(frame.head(n))
    timings = []
    for q in qs:
        t0 = time.perf_counter()
        model.predict_proba([q])
        timings.append((time.perf_counter() - t0) * 1000)
    arr = np.asarray(timings) if timings else np.zeros(1)
    return {"p50": float(np.percentile(arr, 50)), "p99": float(np.percentile(arr, 99))}


def rank_sites_on_unfitted(model: BaseModel, frame: pd.DataFrame) -> None:
    """Percentiles among the questions the model did not fit (calibration and held-out
    sides): ``fit`` could only rank on its calibration fold, too few per small site."""
    table = model.site_table
    if table is None or not len(frame):
        return
    qs = questions_from_frame(frame)
    table.rank([q.site for q in qs], model.calibration.apply(model.raw_proba(qs)))
    model.meta.extra["sites"] = table.to_json()


def train_on(
    data: PreparedData, family: str, *, dataset_id: str | None = None, params: dict[str, Any] | None = None,
    measure_latency: bool = True,
) -> TrainResult:
    """Fit ``family`` on prepared data and evaluate it on the held-out test side."""
    model = make_model(family, seed=data.seed, **(params or {}))
    started = time.perf_counter()
    model.fit(
        data.fit, data.fit["label"].to_numpy(),
        calibration=(data.calibration, data.calibration["label"].to_numpy()),
    )
    seconds = time.perf_counter() - started
    rank_sites_on_unfitted(model, pd.concat([data.calibration, data.test], ignore_index=True))
    p_test = model.predict_proba(data.test)
    p_train = model.predict_proba(data.fit)
    metrics = classification_metrics(data.test["label"].to_numpy(), p_test, model.threshold)
    train_metrics = classification_metrics(data.fit["label"].to_numpy(), p_train, model.threshold)
    segments = {
        "site_kind": segment_metrics(data.test, p_test, model.threshold, "site_kind"),
        "site": segment_metrics(data.test, p_test, model.threshold, "site"),
    }
    latency = single_latency_ms(model, data.test) if measure_latency else {}
    model.meta.update(
        label=data.label,
        dataset_id=dataset_id,
        metrics={
            "test": metrics,
            "train": train_metrics,
            "segments": segments,
            "split": data.split,
            "seed": data.seed,
            "site_kinds": list(data.site_kinds) if data.site_kinds else None,
            "rows": {"fit": len(data.fit), "calibration": len(data.calibration), "test": len(data.test)},
            "leakage": data.leakage,
            "train_seconds": seconds,
            "latency_ms": latency,
        },
    )
    return TrainResult(model, data, metrics, train_metrics, segments, seconds, latency)


def train(
    dataset: Dataset,
    family: str,
    *,
    label: str = "grade",
    split: str = "time",
    seed: int = 42,
    site_kinds: tuple[str, ...] | None = None,
    params: dict[str, Any] | None = None,
) -> TrainResult:
    """Load, label, split, fit, calibrate, evaluate — and attach the model card."""
    from askwell.registry.cards import build_card

    data = prepare(dataset.to_pandas(), label=label, split=split, seed=seed, site_kinds=site_kinds)
    result = train_on(data, family, dataset_id=dataset.id, params=params)
    result.model.meta["card"] = build_card(result.model, dataset, data)
    return result
