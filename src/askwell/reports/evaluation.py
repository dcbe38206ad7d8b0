"""The evaluation report (``askwell evaluate``) as one self-contained HTML page.

The page (head, header, navigation, sections, footer) is the Jinja2 template
``reports/templates/evaluation.html`` (autoescaped, on ``base.html``); each section's
body is built here from small helpers over :mod:`markupsafe` (Jinja2's own escaping):
every value that comes from data (question titles, snippets, tags, feature and model
names, notes) is escaped by ``markupsafe.escape``; only ``Markup`` made from escaped parts
passes through. Figures go through the reports' one helper (:mod:`askwell.reports.figures`):
PNG data URIs with alt text, so the file opens offline and fetches nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from markupsafe import Markup, escape

from askwell.evaluation import plots
from askwell.reports import num, pct, render
from askwell.reports.figures import draw

SECTIONS = (
    ("summary", "Summary"),
    ("metrics", "Metrics"),
    ("confusion", "Confusion matrix"),
    ("roc", "ROC & operating point"),
    ("calibration", "Calibration"),
    ("examples", "Top-k examples"),
    ("importance", "Feature importance"),
    ("leakage", "Leakage alarm"),
    ("learning", "Learning curve"),
    ("segments", "Per-segment performance"),
    ("errormap", "Error map"),
    ("cv", "Cross-validation"),
    ("sites_out", "Sites it never saw"),
    ("comparison", "Comparison"),
    ("data", "Data & provenance"),
)


def esc(value: Any) -> Markup:
    """``markupsafe.escape`` with ``None`` as the empty string."""
    return escape("" if value is None else value)


def join(parts: Iterable[str | None]) -> Markup:
    return Markup("".join(esc(p) for p in parts))


def el(tag: str, *children: Any, **attrs: Any) -> Markup:
    """``<tag attrs>children</tag>`` with escaped attributes and children."""
    attr = "".join(
        f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items() if v is not None
    )
    return Markup(f"<{tag}{attr}>{join(children)}</{tag}>")


def table(headers: list[str], rows: Iterable[list[Any]], numeric: Iterable[int] = ()) -> Markup:
    numeric = set(numeric)
    head = el("tr", *(el("th", h, class_="num" if i in numeric else None) for i, h in enumerate(headers)))
    body = [el("tr", *(el("td", c, class_="num" if i in numeric else None) for i, c in enumerate(r)))
            for r in rows]
    return el("table", el("thead", head), el("tbody", *body))


def callout(text: str, kind: str = "") -> Markup:
    return el("div", text, class_=f"callout {kind}".strip())


def skipped(section: dict[str, Any] | None) -> Markup | None:
    if not section:
        return el("p", "not computed", class_="skipped")
    if "skipped" in section:
        return el("p", f"Skipped: {section['skipped']}.", class_="skipped")
    return None


def with_ci(m: dict[str, Any]) -> Markup:
    if m.get("low") is None:
        return esc(num(m.get("value")))
    return join([num(m["value"]), " ", el("span", f"[{num(m['low'])}, {num(m['high'])}]", class_="ci")])


def _figure(alt: str, fn: Callable[..., str], *args: Any, **kwargs: Any) -> Markup:
    """One figure with its alt text (what it shows, in words); see reports.figures.draw."""
    return draw(alt, fn, *args, **kwargs)


# ---------------------------------------------------------------- sections
def _summary(r: dict[str, Any]) -> Markup:
    findings = r.get("findings") or [{"status": "", "text": line} for line in r["headline"]]
    items = [el("li", el("span", f["status"], class_=f"status {f['status']}") if f["status"] else "",
                " ", f["text"], class_=f"finding {f['status']}".strip()) for f in findings]
    alarm = r.get("leakage", {}).get("flagged")
    parts = [el("ul", *items, class_="headline")]
    if alarm:
        parts.insert(0, callout(r["leakage"]["text"], "alarm"))
    for note in r["data"].get("notes", []):
        parts.append(callout(f"Note: {note}", "alarm"))
    return join(parts)


def _metrics(r: dict[str, Any]) -> Markup:
    m = r["metrics"]
    rows = [[name, with_ci(m["held_out"][name]), with_ci(m["train"][name]),
             num(_diff(m["held_out"][name]["value"], m["train"][name]["value"]))]
            for name in m["names"]]
    diag = m["diagnosis"]
    kind = "ok" if diag["verdict"] == "fine" else ("alarm" if diag["verdict"] == "overfitting" else "")
    return join([
        el("p", f"Point estimates with {m['confidence']:.0%} bootstrap intervals ({m['resamples']:,} "
                f"seeded resamples). Held-out: {m['n']['held_out']:,} questions the model never saw "
                f"(share good {pct(m['positive_rate']['held_out'])}); train: the {m['n']['train']:,} "
                f"questions it was fit on. Threshold {num(r['model']['threshold'])}; positive class = good."),
        table(["metric", "held-out", "train", "held-out − train"], rows, numeric=(1, 2, 3)),
        callout(diag["text"], kind),
    ])


def _diff(a: Any, b: Any) -> float | None:
    return None if a is None or b is None else a - b


def _confusion(r: dict[str, Any]) -> Markup:
    c = r["confusion"]
    rows = [[f"true {lab}", f"{c['counts'][i][0]:,}", f"{c['counts'][i][1]:,}",
             pct(c["normalised"][i][0]), pct(c["normalised"][i][1])] for i, lab in enumerate(c["labels"])]
    return join([
        el("p", f"At the model's threshold {num(c['threshold'])} (good if score ≥ threshold); "
                "rows are true classes, shares are of each true class."),
        el("div", table(["", "predicted bad", "predicted good", "bad (share)", "good (share)"], rows,
                        numeric=(1, 2, 3, 4)),
           _figure(f"Confusion matrix at threshold {num(c['threshold'])}: share of each true class predicted good or bad", plots.confusion, c), class_="grid"),
    ])


def _roc(r: dict[str, Any]) -> Markup:
    o = r["operating_point"]
    auc = r["metrics"]["held_out"]["roc_auc"]["value"]
    rule = "score < threshold" if o["flag"] == "bad" else "score ≥ threshold"
    chosen, model_t = o["chosen"]["threshold"], o["model_threshold"]["threshold"]
    rows = []
    for row in o["table"]:
        mark = " ◀ chosen" if abs(row["threshold"] - chosen) < 1e-6 else (
            " ◀ model" if abs(row["threshold"] - model_t) < 1e-6 else "")
        rows.append([f"{row['threshold']:.4f}{mark}", f"{row.get('flagged', 0):,}", pct(row["flagged_share"]),
                     pct(row["precision"]), pct(row["recall"]), pct(row["false_alarm_rate"])])
    return join([
        el("p", f"A question is flagged as {o['flagged_class']} when {rule}. Flagging a question that "
                "was fine costs the writer time and trust, so the operating point is chosen for a "
                "target precision of the flag unless a target recall is given."),
        callout(o["text"], "" if o["chosen"]["reached"] else "alarm"),
        el("div", _figure(f"ROC curve of the held-out scores (AUC {num(auc)}) with the model's threshold and the chosen operating point", plots.roc, o, auc),
           _figure("Distribution of held-out scores for good and bad questions, with the threshold and operating point", plots.score_histogram, r["scores"], r["model"]["threshold"], chosen),
           class_="grid"),
        el("h3", "Trade-off table"),
        el("p", f"Rows flag the {'lowest' if o['flag'] == 'bad' else 'highest'}-scoring 1%, 2%, 5%... "
                "of held-out questions, plus the model's own "
                "threshold and the chosen point. Precision and recall are those of the flag; false alarms "
                "are the share of the other class flagged."),
        table(["threshold", "flagged", "share", "precision", "recall", "false alarms"], rows,
              numeric=(1, 2, 3, 4, 5)),
    ])


def _calibration(r: dict[str, Any]) -> Markup:
    c = r["calibration"]
    curves = {}
    rows = []
    if "raw" in c:
        curves["raw (before)"] = c["raw"]["reliability_quantile"]
        rows.append(["raw (before calibration)", num(c["raw"]["ece"]), num(c["raw"]["ece_adaptive"]),
                     num(c["raw"]["brier"])])
    curves["calibrated"] = c["calibrated"]["reliability_quantile"]
    rows.append([f"calibrated ({c.get('method') or 'none'})", num(c["calibrated"]["ece"]),
                 num(c["calibrated"]["ece_adaptive"]), num(c["calibrated"]["brier"])])
    bins = [[f"{lo:.1f}-{lo + 0.1:.1f}", f"{n:,}", num(mp), num(fg)]
            for lo, n, mp, fg in zip(c["calibrated"]["reliability"]["edges"], c["calibrated"]["reliability"]["count"],
                                     c["calibrated"]["reliability"]["mean_predicted"],
                                     c["calibrated"]["reliability"]["fraction_good"], strict=False) if n]
    return join([
        el("p", "Expected calibration error (ECE): the question-weighted mean gap between predicted "
                "probability and observed share of good questions, over 10 equal-width bins (the usual "
                "definition) and over 10 equal-count bins (adaptive ECE, which a crowded bin cannot hide). "
                "The diagram uses the equal-count bins; marker size follows the bin's count."),
        callout(c["text"]),
        el("div", el("div", table(["scores", "ECE", "adaptive ECE", "Brier"], rows, numeric=(1, 2, 3)),
                     el("h3", "Calibrated scores, equal-width bins"),
                     table(["bin", "questions", "mean predicted", "observed good"], bins, numeric=(1, 2, 3))),
           _figure("Reliability diagram: observed share of good questions against the mean predicted probability, per equal-count bin", plots.reliability, curves), class_="grid"),
    ])


def _card(card: dict[str, Any]) -> Markup:
    title = el("a", card["title"], href=card["url"]) if card.get("url") else esc(card["title"])
    feats = [
        el("li", f"{f['feature'][:60]}: ", el("span", f"{f['contribution']:+.3f}",
                                              class_="pos" if f["contribution"] > 0 else "neg"),
           f" (value {num(f['value'])})" if "value" in f else "")
        for f in card["features"]
    ]
    return el(
        "div",
        el("div", title, class_="title"),
        el("div", f"{card['site']} · true ", el("span", card["label"], class_=card["label"]),
           f" · score {card['score']:.3f} · predicted {card['predicted']}", class_="meta"),
        el("div", card["snippet"], class_="snippet"),
        el("div", *(el("span", t, class_="tag") for t in card["tags"])),
        el("ul", *feats) if feats else "",
        class_="card",
    )


def _examples(r: dict[str, Any]) -> Markup:
    titles = {"best": "Best: right, most confidently", "worst": "Worst: wrong, most confidently",
              "uncertain": "Most uncertain: closest to the threshold"}
    parts = [el("p", "Top contributing features are contributions to the log-odds of 'good' "
                     "(positive pushes towards good), from the model's own explanation.")]
    for side, name in (("held_out", "Held-out"), ("train", "Train")):
        for kind, title in titles.items():
            cards = r["examples"][side][kind]
            parts.append(el("h3", f"{name} · {title}"))
            parts.append(el("div", *(_card(c) for c in cards), class_="cards") if cards
                         else el("p", "none", class_="skipped"))
    return join(parts)


def _importance(r: dict[str, Any]) -> Markup:
    imp = r["importance"]
    parts: list[Markup | None] = []
    perm = imp.get("permutation")
    if perm and "skipped" in perm:
        parts.append(skipped(perm))
    elif perm:
        parts += [el("h3", "Permutation importance (held-out, per feature)"),
                  el("p", f"Drop in ROC AUC when one feature is shuffled ({perm['rows']:,} held-out rows, "
                          f"{perm['repeats']} repeats, baseline {num(perm['baseline_auc'])})."),
                  _figure("Permutation importance: drop in held-out ROC AUC when each feature is shuffled, largest first", plots.bars, perm["features"], "auc_drop",
                          "ROC AUC drop", err="auc_drop_std")]
    fields = imp.get("permutation_fields")
    if fields:
        parts += [el("h3", "Permutation importance (held-out, per question field)"),
                  table(["field", "ROC AUC drop", "± std"],
                        [[f["feature"], num(f["auc_drop"]), num(f["auc_drop_std"])] for f in fields["fields"]],
                        numeric=(1, 2))]
    if imp.get("contributions"):
        parts += [el("h3", "Mean |contribution| (held-out sample)"),
                  _figure("Mean absolute contribution of each feature to the log-odds of good, held-out sample", plots.bars, imp["contributions"],
                          "mean_abs_contribution", "mean |contribution| to log-odds")]
    if imp.get("native"):
        parts += [el("h3", f"Model-native importance ({imp['native']['kind']})"),
                  _figure("Model-native importance: each feature's share of the total", plots.bars, imp["native"]["features"], "share", "share of total")]
    return join(parts) if parts else el("p", "not available", class_="skipped")


def _leakage(r: dict[str, Any]) -> Markup:
    lk = r["leakage"]
    s = skipped(lk)
    if s:
        return s
    rows = [[f["feature"], num(f["auc"]), num(f["auc_train"]), num(f["auc_held_out"]),
             f["higher_means"] or "-", num(f["mean_good"]), num(f["mean_bad"]), pct(f["missing_share"])]
            for f in lk["features"]]
    return join([
        el("p", f"Each of {lk['n_features']} features of {lk['source']} scored alone by max(AUC, 1−AUC). "
                f"Alarm above {lk['threshold']:.2f}: a single writing feature beating whole models "
                "(held-out ROC AUC about 0.65-0.80 on this task) by that much most likely encodes the outcome."),
        callout(lk["text"], "alarm" if lk["flagged"] else "ok"),
        el("div", _figure("Each feature scored alone (ROC AUC) against the leakage alarm line and the whole model", plots.leakage, lk), class_="grid"),
        table(["feature", "AUC", "train", "held-out", "higher means", "mean good", "mean bad", "missing"],
              rows, numeric=(1, 2, 3, 5, 6, 7)),
    ])


def _learning(r: dict[str, Any]) -> Markup:
    lc = r["learning_curve"]
    s = skipped(lc)
    if s:
        return s
    rows = [[f"{p['fraction']:.0%}", f"{p['n_train']:,}", num(p["train_roc_auc"]), num(p["held_out_roc_auc"]),
             num(p["held_out_brier"])] for p in lc["points"]]
    return join([
        el("p", "The same family and parameters re-fit on nested subsets of the training questions "
                "(calibrated on the same calibration fold), scored on the same held-out questions; "
                "100% is the evaluated model."),
        callout(lc["verdict"] or "too few points for a verdict"),
        el("div", _figure("Learning curve: train and held-out ROC AUC against the number of training questions", plots.learning_curve, lc),
           table(["share", "train rows", "train AUC", "held-out AUC", "held-out Brier"], rows,
                 numeric=(1, 2, 3, 4)), class_="grid"),
    ])


def _segments(r: dict[str, Any]) -> Markup:
    sg = r["segments"]
    overall = r["metrics"]["held_out"]["roc_auc"]["value"]
    parts = [el("p", f"Held-out questions grouped several ways; segments under {sg['min_rows']} questions "
                     "are listed but not scored. 'Flagged' = share predicted bad at the model's threshold.")]
    if sg.get("worst"):
        w = sg["worst"]
        parts.append(callout(w["text"], "alarm" if w["outside_interval"] else ""))
    if sg.get("flag_gap"):
        parts.append(callout(sg["flag_gap"]["text"], "alarm" if sg["flag_gap"]["gap"] >= 0.1 else ""))
    names = {"site": "by site", "site_kind": "main vs meta", "length": "by question length",
             "author": "new vs returning author", "tag": "top tags"}
    for dim, rows in sg["dimensions"].items():
        if not rows:
            continue
        parts.append(el("h3", names.get(dim, dim)))
        body = []
        for row in rows:
            if row.get("too_small"):
                body.append([row["segment"], f"{row['n']:,}", "(too small)", "", "", "", "", ""])
                continue
            auc = join([num(row["roc_auc"]), " ", el("span", f"[{num(row['roc_auc_low'])}, "
                                                            f"{num(row['roc_auc_high'])}]", class_="ci")])
            body.append([row["segment"], f"{row['n']:,}", pct(row["positive_rate"]), auc,
                         num(row.get("roc_auc_gap")), num(row["accuracy"]), num(row["f1"]),
                         pct(row["flagged_share"])])
        scored = [row for row in rows if not row.get("too_small")]
        fig = _figure(f"Held-out ROC AUC with 95% intervals per segment ({names.get(dim, dim)}) against the overall AUC", plots.segments, scored, overall) if scored else ""
        parts.append(el("div", table(["segment", "n", "good", "ROC AUC", "gap", "accuracy", "F1", "flagged"],
                                     body, numeric=(1, 2, 4, 5, 6, 7)), fig, class_="grid"))
    return join(parts)


def _errormap(r: dict[str, Any]) -> Markup:
    em = r["error_map"]
    s = skipped(em)
    if s:
        return s
    proj = em["projection"]
    axes = proj.get("axis_features") or proj.get("axis_terms")
    parts = [el("p", f"{proj['method']} of {em['n']:,} held-out questions; {em['errors']:,} errors "
                     f"({pct(em['error_rate'])}) in red. Explained variance: "
                     + ", ".join(pct(v) for v in proj.get("explained_variance", [])) + ".")]
    if axes:
        parts.append(el("p", "Axes are driven by: " + "; ".join(
            f"component {i + 1}: {', '.join(a)}" for i, a in enumerate(axes))))
    region = em.get("region")
    parts.append(el("div", _figure(f"Error map: {em['n']:,} held-out questions projected to two components, errors marked", plots.error_map, em), class_="grid"))
    if region:
        parts.append(callout(region["text"]))
        if region.get("profile"):
            parts.append(table(["feature", "region mean", "rest mean", "effect (SD)"],
                               [[f["feature"], num(f["region_mean"]), num(f["rest_mean"]), num(f["effect"], 2)]
                                for f in region["profile"]], numeric=(1, 2, 3)))
        parts.append(el("h3", "Errors from the densest region"))
        parts.append(el("div", *(_card(c) for c in region["examples"]), class_="cards"))
    return join(parts)


def _cv(r: dict[str, Any]) -> Markup:
    cv = r["cv"]
    s = skipped(cv)
    if s:
        return s
    rows = [[f["fold"], f"{f['n_train']:,}", f"{f['n_test']:,}"]
            + (["(skipped: one class only)"] + [""] * 4 if f.get("skipped")
               else [num(f["roc_auc"]), num(f["pr_auc"]), num(f["accuracy"]), num(f["f1"]), num(f["brier"])])
            for f in cv["folds"]]
    summ = [[k, num(v["mean"]), num(v["std"]), num(v["min"]), num(v["max"])] for k, v in cv["summary"].items()]
    single = r["metrics"]["held_out"]["roc_auc"]["value"]
    return join([
        el("p", f"{cv['k']} folds of the {cv['kind']} kind over all labelled questions, re-fitting the "
                "same family and parameters on each."),
        el("div", _figure("Held-out ROC AUC of each cross-validation fold against the evaluated split", plots.cv_folds, cv, single),
           table(["metric", "mean", "std", "min", "max"], summ, numeric=(1, 2, 3, 4)), class_="grid"),
        table(["fold", "train", "test", "ROC AUC", "PR AUC", "accuracy", "F1", "Brier"], rows,
              numeric=(1, 2, 3, 4, 5, 6, 7)),
    ])


def _sites_out(r: dict[str, Any]) -> Markup:
    lo = r.get("sites_out") or {"skipped": "not in this report"}
    s = skipped(lo)
    if s:
        return s
    rows = [[x["site"], f"{x['n']:,}", f"{x['bad']:,}", pct(x["base_rate"]),
             join([num(x["roc_auc"]), " ", el("span", f"[{num(x['roc_auc_low'])}, {num(x['roc_auc_high'])}]",
                                             class_="ci")]),
             num(x["brier"], 4), num(x["brier_kind_rate"], 4), num(x["brier_base_rate"], 4),
             num(x["brier_with_site_rate"], 4), pct(x["mean_predicted"]), num(x["ece"], 3)]
            for x in lo["sites"]]
    m = lo["macro"]
    if m:
        rows.append([el("strong", "macro average"), "", "", "", num(m["roc_auc"]), num(m["brier"], 4),
                     num(m["brier_kind_rate"], 4), num(m["brier_base_rate"], 4),
                     num(m["brier_with_site_rate"], 4), "", num(m["ece"], 3)])
    parts = [
        el("p", "Each main site in turn is left out entirely; the same family and parameters are "
                f"re-fit on the other sites ({lo['split']} split for calibration) and the site is scored "
                "as a new one (its kind's calibration, not its own base rate). Brier is compared with "
                "two constants: the kind's base rate over the training sites (the best guess without "
                "the site's labels) and the site's own base rate (an oracle). The last Brier column is "
                "the model given the site's base rate, as per-site calibration has once the site is "
                "in the training data."),
        callout(lo["verdict"], "" if m and m["brier"] < m["brier_kind_rate"] else "alarm"),
        table(["held-out site", "questions", "bad", "good", "ROC AUC", "Brier", "Brier kind rate",
               "Brier site rate (oracle)", "Brier given site rate", "mean predicted", "ECE"],
              rows, numeric=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)),
    ]
    if lo.get("skipped"):
        parts.append(el("p", "Not held out (too few of one class): " + ", ".join(
            f"{x['site']} ({x['n']} questions, {x['bad']} bad)" for x in lo["skipped"])))
    return join(parts)


def _comparison(r: dict[str, Any]) -> Markup:
    comps = r.get("comparison") or []
    if not comps:
        return el("p", "No other model given (--against).", class_="skipped")
    a = r["model"]["name"]
    parts: list[Markup | None] = []
    for comp in comps:
        parts.append(el("h3", f"{a} vs {comp['name']}"))
        for note in comp.get("notes", []):
            parts.append(callout(f"Note: {note}", "alarm"))
        if comp.get("skipped"):
            parts.append(skipped(comp))
            continue
        parts.append(callout(comp["text"]))
        rows = [[k, num(v["a"]), num(v["b"]), num(v["difference"]),
                 el("span", f"[{num(v['low'])}, {num(v['high'])}]", class_="ci"),
                 pct(v["share_a_better"]), "yes" if v["significant"] else "no"]
                for k, v in comp["metrics"].items()]
        parts.append(el("p", f"On the {comp['rows']:,} held-out questions neither model was trained on; "
                             f"thresholds {num(comp['thresholds']['a'])} and {num(comp['thresholds']['b'])}. "
                             "Intervals from a paired bootstrap (same resampled rows for both)."))
        parts.append(table(["metric", a, comp["name"], "difference", "95% interval", "share evaluated better",
                            "interval excludes 0"], rows, numeric=(1, 2, 3, 5)))
        parts.append(el("div", _figure(f"ROC curves of {a} and {comp['name']} on the same held-out questions", plots.comparison_roc, comp, a),
                        _figure(f"Metric differences {a} minus {comp['name']} with 95% paired bootstrap intervals", plots.comparison_diffs, comp),
                        _figure(f"Reliability diagrams of {a} and {comp['name']}", plots.reliability,
                                {a: comp["reliability"]["a"], comp["name"]: comp["reliability"]["b"]}),
                        class_="grid"))
        parts.append(el("p", f"ECE: {num(comp['ece']['a'])} vs {num(comp['ece']['b'])}."))
        if comp["segments"]:
            parts.append(table(["dimension", "segment", "n", f"{a} AUC", f"{comp['name']} AUC", "difference"],
                               [[s["dimension"], s["segment"], f"{s['n']:,}", num(s["roc_auc_a"]),
                                 num(s["roc_auc_b"]), num(_diff(s["roc_auc_a"], s["roc_auc_b"]))]
                                for s in comp["segments"]], numeric=(2, 3, 4, 5)))
    return join(parts)


def _data(r: dict[str, Any]) -> Markup:
    d, m = r["data"], r["model"]
    src = m.get("source") or {}
    rows = [
        ["model", m["name"]], ["family", m["family"]], ["source", ", ".join(f"{k}={v}" for k, v in src.items())],
        ["trained at", m.get("trained_at")], ["dataset", d["dataset_id"]], ["label", d["label"]],
        ["split", f"{d['split']} (seed {d['seed']})"],
        ["rows", ", ".join(f"{k} {v:,}" for k, v in d["rows"].items())],
        ["split leakage", ", ".join(f"{k}={v}" for k, v in d.get("split_leakage", {}).items())],
        ["inputs", "; ".join(m.get("inputs") or [])[:400]],
        ["parameters", ", ".join(f"{k}={v}" for k, v in (m.get("params") or {}).items())],
    ]
    timing = [[k, f"{v:.2f}s"] for k, v in r.get("timings", {}).items()]
    return join([table(["", ""], rows), el("h3", "Timings"), table(["step", "seconds"], timing, numeric=(1,))])


RENDERERS: dict[str, Callable[[dict[str, Any]], Markup]] = {
    "summary": _summary, "metrics": _metrics, "confusion": _confusion, "roc": _roc,
    "calibration": _calibration, "examples": _examples, "importance": _importance,
    "leakage": _leakage, "learning": _learning, "segments": _segments, "errormap": _errormap,
    "cv": _cv, "sites_out": _sites_out, "comparison": _comparison, "data": _data,
}


def render_html(report: dict[str, Any]) -> str:
    """The whole report as one HTML document."""
    sections = []
    for key, title in SECTIONS:
        try:
            content = RENDERERS[key](report)
        except Exception as exc:  # one broken section must not lose the others
            content = el("p", f"(this section could not be rendered: {type(exc).__name__}: {exc})",
                         class_="skipped")
        sections.append({"id": key, "title": title, "body": content})
    m, d = report["model"], report["data"]
    return render(
        "evaluation.html",
        title=f"Evaluation: {m['name']}",
        subtitle=(f"{m['family']} model · {d['label']} label · {d['split']} split · dataset "
                  f"{d['dataset_id']} · {d['rows']['test']:,} held-out questions"),
        sections=sections,
        version=report.get("askwell_version", ""),
        created=report.get("created", ""),
    )
