"""Model cards: what a model saw, what it is for, how well it does, where it is weak."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from askwell.data.store import Dataset

if TYPE_CHECKING:
    from askwell.models.base import Model
    from askwell.models.training import PreparedData

INTENDED_USE = (
    "Estimate how likely a question written for a Stack Exchange-style Q&A site is to be "
    "well received, and rank edits that would raise that chance. Advice for a writer, "
    "not a moderation decision: never close, hide or rank people's posts with it."
)
LIMITATIONS = [
    "Trained on public dumps of a few small Stack Exchange sites (and their meta sites); "
    "communities vote differently, so scores transfer imperfectly to other sites.",
    "Scores and closures accumulate over time; the label reflects how a question fared "
    "by the dump date, not at the moment it was written.",
    "English only; other languages, code-only posts and very short texts are out of scope.",
    "Features see form (structure, length, tone), not correctness or topic expertise.",
]


def build_card(model: Model, dataset: Dataset, data: PreparedData) -> dict[str, Any]:
    """A JSON-ready model card (also rendered to MODEL_CARD.md)."""
    metrics = model.meta.metrics
    sites = [
        {"site": s["site"], "kind": s.get("kind"), "questions": s.get("questions")}
        for s in dataset.meta.get("sites", [])
    ]
    segments = metrics.get("segments", {})
    worst = None
    by_site = {k: v for k, v in segments.get("site", {}).items() if v.get("roc_auc") == v.get("roc_auc")}
    if by_site:
        name, figures = min(by_site.items(), key=lambda kv: kv[1]["roc_auc"])
        worst = {"site": name, "roc_auc": figures["roc_auc"], "n": figures["n"]}
    return {
        "model": model.family,
        "label": data.label,
        "split": data.split,
        "seed": data.seed,
        "data": {
            "dataset_id": dataset.id,
            "sites": sites,
            "questions_labelled": len(data.fit) + len(data.calibration) + len(data.test),
            "rows": {"fit": len(data.fit), "calibration": len(data.calibration), "test": len(data.test)},
            "license": dataset.meta.get(
                "license", "Stack Exchange data dump, CC BY-SA"
            ),
            "attribution": "Questions from the Stack Exchange data dump (https://archive.org/details/stackexchange), "
            "user contributions licensed under CC BY-SA.",
        },
        "intended_use": INTENDED_USE,
        "limitations": LIMITATIONS,
        "threshold": model.threshold,
        "calibration": asdict(model.calibration),
        "metrics": {"test": metrics.get("test"), "train": metrics.get("train")},
        "segments": segments,
        "worst_site": worst,
        "features": model.input_names(),
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def render_card_markdown(card: dict[str, Any]) -> str:
    """Plain Markdown for people; the JSON card stays the source of truth."""
    lines = [
        f"# Model card: {card.get('model')} ({card.get('label')} label, {card.get('split')} split)",
        "",
        "## Intended use",
        card.get("intended_use", ""),
        "",
        "## Data",
        f"Dataset `{card['data']['dataset_id']}`: {card['data']['questions_labelled']} labelled questions "
        f"(fit {card['data']['rows']['fit']}, calibration {card['data']['rows']['calibration']}, "
        f"test {card['data']['rows']['test']}) from {len(card['data']['sites'])} sites.",
        "",
        f"License: {card['data']['license']}. {card['data']['attribution']}",
        "",
        "| site | kind | questions |",
        "|---|---|---|",
        *[f"| {s['site']} | {s['kind']} | {s['questions']} |" for s in card["data"]["sites"]],
        "",
        "## Metrics (held-out test side)",
        "| metric | test | train |",
        "|---|---|---|",
    ]
    test, train = card["metrics"].get("test") or {}, card["metrics"].get("train") or {}
    for key in ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "brier", "log_loss"):
        lines.append(f"| {key} | {_fmt(test.get(key))} | {_fmt(train.get(key))} |")
    lines += ["", f"Decision threshold: {_fmt(card.get('threshold'))}", "", "## Per segment"]
    for segment, groups in (card.get("segments") or {}).items():
        lines += ["", f"### by {segment}", "| value | n | roc_auc | brier |", "|---|---|---|---|"]
        for name, m in sorted(groups.items()):
            lines.append(f"| {name} | {m['n']} | {_fmt(m['roc_auc'])} | {_fmt(m['brier'])} |")
    if card.get("worst_site"):
        w = card["worst_site"]
        lines += ["", f"Worst site: {w['site']} (ROC AUC {_fmt(w['roc_auc'])}, n={w['n']})."]
    lines += _sites_out_lines(card.get("sites_out"))
    lines += ["", "## Limitations", *[f"- {item}" for item in card.get("limitations", [])], ""]
    return "\n".join(lines)


def _sites_out_lines(section: dict[str, Any] | None) -> list[str]:
    """The leave-one-site-out table (``askwell models build-default`` adds it to the card)."""
    if not section or not section.get("sites"):
        return []
    lines = ["", "## Sites it never saw (leave-one-site-out)", section.get("verdict", ""), "",
             "| held-out site | questions | bad | ROC AUC | Brier | Brier kind rate | Brier site rate |",
             "|---|---|---|---|---|---|---|"]
    for r in section["sites"]:
        lines.append(f"| {r['site']} | {r['n']} | {r['bad']} | {_fmt(r['roc_auc'])} | {_fmt(r['brier'])} "
                     f"| {_fmt(r['brier_kind_rate'])} | {_fmt(r['brier_base_rate'])} |")
    m = section.get("macro") or {}
    if m:
        lines.append(f"| macro | | | {_fmt(m['roc_auc'])} | {_fmt(m['brier'])} | "
                     f"{_fmt(m['brier_kind_rate'])} | {_fmt(m['brier_base_rate'])} |")
    return lines
