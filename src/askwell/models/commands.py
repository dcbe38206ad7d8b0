"""CLI glue for training, comparing, listing and promoting models."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from askwell.config import Settings
from askwell.data.store import DatasetStore
from askwell.models.training import TrainResult, prepare, train, train_on
from askwell.registry.mlflow_registry import Registry, VersionInfo

COMPARE_COLUMNS = (
    "accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "brier", "log_loss",
)


def _f(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


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
    site_kinds: tuple[str, ...] | None, as_json: bool,
) -> dict[str, Any]:
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
    if not as_json:
        _print_train(payload)
    return payload


def _print_train(payload: dict[str, Any]) -> None:
    out = Console()
    table = Table("metric", "test", "train", title=f"{payload['model']} · {payload['label']} label · {payload['split']} split")
    for key in COMPARE_COLUMNS:
        table.add_row(key, _f(payload["test"].get(key)), _f(payload["train"].get(key)))
    out.print(table)
    seg = Table("site kind", "n", "roc_auc", "brier", title="per segment (test)")
    for name, m in sorted(payload["segments"]["site_kind"].items()):
        seg.add_row(name, str(m["n"]), _f(m["roc_auc"]), _f(m["brier"]))
    out.print(seg)
    lat = payload["latency_ms"]
    out.print(
        f"threshold {payload['threshold']:.3f} · trained in {payload['train_seconds']:.1f}s · "
        f"one question p50 {lat.get('p50', 0):.2f} ms, p99 {lat.get('p99', 0):.2f} ms"
    )
    if "registered" in payload:
        r = payload["registered"]
        out.print(f"registered [bold]{r['name']}[/] version {r['version']} (run {r['run_id'][:8]}); "
                  f"promote with `askwell models promote {r['name']} {r['version']} --alias champion`")
    if "saved_to" in payload:
        out.print(f"saved to {payload['saved_to']}")


def run_compare(
    settings: Settings, *, families: list[str], labels: list[str], splits: list[str], seed: int,
    dataset: str | None, as_json: bool,
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
    if not as_json:
        short = {"accuracy": "acc", "precision": "prec", "recall": "rec", "f1": "f1", "roc_auc": "auc",
                 "pr_auc": "pr_auc", "brier": "brier", "log_loss": "logloss"}
        table = Table("label", "split", "model", *(short[k] for k in COMPARE_COLUMNS), "train s",
                      "p50 ms", "p99 ms", title=f"compare on {ds.id}", padding=(0, 1))
        for r in rows:
            table.add_row(r["label"], r["split"], r["model"], *[_f(r[k]) for k in COMPARE_COLUMNS],
                          f"{r['train_seconds']:.1f}", _f(r["latency_p50_ms"]), _f(r["latency_p99_ms"]))
        out = Console()
        if not out.is_terminal:
            out = Console(width=150)
        out.print(table)
    return rows
