"""``askwell data ...``: the datasets in the store and their data-quality report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from askwell.cli.common import JsonFlag, console, emit_json, group, settings

app = group("Datasets: list, report.")


@app.command("list")
def data_list(as_json: JsonFlag = False) -> None:
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


@app.command("report")
def data_report(
    dataset: Annotated[str | None, typer.Argument(help="Dataset id or prefix (default: latest).")] = None,
    label: Annotated[str, typer.Option(help="Label spec: grade | book.")] = "grade",
    html: Annotated[Path | None, typer.Option(help="Write the HTML page here (default: reports folder).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Data-quality report: format, quality, distributions, per-class stats, split leakage."""
    from askwell.data.commands import run_data_report

    report, path = run_data_report(settings(), dataset, label=label, html=html)
    if as_json:
        emit_json({**report, "html": str(path)})
        return
    print_data_report(report, path)


def print_data_report(report: dict[str, Any], path: Path) -> None:
    out = console()
    render_terminal(report, out)
    out.print(f"HTML report -> {escape(str(path))}", highlight=False)


# ---------------------------------------------------------------- the data report, in a terminal
def _fmt(value: Any, digits: int = 2) -> str:
    from askwell.reports import num

    return num(value, digits) if value is None or isinstance(value, int | float) else escape(str(value))


def _pct(value: Any) -> str:
    from askwell.reports import pct

    return pct(value)


def _shift(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "-"
    return f"{before * 100:.1f}→{after * 100:.1f}"


def render_terminal(report: dict[str, Any], console: Any = None, top: int = 8) -> None:
    """A short Rich summary: labels, quality, what differs, leakage, findings."""
    from rich import box

    from askwell.reports.data import LEAKAGE_SPLITS

    out = console or Console()
    ds = report["dataset"]
    kinds = ", ".join(f"{k['rows']:,} {k['kind']}" for k in report["quantity"]["by_kind"])
    out.print(
        f"[bold]data report[/] dataset {ds.get('id') or '-'}: {ds['rows']:,} questions from "
        f"{ds['sites']} sites ({kinds}); label [bold]{report['label']}[/]",
        highlight=False,
    )
    labels = Table("label", "good", "bad", "neutral", "good share", title="labels")
    for name, c in report["quantity"]["labels"].items():
        labels.add_row(escape(name), _fmt(c["good"]), _fmt(c["bad"]), _fmt(c["neutral"]), _pct(c["good_share"]))
    out.print(labels)

    q = report["quality"]
    weak, dup = q["weak_labels"], q["duplicates"]
    quality = Table("check", "figure", title="quality")
    quality.add_row("empty / short (<10 tokens) bodies", f"{q['empty_bodies']} / {q['short_bodies_under_10_tokens']}")
    quality.add_row("score 0 and unanswered", f"{weak['zero_score_unanswered']['n']:,} ({_pct(weak['zero_score_unanswered']['share'])})")
    quality.add_row("closed (unknown reason / duplicate)",
                    f"{weak['closed']['n']:,} ({weak['closed_reason_unknown']} / {weak['closed_as_duplicate']})")
    reasons = weak["grade_bad_reasons"]
    quality.add_row("grade bad: score < 0 / closed / both",
                    f"{reasons['negative_score_only']} / {reasons['closed_only']} / {reasons['both']}")
    quality.add_row("score exactly at site median (book: bad)",
                    f"{weak['score_at_site_median']['n']:,} ({_pct(weak['score_at_site_median']['share'])})")
    quality.add_row("identical texts (groups / rows)", f"{dup['identical_groups']} / {dup['identical_rows']}")
    quality.add_row(f"near-identical pairs (J >= {dup['near_threshold']})",
                    f"{dup['near_identical_pairs']} ({dup['near_identical_cross_site_pairs']} across sites)")
    missing = ", ".join(f"{k} {_pct(v['share'])}" for k, v in sorted(q["missing"].items(), key=lambda kv: -kv[1]["n"])[:5])
    quality.add_row("most missing", missing or "none")
    out.print(quality)

    pc = report["per_class"][report["label"]]
    rows = [r for r in pc["rows"] if r["group"] != "after posting" and r["auc"] is not None]
    rows.sort(key=lambda r: -abs(r["auc"] - 0.5))
    diff = Table("feature", "good mean", "bad mean", "diff", "AUC",
                 title=f"what differs, good vs bad ({report['label']}: {pc['good']:,} / {pc['bad']:,})")
    diff.columns[0].no_wrap = True
    for r in rows[:top]:
        diff.add_row(escape(r["feature"]), _fmt(r["good_mean"]), _fmt(r["bad_mean"]), _fmt(r["difference"]),
                     _fmt(r["auc"], 3))
    out.print(diff)

    leak = report["leakage"]
    lt = Table("split", "test", "shared\nowners", "owner\nin train", "same\ntext", "near\nsame",
               "older", "good %\ntr→te", title=f"leakage ({leak['label']} label; test-side figures)",
               box=box.SIMPLE_HEAD)
    for kind in LEAKAGE_SPLITS:
        s = leak.get(kind)
        if not s:
            continue
        lt.add_row(kind, _fmt(s["test_rows"]), _fmt(s["owner_overlap"]), _pct(s["test_share_owner_in_train"]),
                   _fmt(s["identical_test_rows"]), _fmt(s["near_identical_test_rows"]),
                   _pct(s["test_share_older_than_newest_train_same_site"]),
                   _shift(s.get("train_good_share"), s.get("test_good_share")))
    out.print(lt)
    out.print(
        "[dim]owner in train: share of test rows whose author has training rows; same / near same: "
        "test rows with an identical / Jaccard >= 0.9 text in train; older: test rows older than the "
        "newest training row of their site[/]"
    )
    styles = {"pass": "green", "warn": "yellow", "fail": "bold red"}
    for note in report.get("findings", []):
        status = note["status"]
        out.print(f"[{styles.get(status, '')}]{status:>4}[/] {escape(note['text'])}", highlight=False)
