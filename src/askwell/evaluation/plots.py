"""Figures for the report, drawn from the report dict (never from a model).

Each function returns an ``<img>``-ready ``data:image/png;base64,...`` URI (through the
reports' one figure helper, :mod:`askwell.reports.figures`, whose colour-blind-safe palette
it uses), so the HTML report is one self-contained file. Every axis is labelled. Figures are built with ``matplotlib.figure.Figure``
and the Agg canvas directly: no pyplot global state, no display needed, safe in threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from askwell.reports import figures
from askwell.reports.figures import ACCENT, BAD, GOOD
from askwell.reports.figures import NEUTRAL as MUTED

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 100


def _figure(w: float = 5.2, h: float = 3.6) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=DPI, layout="constrained")
    return fig


def _uri(fig: Any) -> str:
    return figures.png_uri(fig, dpi=DPI, tight=False)


def _style(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(alpha=0.25, linewidth=0.6)
    ax.tick_params(labelsize=8)


def roc(section: dict[str, Any], auc: float | None) -> str:
    """ROC curve (positive = good) with the model's threshold and the chosen operating point."""
    fig = _figure()
    ax = fig.add_subplot()
    r = section["roc"]
    ax.plot(r["fpr"], r["tpr"], color=ACCENT, lw=2, label=f"ROC (AUC {auc:.3f})" if auc else "ROC")
    ax.plot([0, 1], [0, 1], color=MUTED, ls="--", lw=1, label="chance")
    for point, colour, name in ((section["model_threshold"], MUTED, "model threshold"),
                                (section["chosen"], BAD, "chosen operating point")):
        xy = _roc_xy(point, section["flag"])
        if xy:
            ax.scatter(*xy, s=60, color=colour, zorder=5, edgecolor="white",
                       label=f"{name} ({point['threshold']:.3f})")
    ax.set_xlabel("false positive rate (bad questions scored good)", fontsize=8)
    ax.set_ylabel("true positive rate (good questions scored good)", fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    _style(ax)
    return _uri(fig)


def _roc_xy(point: dict[str, Any], flag: str) -> tuple[float, float] | None:
    """A flag-table row as a point on the (positive = good) ROC curve."""
    rec, fa = point.get("recall"), point.get("false_alarm_rate")
    if rec is None or fa is None:
        return None
    if flag == "bad":  # flagged bad = predicted bad: TPR(good) = 1 - false alarms, FPR = 1 - recall
        return 1 - rec, 1 - fa
    return fa, rec


def confusion(section: dict[str, Any]) -> str:
    fig = _figure(5.6, 2.6)
    for k, (key, title) in enumerate((("counts", "counts"), ("normalised", "share of true class"))):
        ax = fig.add_subplot(1, 2, k + 1)
        m = np.array(section[key], dtype=float)
        norm = np.array(section["normalised"], dtype=float)
        ax.imshow(np.nan_to_num(norm), cmap="Blues", vmin=0, vmax=1)
        for i in range(2):
            for j in range(2):
                text = f"{int(m[i, j]):,}" if key == "counts" else f"{m[i, j]:.0%}"
                ax.text(j, i, text, ha="center", va="center", fontsize=10,
                        color="white" if norm[i, j] > 0.6 else "black")
        ax.set_xticks([0, 1], ["bad", "good"], fontsize=8)
        ax.set_yticks([0, 1], ["bad", "good"], fontsize=8)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("true", fontsize=8)
        ax.set_title(title, fontsize=9)
    return _uri(fig)


def reliability(curves: dict[str, dict[str, Any]]) -> str:
    """Reliability diagram: observed good share against mean predicted probability per bin.

    Marker area follows the bin's question count; the axes zoom to the occupied range
    (with the diagonal kept) so crowded calibrated scores stay readable.
    """
    fig = _figure(5.2, 4.2)
    ax = fig.add_subplot()
    colours = [MUTED, ACCENT, GOOD, BAD]
    lows = []
    for k, (name, rel) in enumerate(curves.items()):
        pts = [(x, y, c) for x, y, c in zip(rel["mean_predicted"], rel["fraction_good"], rel["count"], strict=True)
               if c]
        if not pts:
            continue
        xs, ys, cs = (np.array(v, dtype=float) for v in zip(*pts, strict=True))
        ax.plot(xs, ys, color=colours[k % 4], lw=1.2, label=name)
        ax.scatter(xs, ys, s=12 + 120 * cs / cs.max(), color=colours[k % 4], alpha=0.8, zorder=3)
        lows.append(min(xs.min(), ys.min()))
    lo = max(0.0, min(lows, default=0.0) - 0.05)
    lo = 0.0 if lo < 0.3 else lo
    ax.plot([lo, 1], [lo, 1], color=MUTED, ls="--", lw=1, label="perfect")
    ax.set_xlim(lo, 1.0)
    ax.set_ylim(lo, 1.0)
    ax.set_xlabel("mean predicted probability good (per bin)", fontsize=8)
    ax.set_ylabel("observed share good", fontsize=8)
    ax.legend(fontsize=7, loc="upper left")
    _style(ax)
    return _uri(fig)


def score_histogram(section: dict[str, Any], threshold: float, chosen: float | None) -> str:
    """Score distribution of each true class, as shares of that class (classes can be rare)."""
    fig = _figure(5.2, 3.0)
    ax = fig.add_subplot()
    edges = np.array(section["edges"])
    w = np.diff(edges)
    for key, colour in (("good", GOOD), ("bad", BAD)):
        counts = np.array(section[key], dtype=float)
        share = counts / counts.sum() if counts.sum() else counts
        ax.bar(edges[:-1], share, width=w, align="edge", color=colour, alpha=0.5,
               label=f"{key} (n={int(counts.sum()):,})")
    ax.axvline(threshold, color="black", lw=1, ls="--", label=f"model threshold {threshold:.3f}")
    if chosen is not None:
        ax.axvline(chosen, color=BAD, lw=1.2, label=f"operating point {chosen:.3f}")
    ax.set_xlabel("predicted probability good", fontsize=8)
    ax.set_ylabel("share of the class", fontsize=8)
    ax.legend(fontsize=7)
    _style(ax)
    return _uri(fig)


def bars(rows: list[dict[str, Any]], value: str, label: str, *, err: str | None = None,
         line: float | None = None, line_label: str = "", top: int = 15) -> str:
    rows = [r for r in rows if r.get(value) is not None][:top]
    fig = _figure(5.6, 0.5 + 0.28 * max(len(rows), 1))
    ax = fig.add_subplot()
    names = [str(r.get("feature") or r.get("segment"))[:40] for r in rows][::-1]
    vals = [r[value] for r in rows][::-1]
    errs = [r.get(err) or 0 for r in rows][::-1] if err else None
    ax.barh(names, vals, xerr=errs, color=ACCENT, alpha=0.8, error_kw={"lw": 0.8})
    if line is not None:
        ax.axvline(line, color=BAD, ls="--", lw=1, label=line_label)
        ax.legend(fontsize=7, loc="lower right")
    ax.set_xlabel(label, fontsize=8)
    ax.set_ylabel("feature", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    _style(ax)
    return _uri(fig)


def leakage(section: dict[str, Any]) -> str:
    rows = section["features"][:15]
    fig = _figure(5.6, 0.5 + 0.28 * max(len(rows), 1))
    ax = fig.add_subplot()
    names = [r["feature"][:40] for r in rows][::-1]
    vals = [r["auc"] or 0.5 for r in rows][::-1]
    colours = [BAD if v > section["threshold"] else ACCENT for v in vals]
    ax.barh(names, vals, color=colours, alpha=0.85)
    ax.axvline(section["threshold"], color=BAD, ls="--", lw=1, label=f"alarm {section['threshold']:.2f}")
    if section.get("model_auc"):
        ax.axvline(section["model_auc"], color=GOOD, ls=":", lw=1.2,
                   label=f"whole model {section['model_auc']:.3f}")
    ax.set_xlim(0.5, 1.0)
    ax.set_xlabel("ROC AUC of the feature alone, max(AUC, 1-AUC)", fontsize=8)
    ax.set_ylabel("feature", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=7, loc="lower right")
    _style(ax)
    return _uri(fig)


def learning_curve(section: dict[str, Any]) -> str:
    pts = section["points"]
    fig = _figure()
    ax = fig.add_subplot()
    n = [p["n_train"] for p in pts]
    ax.plot(n, [p["train_roc_auc"] for p in pts], marker="o", color=MUTED, label="train")
    ax.plot(n, [p["held_out_roc_auc"] for p in pts], marker="o", color=ACCENT, label="held-out")
    ax.set_xscale("log")
    ax.set_xlabel("training questions", fontsize=8)
    ax.set_ylabel("ROC AUC", fontsize=8)
    ax.legend(fontsize=7)
    _style(ax)
    return _uri(fig)


def segments(rows: list[dict[str, Any]], overall: float | None) -> str:
    rows = [r for r in rows if not r.get("too_small") and r.get("roc_auc") is not None]
    fig = _figure(5.6, 0.6 + 0.3 * max(len(rows), 1))
    ax = fig.add_subplot()
    names = [f"{r['segment'][:34]} (n={r['n']})" for r in rows][::-1]
    vals = np.array([r["roc_auc"] for r in rows][::-1])
    lo = np.array([r.get("roc_auc_low") if r.get("roc_auc_low") is not None else r["roc_auc"] for r in rows][::-1])
    hi = np.array([r.get("roc_auc_high") if r.get("roc_auc_high") is not None else r["roc_auc"] for r in rows][::-1])
    ax.errorbar(vals, names, xerr=[vals - lo, hi - vals], fmt="o", color=ACCENT, ms=4, lw=1)
    if overall is not None:
        ax.axvline(overall, color=BAD, ls="--", lw=1, label=f"overall {overall:.3f}")
        ax.legend(fontsize=7, loc="lower left")
    ax.set_xlabel("ROC AUC (95% bootstrap interval)", fontsize=8)
    ax.set_ylabel("segment (questions)", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    _style(ax)
    return _uri(fig)


def error_map(section: dict[str, Any]) -> str:
    pts = section["points"]
    x, y, e = np.array(pts["x"]), np.array(pts["y"]), np.array(pts["error"], dtype=bool)
    fig = _figure(5.6, 4.4)
    ax = fig.add_subplot()
    ax.scatter(x[~e], y[~e], s=6, color=MUTED, alpha=0.35, label="correct", linewidths=0)
    ax.scatter(x[e], y[e], s=9, color=BAD, alpha=0.75, label="error", linewidths=0)
    region = section.get("region")
    if region:
        from matplotlib.patches import Rectangle

        (x0, x1), (y0, y1) = region["x_range"], region["y_range"]
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="black", lw=1.5,
                               label="densest error region"))
    ax.set_xlabel("component 1", fontsize=8)
    ax.set_ylabel("component 2", fontsize=8)
    ax.legend(fontsize=7, markerscale=2)
    _style(ax)
    return _uri(fig)


def cv_folds(section: dict[str, Any], single: float | None) -> str:
    folds = [f for f in section["folds"] if not f.get("skipped")]
    fig = _figure(5.2, 2.8)
    ax = fig.add_subplot()
    ax.plot([f["fold"] for f in folds], [f["roc_auc"] for f in folds], "o-", color=ACCENT, label="fold")
    if single is not None:
        ax.axhline(single, color=BAD, ls="--", lw=1, label=f"evaluated split {single:.3f}")
    ax.set_xlabel("fold", fontsize=8)
    ax.set_ylabel("held-out ROC AUC", fontsize=8)
    ax.legend(fontsize=7)
    _style(ax)
    return _uri(fig)


def comparison_roc(comp: dict[str, Any], name_a: str) -> str:
    fig = _figure()
    ax = fig.add_subplot()
    for key, colour, name in (("a", ACCENT, name_a), ("b", BAD, comp["name"])):
        r = comp["roc"][key]
        auc = comp["metrics"]["roc_auc"][key]
        ax.plot(r["fpr"], r["tpr"], color=colour, lw=2,
                label=f"{name[:40]} (AUC {auc:.3f})" if auc is not None else name[:40])
    ax.plot([0, 1], [0, 1], color=MUTED, ls="--", lw=1)
    ax.set_xlabel("false positive rate", fontsize=8)
    ax.set_ylabel("true positive rate", fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    _style(ax)
    return _uri(fig)


def comparison_diffs(comp: dict[str, Any]) -> str:
    names = [k for k, v in comp["metrics"].items() if v["difference"] is not None]
    fig = _figure(5.6, 0.6 + 0.3 * len(names))
    ax = fig.add_subplot()
    d = np.array([comp["metrics"][k]["difference"] for k in names])
    lo = np.array([comp["metrics"][k]["low"] if comp["metrics"][k]["low"] is not None else v
                   for k, v in zip(names, d, strict=True)])
    hi = np.array([comp["metrics"][k]["high"] if comp["metrics"][k]["high"] is not None else v
                   for k, v in zip(names, d, strict=True)])
    ax.errorbar(d, names, xerr=[d - lo, hi - d], fmt="o", color=ACCENT, ms=4, lw=1)
    ax.axvline(0, color=MUTED, lw=1)
    ax.set_xlabel("difference (evaluated − other), 95% paired bootstrap interval", fontsize=8)
    ax.set_ylabel("metric", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    _style(ax)
    return _uri(fig)
