"""``askwell models ...``: compare families, list the registry, promote, rebuild the default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from askwell.cli.common import JsonFlag, console, emit_json, err_console, group, settings
from askwell.cli.train import COMPARE_COLUMNS, fmt

app = group("Models: compare, list, promote.")


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@app.command("compare")
def models_compare(
    models: Annotated[str, typer.Option(help="Comma-separated families.")] = "heuristic,linear,features,book-v1,stacked",
    labels: Annotated[str, typer.Option(help="Comma-separated label specs.")] = "grade,book",
    splits: Annotated[str, typer.Option(help="Comma-separated splits.")] = "author,time",
    seed: Annotated[int, typer.Option(help="Random seed for every model and split.")] = 42,
    dataset: Annotated[str | None, typer.Option(help="Dataset id (default: latest).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Train and evaluate several models on the same splits; print one table."""
    from askwell.data.store import DatasetStore
    from askwell.models.commands import run_compare

    rows = run_compare(
        settings(), families=_csv(models), labels=_csv(labels), splits=_csv(splits),
        seed=seed, dataset=dataset,
    )
    if as_json:
        emit_json(rows)
        return
    print_compare(rows, DatasetStore(settings().datasets_dir).resolve(dataset).id)


def print_compare(rows: list[dict[str, Any]], dataset_id: str) -> None:
    short = {"accuracy": "acc", "precision": "prec", "recall": "rec", "f1": "f1", "roc_auc": "auc",
             "pr_auc": "pr_auc", "brier": "brier", "log_loss": "logloss"}
    table = Table("label", "split", "model", *(short[k] for k in COMPARE_COLUMNS), "train s",
                  "p50 ms", "p99 ms", title=f"compare on {dataset_id}", padding=(0, 1))
    for r in rows:
        table.add_row(escape(r["label"]), escape(r["split"]), escape(r["model"]),
                      *[fmt(r[k]) for k in COMPARE_COLUMNS],
                      f"{r['train_seconds']:.1f}", fmt(r["latency_p50_ms"]), fmt(r["latency_p99_ms"]))
    out = console()
    if not out.is_terminal:
        out = Console(width=150)
    out.print(table)


@app.command("list")
def models_list(
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Registered models, their versions and aliases."""
    from askwell.registry.mlflow_registry import Registry

    registry = Registry.for_home(settings().home, tracking_uri)
    rows = [
        {"name": v.name, "version": v.version, "aliases": list(v.aliases), **v.tags}
        for name in registry.models() for v in registry.versions(name)
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table("name", "version", "aliases", "family", "label", "split", "dataset")
    for r in rows:
        table.add_row(*(escape(str(x)) for x in (
            r["name"], r["version"], ",".join(r["aliases"]), r.get("family", ""),
            r.get("label", ""), r.get("split", ""), r.get("dataset_id", ""))))
    console().print(table)


@app.command("build-default")
def models_build_default(
    dataset: Annotated[str | None, typer.Option(help="Dataset id (default: ingest both shared "
                                                     "dump folders, as quickstart does).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the model folder here instead of the package.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Rebuild the packaged default model from the shared dumps (features, grade, time split)."""
    from askwell.data.store import DatasetStore
    from askwell.models.default import build_default_model, default_model_dir

    if dataset:
        ds = DatasetStore(settings().datasets_dir).resolve(dataset)
    else:  # both shared dump folders, ingested here (instant when they already are)
        from askwell.data.commands import run_ingest

        ds = run_ingest(settings(), None, site=None, force=False, quiet=as_json).dataset
    with err_console().status(f"training the default model on {ds.id} and holding out each main site"):
        result = build_default_model(ds, out)
    target = out or default_model_dir()
    payload = {"path": str(target), "dataset_id": ds.id, "test": result.metrics,
               "threshold": result.model.threshold}
    if as_json:
        emit_json(payload)
        return
    m = result.metrics
    console().print(
        f"default model written to {escape(str(target))}: ROC AUC {m['roc_auc']:.3f}, Brier "
        f"{m['brier']:.3f}, threshold {result.model.threshold:.3f} (model card: "
        f"{escape(str(target / 'MODEL_CARD.md'))})", highlight=False,
    )


@app.command("promote")
def models_promote(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[str, typer.Argument(help="Version number (or 'latest').")],
    alias: Annotated[str, typer.Option(help="Alias to set.")] = "champion",
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Point an alias (champion, challenger) at a registered version."""
    from askwell.registry.mlflow_registry import Registry

    info = Registry.for_home(settings().home, tracking_uri).promote(name, version, alias)
    if as_json:
        emit_json({"name": info.name, "version": info.version, "alias": alias})
        return
    console().print(f"{escape(info.name)} version {info.version} is now [bold]{escape(alias)}[/]")
