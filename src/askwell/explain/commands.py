"""CLI glue for ``askwell analyze``: read the question, check it, analyse it, show it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from askwell.config import Settings
from askwell.errors import AskwellError
from askwell.explain.checks import check_question
from askwell.explain.engine import Analyzer
from askwell.explain.inputs import read_question
from askwell.explain.schema import Analysis
from askwell.registry.resolve import load_for_use

_VERDICT_STYLE = {"strong": "bold green", "fine": "green", "at_risk": "yellow", "likely_closed": "bold red"}


def run_analyze(
    settings: Settings, *, title: str | None, body: str | None, tags: str | None,
    site: str | None, file: Path | None, model: str | None, model_path: Path | None,
    as_json: bool,
) -> dict[str, Any]:
    stdin_text = None
    if file is None and title is None and body is None and not sys.stdin.isatty():
        stdin_text = sys.stdin.read()
    question = read_question(title=title, body=body, tags=tags, site=site, file=file,
                             stdin_text=stdin_text)
    checked = check_question(question)
    if not checked.ok:
        raise AskwellError(checked.error or "unusable input")
    loaded, ref = load_for_use(settings, model, model_path)
    analysis = Analyzer(loaded, ref).analyze(checked.question, warnings=checked.warnings)
    payload = analysis.to_dict()
    if not as_json:
        show(analysis)
    return payload


def show(a: Analysis) -> None:
    out = Console()
    style = _VERDICT_STYLE.get(a.verdict, "")
    out.print(
        f"score [bold]{a.score:.2f}[/]  verdict [{style}]{a.verdict.replace('_', ' ')}[/]  "
        f"confidence {a.confidence:.0%}  (threshold {a.threshold:.2f}; model {a.model.name} v{a.model.version})"
    )
    for w in a.warnings:
        out.print(f"[yellow]warning:[/] {w}")
    stats = Table("reading ease", "grade", "sentences", "words", "avg word", "diversity", title="writing")
    s = a.stats
    stats.add_row(*(f"{s.get(k, 0):.1f}" for k in ("flesch_reading_ease", "flesch_kincaid_grade")),
                  *(f"{s.get(k, 0):.0f}" for k in ("sentences", "words")),
                  *(f"{s.get(k, 0):.2f}" for k in ("avg_word_length", "vocabulary_diversity")))
    out.print(stats)
    if not a.suggestions:
        out.print("no suggestion raises the score measurably")
        return
    table = Table("#", "gain", "suggestion", "category", "where", title="suggestions (each checked by re-scoring)")
    for i, sug in enumerate(a.suggestions, 1):
        where = ""
        if sug.field is not None and sug.start is not None:
            where = f"{sug.field}[{sug.start}:{sug.start + (sug.length or 0)}]"
            if sug.replacement is not None:
                where += f" → {sug.replacement.strip() or '(delete)'}"
        msg = sug.message + (f" ({sug.detail})" if sug.detail else "")
        table.add_row(str(i), f"+{sug.gain * 100:.1f} pts", msg, sug.category, where)
    out.print(table)

