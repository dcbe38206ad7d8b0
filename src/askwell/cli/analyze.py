"""``askwell analyze``: score a question and list the edits that would raise its chance."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from askwell.cli.common import JsonFlag, busy, commands, console, emit_json, settings

if TYPE_CHECKING:
    from askwell.explain.schema import Analysis

app = commands()

_VERDICT_STYLE = {"strong": "bold green", "fine": "green", "at_risk": "yellow", "likely_closed": "bold red"}


@app.command()
def analyze(
    title: Annotated[str | None, typer.Option(help="The question's title.")] = None,
    body: Annotated[str | None, typer.Option(help="The body (Markdown or HTML).")] = None,
    tags: Annotated[str | None, typer.Option(help="Comma-separated tags.")] = None,
    site: Annotated[str | None, typer.Option(help="Site, e.g. beer.stackexchange.com.")] = None,
    file: Annotated[Path | None, typer.Option(help="A Markdown file (# Title, Tags: line, body) or .json.")] = None,
    model: Annotated[str | None, typer.Option(help="Registered model name[:version|alias].")] = None,
    model_path: Annotated[Path | None, typer.Option(help="A model folder.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Score a question and list the edits that would raise its chance (JSON on stdin works too)."""
    from askwell.explain.commands import run_analyze

    stdin_text = None
    if file is None and title is None and body is None and not sys.stdin.isatty():
        stdin_text = sys.stdin.read()
    with busy("analysing"):
        analysis = run_analyze(settings(), title=title, body=body, tags=tags, site=site, file=file,
                               model=model, model_path=model_path, stdin_text=stdin_text)
    if as_json:
        emit_json(analysis.to_dict())
        return
    show(analysis)


def pct(p: float | None) -> str:
    """A probability on the one scale people see everywhere (CLI and editor): ``72%``."""
    return "-" if p is None else f"{p * 100:.0f}%"


def headline(a: Analysis) -> str:
    """The first lines: the probability next to the site's base rate, then the verdict.
    One scale everywhere: a percentage, as in the API's ``score`` x 100 and the editor."""
    model = f"model {escape(a.model.name)} v{escape(str(a.model.version))}"
    if a.verdict == "not_ready" or a.score is None:
        reason = a.filter.message if a.filter and a.filter.message else "not a question yet."
        advice = f" {a.filter.advice}" if a.filter and a.filter.advice else ""
        return f"[bold]not ready[/]: {escape(reason)}{escape(advice)}  ({model})"
    from askwell.explain.verdict import percentile_phrase

    base, there = "", "there"
    site = a.site
    if site is not None and site.base_rate is not None:
        rate = pct(site.base_rate)
        if site.known and site.name:
            base = f" (on {escape(site.name)} {rate} of questions are well received)"
        else:  # compared with the sites it knows: say so, never invent a site's figures
            group = f"the {site.kind} sites it knows" if site.kind else "the sites it knows"
            named = f"{escape(site.name)} is not a site the model knows; " if site.name else ""
            base = f" ({named}on {group} {rate} of questions are well received)"
            there = f"on {group}"
    rank = f"; {percentile_phrase(a.percentile, there)}" if a.percentile is not None else ""
    verdict = a.verdict.replace("_", " ")
    shown = f"[{_VERDICT_STYLE.get(a.verdict, '')}]{verdict}[/]"
    label = "verdict "
    if a.abstained:  # no verdict: the API's "abstained", the editor's "No verdict"
        label, shown = "", "no verdict (the model is not confident either way)"
    elif a.low_confidence:  # never a bold verdict next to "unreliable"
        shown = f"{verdict} (unsure: see the warnings)"
    conf = f"  confidence {pct(a.confidence)}" if a.confidence is not None else ""
    return (f"{pct(a.score)} likely to be well received{base}{rank}\n"
            f"{label}{shown}{conf}  (passes at {pct(a.threshold)}; {model})")


def show(a: Analysis) -> None:
    """The analysis as a person reads it: score line, warnings, writing stats, suggestions.

    Every string that comes from the writer or the model (warnings, suggestion text,
    replacements) is escaped: Rich would read ``df[i]`` as markup and drop it."""
    out = console()
    out.print(headline(a), highlight=False)
    for w in a.warnings:
        if a.verdict == "not_ready" and a.filter is not None and w == a.filter.message:
            continue  # already the headline
        out.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    if a.verdict == "not_ready":  # no question to score yet: its reading figures mean nothing
        return
    if a.stats:
        stats = Table("reading ease", "grade", "sentences", "words", "avg word", "diversity",
                      title="writing")
        s = a.stats
        stats.add_row(*(f"{s.get(k, 0):.1f}" for k in ("flesch_reading_ease", "flesch_kincaid_grade")),
                      *(f"{s.get(k, 0):.0f}" for k in ("sentences", "words")),
                      f"{s.get('avg_word_length', 0):.2f}", pct(s.get("vocabulary_diversity", 0)))
        out.print(stats)
    if not a.suggestions:
        out.print("no suggestion raises the score measurably")
        return
    table = Table("#", "gain", "suggestion", "category", "where",
                  title="suggestions (each checked by re-scoring; gain in percentage points)")
    for i, sug in enumerate(a.suggestions, 1):
        where = ""
        if sug.field is not None and sug.start is not None:
            where = f"{sug.field}[{sug.start}:{sug.start + (sug.length or 0)}]"
            if sug.replacement is not None:
                where += f" → {sug.replacement.strip() or '(delete)'}"
        msg = sug.message + (f" ({sug.detail})" if sug.detail else "")
        table.add_row(str(i), f"+{sug.gain * 100:.1f} pts", escape(msg), escape(sug.category), escape(where))
    out.print(table)
