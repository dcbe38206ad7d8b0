"""``askwell filter ...``: train, evaluate, rebuild the packaged filter, try one input."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from askwell.cli.common import JsonFlag, console, emit_json, group, settings

app = group("The filtering model: is this a real, answerable question?")

DataOpt = Annotated[
    list[Path] | None,
    typer.Option("--data", help="Dump folder(s) holding site dumps (repeatable). Default: the "
                                "shared folder and its stackexchange-extra sibling."),
]
HtmlOpt = Annotated[Path | None, typer.Option(help="Also write an HTML report here.")]


@app.command("train")
def train(
    data: DataOpt = None,
    out: Annotated[Path, typer.Option(help="Folder to write the filter to.")] = Path(
        ".askwell/filters/latest"),
    seed: Annotated[int, typer.Option(help="Split, sampling and training seed.")] = 0,
    html: HtmlOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Train a filter on the dumps, evaluate it on the held-out side, write its folder."""
    from askwell.filtering.data import default_dump_folders
    from askwell.filtering.train import train_filter

    result = train_filter(data or default_dump_folders(settings()), out, seed=seed)
    _report(result.metrics, html, as_json, f"filter written to {out}")


@app.command("build-default")
def build_default(
    out: Annotated[Path | None, typer.Option(help="Write here instead of the package.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Rebuild the packaged filter (src/askwell/assets/default_filter) from both shared
    dump folders, seed 0: the same dumps give the same files."""
    from askwell.filtering.data import default_dump_folders
    from askwell.filtering.model import default_filter_dir
    from askwell.filtering.train import train_filter

    target = out or default_filter_dir()
    result = train_filter(default_dump_folders(settings()), target, seed=0)
    _report(result.metrics, None, as_json,
            f"default filter written to {target} (model card: {target / 'MODEL_CARD.md'})")


@app.command("evaluate")
def evaluate(
    model: Annotated[Path | None, typer.Option(help="Filter folder (default: the packaged one).")] = None,
    data: DataOpt = None,
    html: HtmlOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate a filter on the held-out side of the dumps (the split of its own seed)."""
    from askwell.filtering.data import default_dump_folders
    from askwell.filtering.evaluate import evaluate_filter
    from askwell.filtering.model import default_filter, load_filter
    from askwell.filtering.train import prepare

    flt = load_filter(model) if model else default_filter()
    seed = int(flt.meta.get("training", {}).get("seed", 0))
    metrics = evaluate_filter(flt, prepare(data or default_dump_folders(settings()), seed))
    _report(metrics, html, as_json, None)


@app.command("assess")
def assess(
    title: Annotated[str, typer.Argument(help="The question's title.")],
    body: Annotated[str, typer.Option(help="The body (Markdown or HTML).")] = "",
    model: Annotated[Path | None, typer.Option(help="Filter folder (default: packaged).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run the filter alone on one input (the whole analysis is `askwell analyze`)."""
    from askwell.features import analyze_text
    from askwell.filtering.model import default_filter, load_filter
    from askwell.question import Question

    flt = load_filter(model) if model else default_filter()
    q = Question(title=title, body=body)
    o = flt.assess(q, analyze_text(q))
    if as_json:
        emit_json(o.to_dict())
        return
    colour = {"pass": "green", "unsure": "yellow", "reject": "red"}[o.outcome]
    line = f"[{colour}]{o.outcome}[/] P(question) {o.p_question:.1%}"
    if o.reason:
        line += f" - {o.reason}: {escape(o.message or '')} {escape(o.advice or '')}"
    console().print(line, highlight=False)


def _report(metrics: dict[str, Any], html: Path | None, as_json: bool, note: str | None) -> None:
    from askwell.filtering.evaluate import render_html, render_table

    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(metrics))
    if as_json:
        emit_json(metrics)
        return
    out = console()
    out.print(render_table(metrics))
    if note:
        out.print(escape(note), highlight=False)
    if html is not None:
        out.print(f"HTML report: {escape(str(html))}", highlight=False)
