"""The ``askwell`` command: a thin shell over the package's functions.

Every command validates its input, prints a readable table by default and JSON with
``--json``, and turns an :class:`~askwell.errors.AskwellError` into one red line and a
non-zero exit code (a traceback only with ``--debug``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from askwell.config import Settings
from askwell.errors import AskwellError

app = typer.Typer(
    name="askwell",
    help="askwell: score a question, suggest edits, and run the ML lifecycle behind it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Datasets: list, report.", no_args_is_help=True)
app.add_typer(data_app, name="data")
models_app = typer.Typer(help="Models: compare, list, promote.", no_args_is_help=True)
app.add_typer(models_app, name="models")
feedback_app = typer.Typer(help="Feedback from the service: export as labelled data.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")

_state: dict[str, Any] = {"debug": False}


def console() -> Console:
    return Console(stderr=False)


def err_console() -> Console:
    return Console(stderr=True)


def settings() -> Settings:
    return Settings()


def emit_json(payload: Any) -> None:
    """Machine output on stdout, nothing else."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


# ---------------------------------------------------------------- ingest
@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Site dump folders, Posts.xml files or .7z archives. "
                            "Default: every site in the shared data folder."),
    ] = None,
    site: Annotated[str | None, typer.Option(help="Site name (one input only).")] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if the dataset exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Ingest Stack Exchange dumps into a versioned question dataset."""
    from askwell.data.commands import run_ingest

    run_ingest(settings(), paths, site=site, force=force, as_json=as_json)


@app.command()
def quickstart(
    serve: Annotated[bool, typer.Option(help="End by serving the API and the editor.")] = True,
    port: Annotated[int, typer.Option(help="Port for the service.")] = 8000,
) -> None:
    """The main job on embedded defaults: ingest the shared dumps, report on the data, train and
    register a model (promoted to champion if there is none), analyse an example, then serve."""
    from askwell.data.commands import run_data_report, run_ingest
    from askwell.quickstart import example_analysis, train_champion

    s = settings()
    result = run_ingest(s, None, site=None, force=False, as_json=False)
    run_data_report(s, result.dataset.id)
    name = train_champion(s, result.dataset)
    example_analysis(s, name)
    if serve:
        from askwell.quickstart import serve_champion

        serve_champion(s, name, port)


# ---------------------------------------------------------------- data
@data_app.command("list")
def data_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the datasets in the store, newest first."""
    from askwell.data.store import DatasetStore

    found = DatasetStore(settings().datasets_dir).list()
    if as_json:
        emit_json([{"id": d.id, **{k: d.meta[k] for k in ("created", "rows")}} for d in found])
        return
    table = Table("id", "created", "questions", "sites")
    for d in found:
        table.add_row(d.id, d.meta.get("created", ""), str(d.meta.get("rows")), str(len(d.sites)))
    console().print(table)


