"""The filter's model card (MODEL_CARD.md): what it is for, its data card, its figures."""

from __future__ import annotations

from typing import Any


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def model_card(meta: dict[str, Any], metrics: dict[str, Any]) -> str:
    s = metrics["summary"]
    th = meta["thresholds"]
    op = meta["operating_point"]
    lines = [
        f"# askwell-filter v{meta['model_sha'][:12]}",
        "",
        "A fast filtering model in front of the quality model (Ameisen, ch10): is this a "
        "real, answerable question? `reject` means the quality model does not score it "
        "(verdict `not_ready`, with a reason and advice); `unsure` means it is scored with "
        "a warning. It exists because the dumps hold only the questions that survived "
        "(representation bias, ch8): the quality model never saw junk.",
        "",
        "## Model",
        f"- LightGBM multiclass, {len(meta['classes'])} classes ({', '.join(meta['classes'])}), "
        f"{meta['training']['rounds']} rounds, {len(meta['features'])} features read from the "
        "request's one `TextAnalysis` (no second parse of the body).",
        f"- reject when P(junk) >= {th['reject']} (junk = every class but `question` and the "
        "closed-question classes off_topic/unclear/opinion, which only ever give `unsure`); "
        f"unsure when P(question) < {th['unsure']}.",
        f"- Thresholds chosen on the validation side (held-out authors of the training sites) "
        f"for: well-received questions rejected <= {_pct(op['targets']['max_good_rejected'])}, "
        f"any real question rejected <= {_pct(op['targets']['max_questions_rejected'])}, "
        f"precision of rejection >= {_pct(op['targets']['min_reject_precision'])}, real "
        f"questions flagged <= {_pct(op['targets']['max_questions_unsure'])}. On validation: "
        f"well-received rejected {_pct(op['valid']['good_rejected'])}, questions rejected "
        f"{_pct(op['valid']['questions_rejected'])}, junk rejected "
        f"{_pct(op['valid']['junk_rejected'])}.",
        "- `p_question` is the model's probability under its training mixture (the "
        "negatives together weigh as much as the questions), not a rate of the world's junk.",
        "",
        "## Figures (test side: held-out sites + held-out authors)",
        "",
        "| figure | all test | held-out sites |",
        "|---|---|---|",
        f"| precision of rejection | {_pct(s['reject_precision'])} | "
        f"{_pct(s['held_out_sites']['reject_precision'])} |",
        f"| junk rejected (recall) | {_pct(s['reject_recall'])} | "
        f"{_pct(s['held_out_sites']['reject_recall'])} |",
        f"| well-received questions rejected | {_pct(s['well_received_rejected'])} | "
        f"{_pct(s['held_out_sites']['well_received_rejected'])} |",
        f"| junk rejected or unsure | {_pct(s['flag_recall'])} | |",
        f"| real questions unsure | {_pct(s['questions_unsure'])} | |",
        f"| ROC AUC, P(junk), question vs junk | {s['roc_auc']:.3f} | |" if s["roc_auc"] else "",
        f"| reason right, among rejected junk | {_pct(s['reason_accuracy'])} | |",
        "",
        f"Held-out sites: {', '.join(metrics['test_sites'])}.",
        "",
        "Junk rejected, per kind (test side):",
        "",
        "| class | n | rejected | reject or unsure |",
        "|---|---|---|---|",
    ]
    for c, v in metrics["all"]["per_kind"].items():
        lines.append(f"| {c} | {v['n']} | {_pct(v['rejected'])} | {_pct(v['flagged'])} |")
    lines += ["", "## Data card", "",
              "| class | source | train | valid | test | what | bias |", "|---|---|---|---|---|---|---|"]
    for r in meta["data_card"]["rows"]:
        lines.append(f"| {r['class']} | {r['source']} | {r['train']} | {r['valid']} | {r['test']} "
                     f"| {r['what']} | {r['bias']} |")
    lines += [
        "", f"Sites ({len(meta['data_card']['sites'])}): {', '.join(meta['data_card']['sites'])}.",
        f"Data: {', '.join(meta['data']['folders'])} ({meta['data']['license']}).",
        "", "## Limits",
        "- English phrase lists; Latin-script languages pass as questions, other scripts are "
        "flagged (the quality model cannot read them).",
        "- Generated junk is mechanical and the spam is a small template set: figures on it "
        "say the filter learnt these shapes, not that it catches the world's junk.",
        "- Closed-question classes are weak (hundreds of examples) and only warn.",
        "", f"Rebuild: {meta['rebuild']}.", "",
    ]
    return "\n".join(line for line in lines if line is not None)
