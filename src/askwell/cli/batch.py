"""``askwell batch score | report``: batch predictions on Dask and the moderator queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from askwell.cli.common import JsonFlag, console, emit_json, err_console, group, settings

app = group("Batch predictions on Dask: score a dataset, report the moderator queue.")


@app.command("score")
def score(
    source: Annotated[str | None, typer.Argument(help="A dataset id or prefix, a .parquet or .jsonl "
                                                      "file (default: the latest dataset).")] = None,
    out: Annotated[Path, typer.Option(help="Output folder (partitioned Parquet + manifest).")] = Path("batch-out"),
    model: Annotated[str | None, typer.Option("--model", "-m", help="Registered NAME[:VERSION|ALIAS] "
                                              "(default: the packaged model).")] = None,
    model_path: Annotated[Path | None, typer.Option(help="A model folder.")] = None,
    scheduler: Annotated[str | None, typer.Option(help="An existing Dask scheduler, e.g. "
                                                  "tcp://HOST:8786 (default: an embedded LocalCluster).")] = None,
    workers: Annotated[int | None, typer.Option(help="Embedded cluster: worker processes "
                                                "(default: one per core).")] = None,
    suggestions: Annotated[bool, typer.Option(help="The full analysis with ranked suggestions (as "
                                              "the service answers; needed for --precomputed).")] = False,
    with_author: Annotated[bool, typer.Option(help="Use the dump's author history (the service "
                                              "never sees it: such rows are not served precomputed).")] = False,
    partition_rows: Annotated[int, typer.Option(help="Questions per partition (per task).")] = 2000,
    overwrite: Annotated[bool, typer.Option(help="Replace another job's output in --out.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    as_json: JsonFlag = False,
) -> None:
    """Score every question with the service's analysis path; restartable."""
    from askwell.batch.inputs import plan
    from askwell.batch.job import JobOptions, resolve_model, run_score
    err = err_console()
    s = settings()
    handle = resolve_model(s, model, model_path)
    p = plan(source, s.datasets_dir, partition_rows)
    options = JobOptions(suggestions=suggestions, with_author=with_author,
                         partition_rows=partition_rows, overwrite=overwrite)
    bar: dict[str, Any] = {}

    def on_start(info: dict[str, Any]) -> None:
        err.print(f"scoring {info['rows']:,} questions ({p.kind} {escape(str(p.path))}) with "
                  f"{escape(handle.name)} v{escape(handle.version)} on {escape(info['where'])}, "
                  f"{info['workers']} workers; {info['skipped']} of {info['partitions']} partitions "
                  "already done", highlight=False)
        if info["dashboard"]:
            err.print(f"Dask dashboard: {info['dashboard']}", highlight=False)
        if progress:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            bar["p"] = Progress("partitions", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                console=err, transient=False)
            bar["p"].start()
            bar["t"] = bar["p"].add_task("score", total=info["partitions"], completed=info["skipped"])

    def on_progress(done: int, total: int) -> None:
        if "p" in bar:
            bar["p"].update(bar["t"], completed=done)

    try:
        manifest = run_score(p, handle, out, options, scheduler=scheduler, workers=workers,
                             on_start=on_start, on_progress=on_progress)
    finally:
        if "p" in bar:
            bar["p"].stop()
    if as_json:
        emit_json(manifest)
        return
    f = manifest["figures"]
    console().print(
        f"{manifest['rows']:,} questions scored, {manifest['rejects']:,} rejected "
        f"(see {escape(str(Path(out) / 'rejects.csv'))}); {f['partitions_run']} partitions run, "
        f"{f['partitions_skipped']} reused, {f['seconds']:.1f} s"
        + (f", {f['questions_per_s']:,.0f} questions/s" if f["questions_per_s"] else "")
        + f". Output: {escape(str(out))}", highlight=False)


@app.command("report")
def report(
    out: Annotated[Path, typer.Argument(help="A batch output folder.")],
    top: Annotated[int, typer.Option(help="Questions in the printed queue.")] = 20,
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Export the whole queue (worst first) as CSV.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The moderator queue: scores and verdicts per site, the questions most in need of help."""
    from askwell.batch.report import build_report

    rep = build_report(out, top=top, site=site, csv=csv)
    if as_json:
        emit_json(rep)
        return
    con = console()
    t = Table("site", "questions", "mean", "median", "strong", "fine", "at risk", "likely closed",
              "abstained", title=f"scores per site ({escape(rep['model']['name'])} "
                                 f"v{escape(rep['model']['version'])})")
    for s in rep["sites"]:
        t.add_row(escape(str(s["site"])), f"{s['questions']:,}", _pct(s["mean_score"]),
                  _pct(s["median"]), *(f"{s[k]:,}" for k in ("strong", "fine", "at_risk",
                                                               "likely_closed", "abstained")))
    con.print(t)
    q = Table("#", "score", "verdict", "site", "question", "top suggestion",
              title=f"questions most in need of help ({rep['queue_size']:,} in the queue)")
    for i, r in enumerate(rep["queue"], 1):
        sugg = r["top_suggestion_message"] or ("(run with --suggestions)" if not rep["suggestions"]
                                               else "(none raises the score)")
        q.add_row(str(i), _pct(r["score"]), r["verdict"].replace("_", " "), escape(str(r["site"])),
                  escape(f"{r['id']}: {r['title']}"), escape(sugg))
    con.print(q)
    if rep["csv"]:
        con.print(f"queue exported: {escape(rep['csv']['path'])} ({rep['csv']['rows']:,} rows)",
                  highlight=False)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"
