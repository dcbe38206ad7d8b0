"""The data report (``askwell data report``) as one self-contained HTML page.

:func:`askwell.data.report.build_report` computes the figures (a plain dict); this module
turns them into the rows and figures of ``reports/templates/data_report.html``. No markup
is built here: the template holds it, and autoescapes every value.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from markupsafe import Markup

from askwell.reports import pct, render, year
from askwell.reports.figures import CLASS_COLOURS, GOOD, OTHER, draw

#: The page's sections, in order (ids are the anchors; tests and links use them).
SECTIONS = (("findings", "Findings"), ("format", "Format"), ("quality", "Quality"),
            ("quantity", "Quantity & distribution"), ("per-class", "Per class"), ("leakage", "Leakage"))
LEAKAGE_SPLITS = ("author", "time", "random")


# ---------------------------------------------------------------- figures
def _figure(w: float, h: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h))


def _sites_plot(q: dict[str, Any], label: str) -> Any:
    sites = q["by_site"]
    fig = _figure(8, max(3.0, 0.28 * len(sites) + 1))
    ax = fig.add_subplot()
    names = [s["site"] for s in sites]
    left = np.zeros(len(sites))
    for cls in ("good", "bad", "neutral"):
        vals = np.array([s[label][cls] for s in sites], dtype=float)
        ax.barh(names, vals, left=left, color=CLASS_COLOURS[cls], label=cls)
        left += vals
    ax.invert_yaxis()
    ax.set_xlabel("questions")
    ax.set_ylabel("site")
    ax.set_title(f"questions per site ({label} label)")
    ax.legend(loc="lower right")
    ax.tick_params(axis="y", labelsize=8)
    return fig


def _years_plot(q: dict[str, Any]) -> Any:
    from matplotlib.ticker import MaxNLocator

    years = q["by_year"]
    fig = _figure(8, 3.2)
    ax = fig.add_subplot()
    xs = [y["year"] for y in years]
    ax.bar(xs, [y["rows"] for y in years], color=OTHER)
    ax.set_xlabel("year posted")
    ax.set_ylabel("questions")
    ax2 = ax.twinx()
    for name, color, marker in (("grade", GOOD, "o"), ("book", "#CC79A7", "s")):
        ax2.plot(xs, [y.get(f"{name}_good_share") for y in years], marker=marker, color=color,
                 label=f"{name}: good share")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("share of good questions")
    ax2.legend(loc="lower left", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("questions and good share by year")
    return fig


def _lengths_plot(q: dict[str, Any], label: str) -> Any:
    hist = q["body_tokens_histogram"]
    edges = hist["edges"]
    fig = _figure(8, 3.2)
    ax = fig.add_subplot()
    centers = np.arange(len(edges) - 1)
    width = 0.27
    for k, cls in enumerate(("good", "bad", "neutral")):
        counts = np.asarray(hist[cls], dtype=float)
        total = counts.sum()
        ax.bar(centers + (k - 1) * width, counts / total if total else counts, width,
               color=CLASS_COLOURS[cls], label=cls)
    ticks = [f"{int(a)}-{int(b) - 1}" for a, b in pairwise(edges)]
    ticks[-1] = f"{int(edges[-2])}+"
    ax.set_xticks(centers, ticks, rotation=45, fontsize=7)
    ax.set_ylabel("share of class")
    ax.set_xlabel("tokens in the body (whitespace-separated, code included)")
    ax.set_title(f"body length by class ({label} label)")
    ax.legend(fontsize=8)
    return fig


def _scores_plot(q: dict[str, Any]) -> Any:
    sh = q["score_histogram"]
    fig = _figure(8, 3.0)
    ax = fig.add_subplot()
    ax.bar(sh["scores"], sh["counts"], color=OTHER)
    ax.set_xlabel(f"score (clipped to {sh['clip'][0]}..{sh['clip'][1]})")
    ax.set_ylabel("questions")
    ax.set_title("score distribution")
    return fig


def plots(report: dict[str, Any]) -> dict[str, Markup]:
    """The page's figures as ``<img>`` elements with alt text saying what each shows."""
    q, label = report["quantity"], report["label"]
    out = {
        "sites": draw(f"Questions per site, split into good, bad and neutral by the {label} label "
                      f"({len(q['by_site'])} sites)", _sites_plot, q, label),
        "lengths": draw(f"Share of each class ({label} label) by tokens in the body", _lengths_plot, q, label),
        "scores": draw("Number of questions at each score (clipped)", _scores_plot, q),
        "years": Markup(""),
    }
    if q["by_year"]:
        first, last = q["by_year"][0]["year"], q["by_year"][-1]["year"]
        out["years"] = draw(f"Questions per year from {year(first)} to {year(last)} and the share of "
                            "good questions under each label", _years_plot, q)
    return out


