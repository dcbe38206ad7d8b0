"""``askwell train``: train, calibrate and evaluate one model; log and register it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from askwell.cli.common import JsonFlag, commands, console, emit_json, settings

app = commands()

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="heuristic | linear | features | book-v1 | stacked")]
LabelOpt = Annotated[str, typer.Option(help="Label spec: grade | book.")]
SplitOpt = Annotated[str, typer.Option(help="Split: time | author | random.")]

COMPARE_COLUMNS = (
    "accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "brier", "log_loss",
)


def fmt(value: Any) -> str:
    """A metric for a table: 3 decimals, '-' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else escape(str(value))


@app.command("train")
def train_cmd(
    model: ModelOpt = "features",
    label: LabelOpt = "grade",
    split: SplitOpt = "time",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same model).")] = 42,
    dataset: Annotated[str | None, typer.Option(help="Dataset id (default: latest).")] = None,
    name: Annotated[str | None, typer.Option(help="Registered model name.")] = None,
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI.")] = None,
    out: Annotated[Path | None, typer.Option(help="Also save the model folder here.")] = None,
    register: Annotated[bool, typer.Option(help="Log to MLflow and register a version.")] = True,
    main_only: Annotated[bool, typer.Option(help="Train on main sites only (no meta).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Train, calibrate and evaluate a model; log it to MLflow and register a version."""
    from askwell.models.commands import run_train

    payload = run_train(
        settings(), family=model, label=label, split=split, seed=seed, dataset=dataset,
        name=name, tracking_uri=tracking_uri, out=out, register_model=register,
        site_kinds=("main",) if main_only else None,
    )
    if as_json:
        emit_json(payload)
        return
    print_train(payload)


def print_train(payload: dict[str, Any]) -> None:
    out = console()
    table = Table("metric", "test", "train",
                  title=escape(f"{payload['model']} · {payload['label']} label · {payload['split']} split"))
    for key in COMPARE_COLUMNS:
        table.add_row(key, fmt(payload["test"].get(key)), fmt(payload["train"].get(key)))
    out.print(table)
    seg = Table("site kind", "n", "roc_auc", "brier", title="per segment (test)")
    for name, m in sorted(payload["segments"]["site_kind"].items()):
        seg.add_row(escape(name), str(m["n"]), fmt(m["roc_auc"]), fmt(m["brier"]))
    out.print(seg)
    lat = payload["latency_ms"]
    out.print(
        f"threshold {payload['threshold']:.3f} · trained in {payload['train_seconds']:.1f}s · "
        f"one question p50 {lat.get('p50', 0):.2f} ms, p99 {lat.get('p99', 0):.2f} ms"
    )
    if "registered" in payload:
        r = payload["registered"]
        name = escape(r["name"])
        out.print(f"registered [bold]{name}[/] version {r['version']} (run {r['run_id'][:8]}); "
                  f"promote with `askwell models promote {name} {r['version']} --alias champion`")
    if "saved_to" in payload:
        out.print(f"saved to {escape(payload['saved_to'])}", highlight=False)
