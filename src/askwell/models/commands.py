"""Training, comparing and registering models for the CLI: functions that return data
(:mod:`askwell.cli.models` and :mod:`askwell.cli.train` print it)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from askwell.config import Settings
from askwell.data.store import DatasetStore
from askwell.models.training import TrainResult, prepare, train, train_on
from askwell.registry.mlflow_registry import Registry, VersionInfo

COMPARE_COLUMNS = (
    "accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "brier", "log_loss",
)


def flat_params(result: TrainResult) -> dict[str, Any]:
    meta = result.model.meta
    return {
        "family": meta["family"], "label": result.data.label, "split": result.data.split,
        "seed": result.data.seed, "dataset_id": meta.get("dataset_id"),
        "threshold": meta["threshold"], **{f"param.{k}": v for k, v in meta["params"].items()},
    }


def flat_metrics(result: TrainResult) -> dict[str, float]:
    out = {f"test_{k}": v for k, v in result.metrics.items() if isinstance(v, float) and not math.isnan(v)}
    out |= {f"train_{k}": v for k, v in result.train_metrics.items() if isinstance(v, float) and not math.isnan(v)}
    out["train_seconds"] = result.train_seconds
    out |= {f"latency_ms_{k}": v for k, v in result.latency_ms.items()}
    return out


def register(settings: Settings, result: TrainResult, name: str, tracking_uri: str | None) -> VersionInfo:
    """Save the model folder, log the run to MLflow and register a new version."""
    registry = Registry.for_home(settings.home, tracking_uri)
    with tempfile.TemporaryDirectory(dir=settings.home) as tmp:
        folder = result.model.save(Path(tmp) / "model")
        tags = {
            "family": result.model.family, "label": result.data.label,
            "split": result.data.split, "dataset_id": str(result.model.meta.get("dataset_id")),
        }
        return registry.log_model(
            name, folder, params=flat_params(result), metrics=flat_metrics(result), tags=tags
        )


def run_train(
    settings: Settings, *, family: str, label: str, split: str, seed: int, dataset: str | None,
    name: str | None, tracking_uri: str | None, out: Path | None, register_model: bool,
    site_kinds: tuple[str, ...] | None,
) -> dict[str, Any]:
    """Train (and register) one model; the figures as a dict (the CLI prints them)."""
    ds = DatasetStore(settings.datasets_dir).resolve(dataset)
    console = Console(stderr=True)
    with console.status(f"training {family} on {ds.id} ({label} label, {split} split)"):
        result = train(ds, family, label=label, split=split, seed=seed, site_kinds=site_kinds)
    payload: dict[str, Any] = {
        "model": family, "label": label, "split": split, "seed": seed, "dataset_id": ds.id,
        "threshold": result.model.threshold, "test": result.metrics, "train": result.train_metrics,
        "train_seconds": result.train_seconds, "latency_ms": result.latency_ms,
        "segments": result.segments,
    }
    if out:
        result.model.save(out)
        payload["saved_to"] = str(out)
    if register_model:
        with console.status("logging to MLflow and registering"):
            info = register(settings, result, name or f"askwell-{family}", tracking_uri)
        payload["registered"] = {"name": info.name, "version": info.version, "run_id": info.run_id}
    return payload


def run_compare(
    settings: Settings, *, families: list[str], labels: list[str], splits: list[str], seed: int,
    dataset: str | None,
) -> list[dict[str, Any]]:
    """Train every family on the same prepared split; one row per (label, split, model)."""
    ds = DatasetStore(settings.datasets_dir).resolve(dataset)
    frame = ds.to_pandas()
    rows: list[dict[str, Any]] = []
    console = Console(stderr=True)
    for label in labels:
        for split in splits:
            data = prepare(frame, label=label, split=split, seed=seed)
            for family in families:
                with console.status(f"{label} · {split} · {family}"):
                    result = train_on(data, family, dataset_id=ds.id)
                rows.append({
                    "label": label, "split": split, "model": family,
                    **{k: result.metrics[k] for k in COMPARE_COLUMNS},
                    "train_seconds": result.train_seconds,
                    "latency_p50_ms": result.latency_ms.get("p50"),
                    "latency_p99_ms": result.latency_ms.get("p99"),
                    "n_test": result.metrics["n"],
                    "by_site_kind": {k: {"roc_auc": v["roc_auc"], "brier": v["brier"], "n": v["n"]}
                                     for k, v in result.segments["site_kind"].items()},
                })
    return rows