# ---------------------------------------------------------------- rows
def _n_share(x: dict[str, Any]) -> str:
    return f"{x['n']:,} ({pct(x['share'])})"


def _quality_rows(q: dict[str, Any]) -> list[list[Any]]:
    weak, dup, edits = q["weak_labels"], q["duplicates"], q["edits"]
    reasons = weak["grade_bad_reasons"]
    rows = [
        ["empty bodies", q["empty_bodies"]],
        ["bodies under 10 tokens (code included)", q["short_bodies_under_10_tokens"]],
        ["empty titles", q["empty_titles"]],
        ["score 0 and unanswered (weak label)", _n_share(weak["zero_score_unanswered"])],
        ["score within 1 of zero (weak label)", _n_share(weak["score_within_1_of_zero"])],
        ["score exactly at site median ('book' calls it bad)", _n_share(weak["score_at_site_median"])],
        ["'grade' bad: score < 0 only / closed only / both",
         f"{reasons['negative_score_only']} / {reasons['closed_only']} / {reasons['both']}"],
        ["closed", _n_share(weak["closed"])],
        ["closed as duplicate", weak["closed_as_duplicate"]],
        ["closed, reason unknown (no PostHistory)", weak["closed_reason_unknown"]],
        ["identical texts: groups / rows", f"{dup['identical_groups']} / {dup['identical_rows']}"],
        [f"near-identical pairs (Jaccard >= {dup['near_threshold']})",
         f"{dup['near_identical_pairs']} over {dup['near_identical_rows']} questions, "
         f"{dup['near_identical_cross_site_pairs']} across sites"],
    ]
    if edits:
        rows += [
            ["questions from sites with PostHistory", edits["rows_with_history"]],
            ["edited after posting", _n_share(edits["edited_after_posting"])],
            ["title changed since posting", _n_share(edits["title_changed_since_posting"])],
            ["sites without PostHistory", ", ".join(edits["sites_without_history"]) or "none"],
        ]
    return rows


