"""Evaluate a filter on the held-out side: the figures, the top errors, a table.

"Junk" means the classes the filter may reject on (every non-question class except the
ones learnt from closed questions). The test side has two parts, reported apart and
together: the *held-out sites* (no post of theirs was trained on) and the *held-out
authors* of the other sites.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from askwell.filtering.reasons import CLASSES, QUESTION, SOFT_REASONS

if TYPE_CHECKING:
    from askwell.filtering.model import QuestionFilter
    from askwell.filtering.train import FilterData

TOP_K = 10


def _rate(flag: np.ndarray, among: np.ndarray) -> float | None:
    return float((flag & among).sum() / among.sum()) if among.any() else None


def _auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if positive.all() or not positive.any():
        return None
    return float(roc_auc_score(positive, scores))


def subset_metrics(outcomes: Sequence[str], p_junk: np.ndarray, reasons: Sequence[str | None],
                   labels: Sequence[str], good: Sequence[bool | None]) -> dict[str, Any]:
    """Precision/recall at the operating point and the rates a writer feels."""
    lab = np.asarray(labels)
    out = np.asarray(outcomes)
    is_q = lab == QUESTION
    is_junk = np.array([x != QUESTION and x not in SOFT_REASONS for x in labels], dtype=bool)
    is_good = is_q & np.array([g is True for g in good], dtype=bool)
    rejected = out == "reject"
    flagged = rejected | (out == "unsure")
    scored = is_q | is_junk
    n_rej = int((rejected & scored).sum())
    right_reason = np.array([r == x for r, x in zip(reasons, labels, strict=True)], dtype=bool)
    per_kind = {}
    for c in CLASSES:
        m = lab == c
        if m.any():
            per_kind[c] = {"n": int(m.sum()), "rejected": _rate(rejected, m),
                           "flagged": _rate(flagged, m)}
    return {
        "n_questions": int(is_q.sum()), "n_well_received": int(is_good.sum()),
        "n_junk": int(is_junk.sum()),
        "reject_precision": float((rejected & is_junk).sum() / n_rej) if n_rej else None,
        "reject_recall": _rate(rejected, is_junk),
        "flag_recall": _rate(flagged, is_junk),
        "questions_rejected": _rate(rejected, is_q),
        "well_received_rejected": _rate(rejected, is_good),
        "questions_unsure": _rate(out == "unsure", is_q),
        "well_received_flagged": _rate(flagged, is_good),
        "roc_auc": _auc(p_junk[scored], is_junk[scored]),
        "reason_accuracy": _rate(right_reason, rejected & is_junk),
        "per_kind": per_kind,
    }


def evaluate_filter(flt: QuestionFilter, data: FilterData, top_k: int = TOP_K) -> dict[str, Any]:
    """Figures on the test side: all of it, held-out sites, held-out authors."""
    test = data.side("test")
    idx = np.flatnonzero(test)
    examples = [data.examples[i] for i in idx]
    probs = flt.probabilities([data.texts[i] for i in idx])
    outcomes = [flt.outcome_of(p) for p in probs]
    hard = np.array([c != QUESTION and c not in SOFT_REASONS for c in flt.classes])
    p_junk = probs[:, hard].sum(axis=1) if len(probs) else np.zeros(0)
    sites = set(data.test_sites)
    parts = {"all": np.ones(len(examples), bool),
             "held_out_sites": np.array([e.site in sites for e in examples], bool),
             "held_out_authors": np.array([e.site not in sites for e in examples], bool)}
    result: dict[str, Any] = {"test_sites": data.test_sites, "model": flt.name,
                              "thresholds": {"reject": flt.thresholds.reject,
                                             "unsure": flt.thresholds.unsure}}
    for name, m in parts.items():
        sel = np.flatnonzero(m)
        result[name] = subset_metrics(
            [outcomes[i].outcome for i in sel], p_junk[sel], [outcomes[i].reason for i in sel],
            [examples[i].label for i in sel], [examples[i].well_received for i in sel])
    result["top_errors"] = top_errors(examples, outcomes, p_junk, top_k)
    a = result["all"]
    result["summary"] = {k: a[k] for k in (
        "reject_precision", "reject_recall", "flag_recall", "questions_rejected",
        "well_received_rejected", "questions_unsure", "roc_auc", "reason_accuracy",
        "n_questions", "n_junk")}
    result["summary"]["held_out_sites"] = {k: result["held_out_sites"][k] for k in (
        "reject_precision", "reject_recall", "well_received_rejected", "n_questions", "n_junk")}
    result["summary"]["junk_rejected_by_kind"] = {
        k: v["rejected"] for k, v in a["per_kind"].items() if k != QUESTION}
    return result


def top_errors(examples: Sequence[Any], outcomes: Sequence[Any], p_junk: np.ndarray,
               k: int) -> dict[str, list[dict[str, Any]]]:
    """The most confident mistakes: real questions rejected (or nearest to it) and junk
    that passed with the lowest P(junk)."""
    def row(i: int) -> dict[str, Any]:
        e, o = examples[i], outcomes[i]
        return {"ref": e.ref, "label": e.label, "outcome": o.outcome, "reason": o.reason,
                "p_junk": round(float(p_junk[i]), 4), "p_question": round(o.p_question, 4),
                "title": e.title[:80], "well_received": e.well_received}
    q = [i for i, e in enumerate(examples) if e.label == QUESTION]
    junk = [i for i, e in enumerate(examples) if e.label != QUESTION and e.label not in SOFT_REASONS]
    return {
        "questions_most_like_junk": [row(i) for i in sorted(q, key=lambda i: -p_junk[i])[:k]],
        "junk_most_like_questions": [row(i) for i in sorted(
            (i for i in junk if outcomes[i].outcome == "pass"), key=lambda i: p_junk[i])[:k]],
    }


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def render_table(metrics: dict[str, Any]) -> Any:
    """A Rich renderable: figures per part of the test side, per kind, top errors."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    parts = ("all", "held_out_sites", "held_out_authors")
    t = Table(title=f"Filter on the held-out side ({metrics['model']}; held-out sites: "
                    f"{escape(', '.join(metrics['test_sites']))})")
    t.add_column("figure")
    for p in parts:
        t.add_column(p, justify="right")
    for key in ("n_questions", "n_junk", "reject_precision", "reject_recall", "flag_recall",
                "questions_rejected", "well_received_rejected", "questions_unsure",
                "roc_auc", "reason_accuracy"):
        vals = [metrics[p][key] for p in parts]
        fmt = (lambda v: str(v)) if key.startswith("n_") else (
            (lambda v: "-" if v is None else f"{v:.3f}") if key == "roc_auc" else _pct)
        t.add_row(key, *(fmt(v) for v in vals))
    k = Table(title="Per class (all of the test side)")
    for col in ("class", "n", "rejected", "reject or unsure"):
        k.add_column(col, justify="right" if col != "class" else "left")
    for c, v in metrics["all"]["per_kind"].items():
        k.add_row(c, str(v["n"]), _pct(v["rejected"]), _pct(v["flagged"]))
    tables = [t, k]
    for name, rows in metrics["top_errors"].items():
        e = Table(title=f"Top errors: {name.replace('_', ' ')}")
        for col in ("ref", "label", "outcome", "reason", "P(junk)", "title"):
            e.add_column(col)
        for r in rows:
            e.add_row(escape(r["ref"]), r["label"], r["outcome"], str(r["reason"]),
                      f"{r['p_junk']:.3f}", escape(r["title"]))
        tables.append(e)
    return Group(*tables)