@data_app.command("report")
def data_report(
    dataset: Annotated[str | None, typer.Argument(help="Dataset id or prefix (default: latest).")] = None,
    label: Annotated[str, typer.Option(help="Label spec: grade | book.")] = "grade",
    html: Annotated[Path | None, typer.Option(help="Write the HTML page here (default: reports folder).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Data-quality report: format, quality, distributions, per-class stats, split leakage."""
    from askwell.data.commands import run_data_report

    run_data_report(settings(), dataset, label=label, html=html, as_json=as_json)


# ---------------------------------------------------------------- analyze
@app.command()
def analyze(
    title: Annotated[str | None, typer.Option(help="The question's title.")] = None,
    body: Annotated[str | None, typer.Option(help="The body (Markdown or HTML).")] = None,
    tags: Annotated[str | None, typer.Option(help="Comma-separated tags.")] = None,
    site: Annotated[str | None, typer.Option(help="Site, e.g. beer.stackexchange.com.")] = None,
    file: Annotated[Path | None, typer.Option(help="A Markdown file (# Title, Tags: line, body) or .json.")] = None,
    model: Annotated[str | None, typer.Option(help="Registered model name[:version|alias].")] = None,
    model_path: Annotated[Path | None, typer.Option(help="A model folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Score a question and list the edits that would raise its chance (JSON on stdin works too)."""
    from askwell.explain.commands import run_analyze

    payload = run_analyze(settings(), title=title, body=body, tags=tags, site=site, file=file,
                          model=model, model_path=model_path, as_json=as_json)
    if as_json:
        emit_json(payload)


# ---------------------------------------------------------------- models
ModelOpt = Annotated[str, typer.Option("--model", "-m", help="heuristic | linear | features | book-v1")]
LabelOpt = Annotated[str, typer.Option(help="Label spec: grade | book.")]
SplitOpt = Annotated[str, typer.Option(help="Split: time | author | random.")]


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


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
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Train, calibrate and evaluate a model; log it to MLflow and register a version."""
    from askwell.models.commands import run_train

    payload = run_train(
        settings(), family=model, label=label, split=split, seed=seed, dataset=dataset,
        name=name, tracking_uri=tracking_uri, out=out, register_model=register,
        site_kinds=("main",) if main_only else None, as_json=as_json,
    )
    if as_json:
        emit_json(payload)


@models_app.command("compare")
def models_compare(
    models: Annotated[str, typer.Option(help="Comma-separated families.")] = "heuristic,linear,features,book-v1",
    labels: Annotated[str, typer.Option(help="Comma-separated label specs.")] = "grade,book",
    splits: Annotated[str, typer.Option(help="Comma-separated splits.")] = "author,time",
    seed: int = 42,
    dataset: Annotated[str | None, typer.Option(help="Dataset id (default: latest).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Train and evaluate several models on the same splits; print one table."""
    from askwell.models.commands import run_compare

    rows = run_compare(
        settings(), families=_csv(models), labels=_csv(labels), splits=_csv(splits),
        seed=seed, dataset=dataset, as_json=as_json,
    )
    if as_json:
        emit_json(rows)


@models_app.command("list")
def models_list(
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
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
        table.add_row(r["name"], r["version"], ",".join(r["aliases"]), r.get("family", ""),
                      r.get("label", ""), r.get("split", ""), r.get("dataset_id", ""))
    console().print(table)


@models_app.command("build-default")
def models_build_default(
    dataset: Annotated[str | None, typer.Option(help="Dataset id (default: latest).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write here instead of the package.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Rebuild the packaged default model from the shared dumps (features, grade, time split)."""
    from askwell.data.store import DatasetStore
    from askwell.models.default import build_default_model, default_model_dir

    ds = DatasetStore(settings().datasets_dir).resolve(dataset)
    with err_console().status(f"training the default model on {ds.id}"):
        result = build_default_model(ds, out)
    target = out or default_model_dir()
    payload = {"path": str(target), "dataset_id": ds.id, "test": result.metrics,
               "threshold": result.model.threshold}
    if as_json:
        emit_json(payload)
        return
    m = result.metrics
    console().print(
        f"default model written to {target}: ROC AUC {m['roc_auc']:.3f}, Brier {m['brier']:.3f}, "
        f"threshold {result.model.threshold:.3f} (model card: {target / 'MODEL_CARD.md'})"
    )


@models_app.command("promote")
def models_promote(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[str, typer.Argument(help="Version number (or 'latest').")],
    alias: Annotated[str, typer.Option(help="Alias to set.")] = "champion",
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI.")] = None,
) -> None:
    """Point an alias (champion, challenger) at a registered version."""
    from askwell.registry.mlflow_registry import Registry

    info = Registry.for_home(settings().home, tracking_uri).promote(name, version, alias)
    console().print(f"{info.name} version {info.version} is now [bold]{alias}[/]")


# ---------------------------------------------------------------- evaluation
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
    html: Annotated[Path | None, typer.Option("--html", help="HTML report path.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="JSON figures path.")] = None,
    target_precision: Annotated[float | None, typer.Option(help="Flag precision to reach (default 0.8).")] = None,
    target_recall: Annotated[float | None, typer.Option(help="Flag recall to reach instead.")] = None,
    flag: Annotated[str, typer.Option(help="Class a flag points at: bad (advice) | good.")] = "bad",
    top_k: Annotated[int, typer.Option(help="Examples per top-k list.")] = 5,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed for bootstrap and sampling.")] = 0,
    learning_curve: Annotated[bool, typer.Option(help="Fit learning curves.")] = True,
    permutation: Annotated[bool, typer.Option(help="Permutation importance.")] = True,
    error_map: Annotated[bool, typer.Option(help="2-D error map.")] = True,
    fast: Annotated[bool, typer.Option(help="Skip learning curves, permutation and CV.")] = False,
    log: Annotated[bool, typer.Option(help="Log the report to the model's MLflow run.")] = True,
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI.")] = None,
) -> None:
    """Evaluate a model: metrics with CIs, errors, slices, leakage, comparison -> HTML + JSON."""
    from askwell.evaluation.commands import run_evaluate
    from askwell.evaluation.evaluate import EvaluationConfig

    config = EvaluationConfig(
        top_k=top_k, n_boot=bootstrap, seed=seed, target_precision=target_precision,
        target_recall=target_recall, flag=flag, cv=0 if fast else cv,
        learning_curve=learning_curve and not fast, permutation=permutation and not fast,
        error_map=error_map,
    )
    run_evaluate(settings(), model, against=against, label=label, split=split, dataset=dataset,
                 config=config, html_path=html, json_path=json_path, tracking_uri=tracking_uri,
                 log_artifacts=log)


# ---------------------------------------------------------------- serving
@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    db: Annotated[str | None, typer.Option(help="Prediction log URL (default SQLite in the home "
                                                "folder; postgresql+psycopg://...).")] = None,
    cache: Annotated[str | None, typer.Option(help="memory (default), off, or redis://host:port/0.")] = None,
    model: Annotated[str | None, typer.Option(help="Registered NAME[:ALIAS|VERSION] (alias champion "
                                                   "by default).")] = None,
    model_path: Annotated[Path | None, typer.Option(help="Serve the model in this folder.")] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
) -> None:
    """Serve the API and the web editor (packaged default model unless told otherwise)."""
    from askwell.serving.commands import run_serve

    run_serve(settings(), host=host, port=port, workers=workers, db=db, cache=cache, model=model,
              model_path=model_path, access_log=access_log)


@feedback_app.command("export")
def feedback_export(
    out: Annotated[Path, typer.Option(help="Output file: .parquet, .csv or .jsonl.")] = Path("feedback.parquet"),
    db: Annotated[str | None, typer.Option(help="Feedback store URL (default: the service's).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Write the feedback joined to its predictions, as labelled data."""
    from askwell.serving.commands import run_feedback_export

    payload = run_feedback_export(settings(), out=out, db=db)
    if as_json:
        emit_json(payload)
        return
    console().print(f"{payload['rows']:,} feedback rows written to {payload['path']}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except AskwellError as exc:
        if _state["debug"]:
            raise
        err_console().print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console().print("[red]interrupted[/]")
        sys.exit(130)


if __name__ == "__main__":
    main()