def _leakage_rows(leak: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for kind in LEAKAGE_SPLITS:
        s = leak.get(kind)
        if not s:
            continue
        rows.append([
            kind, s["train_rows"], s["test_rows"], s["owner_overlap"], s["test_rows_owner_in_train"],
            pct(s["test_share_owner_in_train"]), s["identical_test_rows"], s["near_identical_test_rows"],
            s["near_identical_pairs"], s["test_rows_older_than_newest_train_same_site"],
            pct(s["test_share_older_than_newest_train_same_site"]),
            pct(s["test_share_older_than_newest_train_any_site"]),
            pct(s.get("train_good_share")), pct(s.get("test_good_share")),
        ])
    return rows


def _per_class(report: dict[str, Any]) -> list[dict[str, Any]]:
    label = report["label"]
    out = []
    for name in [label, *[n for n in report["per_class"] if n != label]]:
        pc = report["per_class"][name]
        examples = []
        if name == label and pc.get("examples"):
            examples = [(cls, [[x.get("question_id", ""), x.get("title", ""), x.get("score"),
                                x.get("answer_count")] for x in pc["examples"][cls]])
                        for cls in ("good", "bad")]
        out.append({
            "name": name, "good": pc["good"], "bad": pc["bad"], "examples": examples,
            "rows": [[r["feature"], r["group"], r["description"], r["good_mean"], r["bad_mean"],
                      r["difference"], r["good_median"], r["bad_median"], r["auc"]] for r in pc["rows"]],
        })
    return out


def context(report: dict[str, Any]) -> dict[str, Any]:
    """What the template shows, from the report's figures."""
    ds, fmt, q, qty, leak = (report["dataset"], report["format"], report["quality"],
                             report["quantity"], report["leakage"])
    return {
        "title": f"askwell data report: {ds.get('id') or 'dataset'}",
        "subtitle": "",
        "sections": [{"id": i, "title": t} for i, t in SECTIONS],
        "version": report.get("askwell_version", ""),
        "created": ds.get("created") or "",
        "ds": ds, "label": report["label"], "fmt": fmt,
        "findings": report.get("findings", []),
        "plots": plots(report),
        "columns": [[c["name"], c["dtype"], c["non_null"], c["description"]] for c in fmt["columns"]],
        "span_totals": [[k, v] for k, v in fmt["span_totals"].items()],
        "sources": [[s["site"], s["kind"], s["questions"], ", ".join(s["files"]), s["rejected"]]
                    for s in fmt["sources"]],
        "quality_rows": _quality_rows(q),
        "missing": [[k, v["n"], pct(v["share"])]
                    for k, v in sorted(q["missing"].items(), key=lambda kv: -kv[1]["n"])],
        "near": [[x["a"], x["b"], x["jaccard"], x["title_a"], x["title_b"]]
                 for x in q["duplicates"]["examples"]],
        "label_rows": [[name, c["good"], c["bad"], c["neutral"], c["total"], pct(c["good_share"]),
                        report["label_descriptions"].get(name, "")] for name, c in qty["labels"].items()],
        "kind_rows": [[k["kind"], k["rows"], k["sites"], k["median_score"], pct(k.get("grade_good_share")),
                       pct(k.get("book_good_share"))] for k in qty["by_kind"]],
        "site_rows": [[s["site"], s["kind"], s["rows"], s["median_score"], s["grade"]["good"],
                       s["grade"]["bad"], s["grade"]["neutral"], s["book"]["good"], s["book"]["bad"],
                       str(s.get("first") or "")[:10], str(s.get("last") or "")[:10]]
                      for s in qty["by_site"]],
        "year_rows": [[year(y["year"]), y["rows"], y["median_score"], pct(y.get("grade_good_share")),
                       pct(y.get("book_good_share"))] for y in qty["by_year"]],
        "median_spearman": qty["score_vs_date"].get("median_spearman"),
        "spearman_rows": [[r["site"], r["rows"], r["spearman_date_score"]]
                          for r in qty["score_vs_date"]["sites"]],
        "length_rows": [[k, *[v.get(p) for p in ("min", "p05", "p25", "median", "p75", "p95", "max", "mean")]]
                        for k, v in qty["lengths"].items() if v],
        "top_tags": [[t["tag"], t["n"]] for t in qty["top_tags"]],
        "top_tags_by_kind": [(kind, [[t["tag"], t["n"]] for t in tags])
                             for kind, tags in qty["top_tags_by_kind"].items()],
        "per_class": _per_class(report),
        "leak": leak,
        "leakage_rows": _leakage_rows(leak),
        "leak_examples": [[kind, x["test"], x["train"], x["jaccard"]] for kind in LEAKAGE_SPLITS
                          for x in (leak.get(kind) or {}).get("near_examples", [])],
        "time_rows": [[kind, site, t["test_rows"], t["older_than_newest_train"], pct(t["share"])]
                      for kind in ("author", "random")
                      for site, t in (leak.get(kind) or {}).get("time_by_site", {}).items()],
    }


def render_html(report: dict[str, Any]) -> str:
    """One self-contained HTML page (inline CSS and PNGs; no script, no external asset)."""
    return render("data_report.html", **context(report))


def write_html(report: dict[str, Any], path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_html(report), encoding="utf-8")
    tmp.replace(path)
    return path