def render_html(metrics: dict[str, Any]) -> str:
    """A self-contained HTML page of the same figures (all text escaped)."""
    esc = html.escape
    parts = ("all", "held_out_sites", "held_out_authors")
    rows = "".join(
        f"<tr><th>{esc(k)}</th>" + "".join(
            f"<td>{esc(str(metrics[p][k]) if k.startswith('n_') else _pct(metrics[p][k]) if k != 'roc_auc' else ('-' if metrics[p][k] is None else f'{metrics[p][k]:.3f}'))}</td>"
            for p in parts) + "</tr>"
        for k in ("n_questions", "n_junk", "reject_precision", "reject_recall", "flag_recall",
                  "questions_rejected", "well_received_rejected", "questions_unsure",
                  "roc_auc", "reason_accuracy"))
    kinds = "".join(f"<tr><th>{esc(c)}</th><td>{v['n']}</td><td>{_pct(v['rejected'])}</td>"
                    f"<td>{_pct(v['flagged'])}</td></tr>"
                    for c, v in metrics["all"]["per_kind"].items())
    errors = ""
    for name, items in metrics["top_errors"].items():
        errors += f"<h2>Top errors: {esc(name.replace('_', ' '))}</h2><table><tr><th>ref</th>" \
                  "<th>label</th><th>outcome</th><th>reason</th><th>P(junk)</th><th>title</th></tr>"
        errors += "".join(f"<tr><td>{esc(r['ref'])}</td><td>{esc(r['label'])}</td>"
                          f"<td>{esc(r['outcome'])}</td><td>{esc(str(r['reason']))}</td>"
                          f"<td>{r['p_junk']:.3f}</td><td>{esc(r['title'])}</td></tr>"
                          for r in items) + "</table>"
    head = "".join(f"<th>{p}</th>" for p in parts)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>askwell filter evaluation"
        "</title><style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;"
        "text-align:right}table{border-collapse:collapse;margin-bottom:1em}tr:nth-child(even)"
        "{background:#f4f4f4}</style></head><body>"
        f"<h1>Filter evaluation: {esc(metrics['model'])}</h1>"
        f"<p>Held-out sites: {esc(', '.join(metrics['test_sites']))}. Thresholds: reject at "
        f"P(junk) &ge; {metrics['thresholds']['reject']}, unsure below P(question) "
        f"{metrics['thresholds']['unsure']}.</p>"
        f"<table><tr><th></th>{head}</tr>{rows}</table><h2>Per class</h2><table><tr><th>class"
        f"</th><th>n</th><th>rejected</th><th>reject or unsure</th></tr>{kinds}</table>"
        f"{errors}</body></html>")
