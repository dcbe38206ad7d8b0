"""``askwell evaluate``: metrics with CIs, errors, slices, leakage, comparison -> HTML + JSON."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from askwell.cli.common import JsonFlag, commands, console, emit_json, settings

if TYPE_CHECKING:
    from askwell.evaluation.commands import EvaluationRun

app = commands()


@app.command("evaluate")
def evaluate_cmd(
    model: Annotated[str, typer.Argument(help="Registered NAME[:VERSION|ALIAS] (alias champion by "
                                              "default), a model folder, or 'default'.")],
    against: Annotated[list[str] | None, typer.Option("--against", help="Compare with this model "
                                                      "(repeatable).")] = None,
    split: Annotated[str | None, typer.Option(help="time | author | random (default: the model's; "
                                                   "another re-fits the model on it).")] = None,
    label: Annotated[str | None, typer.Option(help="Label spec (default: the model's).")] = None,
    dataset: Annotated[str | None, typer.Option(help="Dataset id (default: the model's).")] = None,
    cv: Annotated[int, typer.Option("--cv", help="K-fold cross-validation (0 skips).")] = 0,
    html: Annotated[Path | None, typer.Option("--html", help="HTML report path (default: the "
                                                             "reports folder).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="JSON figures path (default: beside "
                                                           "the HTML report).")] = None,
    target_precision: Annotated[float | None, typer.Option(help="Flag precision to reach (default 0.8).")] = None,
    target_recall: Annotated[float | None, typer.Option(help="Flag recall to reach instead.")] = None,
    flag: Annotated[str, typer.Option(help="Class a flag points at: bad (advice) | good.")] = "bad",
    top_k: Annotated[int, typer.Option(help="Examples per top-k list.")] = 5,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed for bootstrap and sampling.")] = 0,
    learning_curve: Annotated[bool, typer.Option(help="Fit learning curves.")] = True,
    sites_out: Annotated[bool, typer.Option(help="Leave-one-site-out over the main sites (one "
                                                 "re-fit per site).")] = True,
    permutation: Annotated[bool, typer.Option(help="Permutation importance.")] = True,
    error_map: Annotated[bool, typer.Option(help="2-D error map.")] = True,
    fast: Annotated[bool, typer.Option(help="Skip learning curves, permutation, CV and "
                                            "leave-one-site-out.")] = False,
    log: Annotated[bool, typer.Option(help="Log the report to the model's MLflow run.")] = True,
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate a model: metrics with CIs, errors, slices, leakage, comparison -> HTML + JSON.

    With --json the report's figures (the same as the JSON file) go to stdout."""
    from askwell.evaluation.commands import report_json, run_evaluate
    from askwell.evaluation.evaluate import EvaluationConfig

    config = EvaluationConfig(
        top_k=top_k, n_boot=bootstrap, seed=seed, target_precision=target_precision,
        target_recall=target_recall, flag=flag, cv=0 if fast else cv,
        learning_curve=learning_curve and not fast, permutation=permutation and not fast,
        error_map=error_map, sites_out=sites_out and not fast,
    )
    run = run_evaluate(settings(), model, against=against, label=label, split=split, dataset=dataset,
                       config=config, html_path=html, json_path=out, tracking_uri=tracking_uri,
                       log_artifacts=log)
    if as_json:
        emit_json({**report_json(run.report), "files": {"html": str(run.html_path),
                                                        "json": str(run.json_path)},
                   "logged_to": run.logged_to, "seconds": round(run.seconds, 3)})
        return
    print_summary(run)


def _f(v: Any, digits: int = 3) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{digits}f}"


def _ci(m: dict[str, Any]) -> str:
    if m.get("low") is None:
        return _f(m.get("value"))
    return f"{_f(m['value'])} [dim][{_f(m['low'])}, {_f(m['high'])}][/]"


def print_summary(run: EvaluationRun, out: Console | None = None) -> None:
    """Headline metrics, notes, the leakage alarm, findings, the worst segment, the files."""
    out = out or console()
    r = run.report
    m = r["metrics"]
    d = r["data"]
    title = (f"{r['model']['name']} · {d['label']} label · {d['split']} split · "
             f"{d['rows']['test']:,} held-out questions")
    table = Table("metric", "held-out (95% CI)", "train (95% CI)", title=escape(title))
    for name in m["names"]:
        table.add_row(escape(name), _ci(m["held_out"][name]), _ci(m["train"][name]))
    out.print(table)
    for note in d.get("notes", []):
        out.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    if r.get("leakage", {}).get("flagged"):
        out.print(Panel(escape(r["leakage"]["text"]), title="leakage alarm", border_style="red"))
    styles = {"pass": "green", "warn": "yellow", "fail": "bold red"}
    findings = r.get("findings") or [{"status": "", "text": line} for line in r["headline"]]
    out.print(Panel("\n".join(f"[{styles.get(f['status'], 'dim')}]{f['status'] or '•':>4}[/] {escape(f['text'])}"
                              for f in findings[1:]), title="findings"))
    worst = r["segments"].get("worst")
    if worst:
        seg = Table("dimension", "segment", "n", "ROC AUC", "gap", title="worst segment")
        seg.add_row(escape(worst["dimension"]), escape(worst["segment"]), str(worst["n"]),
                    _f(worst["roc_auc"]), _f(worst["gap"]))
        out.print(seg)
    out.print(f"report: {escape(str(run.html_path))}\nfigures: {escape(str(run.json_path))}", highlight=False)
    if run.logged_to:
        out.print(f"logged to MLflow run {run.logged_to[:8]} (artifacts/evaluation/)", highlight=False)
    out.print(f"[dim]evaluated in {run.seconds:.1f}s[/]")
