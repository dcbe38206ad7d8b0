"""The data-quality report, following the book's rubric: format, quality, quantity and
distribution, summary statistics per class, and leakage of the author and time splits.

:func:`build_report` computes everything into a plain, JSON-ready dict (the figures);
the renderers only read that dict: :mod:`askwell.reports.data` (one self-contained HTML
page on a Jinja2 template) and :func:`askwell.cli.data.print_data_report` (the terminal).
Each finding carries a status: ``pass``, ``warn`` or ``fail``.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from askwell.data.labels import DEFAULT_LABEL, LABELS, count_labels, get_label, label_values
from askwell.data.splits import (
    NEAR_DUPLICATE_THRESHOLD,
    TextIndex,
    make_split,
)
from askwell.plain import json_safe

REPORT_VERSION = 1
#: The splits whose leakage the report measures (random is the reference point).
LEAKAGE_SPLITS = ("author", "time", "random")
SECTIONS = ("format", "quality", "quantity", "per-class", "leakage")

COLUMN_DESCRIPTIONS: dict[str, str] = {
    "site": "Stack Exchange site the question comes from",
    "site_kind": "main site or its meta site",
    "post_id": "question id within its site",
    "question_id": "site:post_id, unique across sites",
    "title": "question title as shown (last edit)",
    "body_html": "question body as HTML (last edit)",
    "body_text": "plain text of body_html (askwell.data.document.parse_html)",
    "structure": "JSON spans [kind, start, end] into body_text",
    "n_code_blocks": "code blocks (<pre>) in the body",
    "n_inline_code": "inline code (<code>) in the body",
    "n_links": "links (<a>) in the body",
    "n_images": "images (<img>) in the body",
    "n_lists": "lists (<ul>/<ol>) in the body",
    "n_list_items": "list items in the body",
    "n_blockquotes": "block quotes in the body",
    "n_headings": "headings (<h1>-<h6>) in the body",
    "code_chars": "characters of body_text inside code",
    "tags": "the question's tags",
    "creation_date": "when the question was posted",
    "owner_user_id": "author's user id on that site (null: deleted or anonymous)",
    "score": "up votes minus down votes at dump time",
    "view_count": "views at dump time",
    "answer_count": "answers at dump time",
    "comment_count": "comments at dump time",
    "favorite_count": "bookmarks at dump time (absent in newer dumps)",
    "accepted_answer_id": "id of the accepted answer, if any",
    "closed_date": "when the question was closed (null: open)",
    "close_reason": "duplicate | other | unknown (site dump has no PostHistory) | null",
    "has_history": "the site's dump has PostHistory.xml",
    "first_title": "title as first posted (from PostHistory)",
    "first_body_html": "body as first posted (from PostHistory; Markdown source, not HTML)",
    "edit_count": "edits of title, body or tags after posting",
    "reopen_count": "times the question was reopened",
    "author_prior_questions": "questions the author posted before this one (same site)",
    "author_prior_answers": "answers the author posted before this question (same site)",
    "author_account_age_days": "age of the author's account when posting, in days",
    "content_license": "license of the post text (CC BY-SA version)",
}

TEXT_DERIVATION = (
    "Bodies are HTML in the dumps. Ingest runs askwell.data.document.parse_html on each "
    "body: block elements become line breaks, script/style are dropped, and the readable "
    "text is kept as body_text together with located spans (code blocks, inline code, "
    "links, images, lists, quotes, headings) whose counts are the n_* columns. A writer's "
    "Markdown goes through the same parser (parse_body), so structure means the same in "
    "training and serving."
)

#: (column, group, description) of the per-class comparison. "after posting" columns are
#: outcomes, not features: they are shown to explain the labels, never to train on.
CLASS_FEATURES: tuple[tuple[str, str, str], ...] = (
    ("body_tokens", "question", "whitespace-separated tokens in the body, code included"),
    ("body_chars", "question", "characters in the body"),
    ("title_tokens", "question", "whitespace-separated tokens in the title"),
    ("title_question_mark", "question", "title contains '?' (share)"),
    ("n_code_blocks", "question", "code blocks"),
    ("has_code_block", "question", "has a code block (share)"),
    ("n_inline_code", "question", "inline code spans"),
    ("code_chars", "question", "characters of code"),
    ("n_links", "question", "links"),
    ("n_images", "question", "images"),
    ("n_lists", "question", "lists"),
    ("n_blockquotes", "question", "block quotes"),
    ("n_headings", "question", "headings"),
    ("n_tags", "question", "tags"),
    ("has_owner", "author", "has a known author (share)"),
    ("author_prior_questions", "author", "author's earlier questions"),
    ("author_prior_answers", "author", "author's earlier answers"),
    ("author_account_age_days", "author", "author's account age, days"),
    ("view_count", "after posting", "views"),
    ("answer_count", "after posting", "answers"),
    ("comment_count", "after posting", "comments"),
    ("edit_count", "after posting", "edits"),
)

_LENGTH_EDGES = [0, 10, 20, 35, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000]


# ---------------------------------------------------------------- helpers
def _share(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _derived(frame: pd.DataFrame) -> pd.DataFrame:
    """The per-question figures the report compares (columns missing in ``frame`` are NaN)."""
    n = len(frame)
    out = pd.DataFrame(index=frame.index)
    body = frame["body_text"].fillna("").astype(str) if "body_text" in frame else pd.Series([""] * n, index=frame.index)
    title = frame["title"].fillna("").astype(str) if "title" in frame else pd.Series([""] * n, index=frame.index)
    # tokens, not the feature registry's ``body_words`` (prose words, code left out): the
    # report describes the raw text the dump holds, under names that mean only that
    out["body_tokens"] = body.str.split().str.len().astype(float)
    out["body_chars"] = body.str.len().astype(float)
    out["title_tokens"] = title.str.split().str.len().astype(float)
    out["title_question_mark"] = title.str.contains("?", regex=False).astype(float)
    for col in ("n_code_blocks", "n_inline_code", "code_chars", "n_links", "n_images", "n_lists",
                "n_blockquotes", "n_headings", "author_prior_questions", "author_prior_answers",
                "author_account_age_days", "view_count", "answer_count", "comment_count", "edit_count"):
        out[col] = pd.to_numeric(frame[col], errors="coerce").astype(float) if col in frame else np.nan
    out["has_code_block"] = (out["n_code_blocks"] > 0).astype(float).where(out["n_code_blocks"].notna())
    out["n_tags"] = frame["tags"].map(_tag_count).astype(float) if "tags" in frame else np.nan
    if "owner_user_id" in frame:
        owner = pd.to_numeric(frame["owner_user_id"], errors="coerce")
        out["has_owner"] = (owner.notna() & (owner > 0)).astype(float)
    else:
        out["has_owner"] = np.nan
    return out


def _tag_count(tags: Any) -> int:
    return 0 if tags is None or (isinstance(tags, float) and math.isnan(tags)) else len(tags)


def _tags(tags: Any) -> list[str]:
    return [] if _tag_count(tags) == 0 else [str(t) for t in tags]


def _auc(good: np.ndarray, bad: np.ndarray) -> float | None:
    """P(feature of a good question > that of a bad one), ties counted half (Mann-Whitney)."""
    from sklearn.metrics import roc_auc_score

    if len(good) == 0 or len(bad) == 0:
        return None
    scores = np.nan_to_num(np.concatenate([good, bad]), posinf=np.finfo(float).max,
                           neginf=-np.finfo(float).max)  # infinities keep their rank
    labels = np.r_[np.ones(len(good)), np.zeros(len(bad))]
    return round(round(float(roc_auc_score(labels, scores)), 12), 4)  # 12: drop float noise first


# ---------------------------------------------------------------- sections
def _format_section(frame: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any]:
    columns = []
    for col in frame.columns:
        series = frame[col]
        columns.append(
            {
                "name": col,
                "dtype": str(series.dtype),
                "non_null": int(series.notna().sum()),
                "description": COLUMN_DESCRIPTIONS.get(col, ""),
            }
        )
    spans: Counter[str] = Counter()
    for col in ("n_code_blocks", "n_inline_code", "n_links", "n_images", "n_lists",
                "n_list_items", "n_blockquotes", "n_headings"):
        if col in frame:
            spans[col.removeprefix("n_")] = int(pd.to_numeric(frame[col], errors="coerce").sum())
    sources = [
        {"site": s.get("site"), "kind": s.get("kind"), "questions": s.get("questions"),
         "files": sorted(s.get("files", {})), "rejected": sum(s.get("rejected", {}).values())}
        for s in meta.get("sites", [])
    ]
    example = None
    if {"body_html", "body_text"} <= set(frame.columns) and len(frame):
        rich = frame[[c for c in ("n_code_blocks", "n_links") if c in frame]].gt(0).all(axis=1)
        row = frame[rich].iloc[0] if rich.any() else frame.iloc[0]
        example = {"question_id": row.get("question_id"), "body_html": str(row["body_html"])[:800],
                   "body_text": str(row["body_text"])[:800]}
    return {
        "rows": len(frame),
        "columns": columns,
        "text_example": example,
        "text_derivation": TEXT_DERIVATION,
        "span_totals": dict(spans),
        "sources": sources,
    }


def _quality_section(
    frame: pd.DataFrame, derived: pd.DataFrame, index: TextIndex, max_examples: int = 8
) -> dict[str, Any]:
    n = len(frame)
    missing = {}
    for col in frame.columns:
        miss = int(frame[col].isna().sum())
        if miss:
            missing[col] = {"n": miss, "share": _share(miss, n)}
    body_tokens = derived["body_tokens"]
    title_tokens = derived["title_tokens"]
    score = pd.to_numeric(frame.get("score", pd.Series(np.nan, index=frame.index)), errors="coerce")
    answers = pd.to_numeric(frame.get("answer_count", pd.Series(np.nan, index=frame.index)), errors="coerce")
    zero_unanswered = int(((score == 0) & (answers.fillna(0) == 0)).sum())
    near_zero = int(score.abs().le(1).sum())
    closed = frame["closed_date"].notna() if "closed_date" in frame else pd.Series(False, index=frame.index)
    reasons = frame["close_reason"].astype(object) if "close_reason" in frame else pd.Series(None, index=frame.index)
    at_median = int((score == frame.groupby("site")["score"].transform("median")).sum()) if "site" in frame else 0
    negative = score < 0
    closed_not_dup = closed & (reasons != "duplicate")
    weak = {
        "zero_score_unanswered": {"n": zero_unanswered, "share": _share(zero_unanswered, n)},
        "score_at_site_median": {"n": at_median, "share": _share(at_median, n)},
        "grade_bad_reasons": {
            "negative_score_only": int((negative & ~closed_not_dup).sum()),
            "closed_only": int((closed_not_dup & ~negative).sum()),
            "both": int((negative & closed_not_dup).sum()),
            "closed_reason_unknown": int((closed_not_dup & (reasons == "unknown")).sum()),
        },
        "score_within_1_of_zero": {"n": near_zero, "share": _share(near_zero, n)},
        "closed": {"n": int(closed.sum()), "share": _share(int(closed.sum()), n)},
        "closed_reason_unknown": int((closed & (reasons == "unknown")).sum()),
        "closed_as_duplicate": int((closed & (reasons == "duplicate")).sum()),
    }
    # duplicates by normalised text hash, and near-identical pairs
    groups = pd.Series(index.hashes).value_counts()
    dup_groups = groups[groups > 1]
    near = index.near_duplicate_pairs()
    sites = frame["site"].astype(str).to_numpy() if "site" in frame else np.full(n, "")
    ids = frame["question_id"].astype(str).to_numpy() if "question_id" in frame else np.arange(n).astype(str)
    titles = frame["title"].astype(str).to_numpy() if "title" in frame else np.full(n, "")
    near_rows = {i for p in near for i in p[:2]}
    cross_site = [p for p in near if sites[p[0]] != sites[p[1]]]
    examples = [
        {"a": ids[i], "b": ids[j], "jaccard": sim, "title_a": titles[i], "title_b": titles[j]}
        for i, j, sim in sorted(near, key=lambda p: (-p[2], p[0], p[1]))[:max_examples]
    ]
    duplicates = {
        "identical_groups": len(dup_groups),
        "identical_rows": int(dup_groups.sum()),
        "near_threshold": NEAR_DUPLICATE_THRESHOLD,
        "near_identical_pairs": len(near),
        "near_identical_rows": len(near_rows),
        "near_identical_cross_site_pairs": len(cross_site),
        "examples": examples,
    }
    edits: dict[str, Any] = {}
    if "has_history" in frame:
        hist = frame[frame["has_history"].astype(bool)]
        sites_without = sorted(set(frame.loc[~frame["has_history"].astype(bool), "site"].astype(str)))
        edited = pd.to_numeric(hist.get("edit_count"), errors="coerce").fillna(0) > 0 if len(hist) else pd.Series(dtype=bool)
        changed = (
            hist["first_title"].notna() & (hist["first_title"].astype(str) != hist["title"].astype(str))
            if len(hist) and "first_title" in hist else pd.Series(dtype=bool)
        )
        edits = {
            "rows_with_history": len(hist),
            "sites_without_history": sites_without,
            "edited_after_posting": {"n": int(edited.sum()), "share": _share(int(edited.sum()), len(hist))},
            "title_changed_since_posting": {"n": int(changed.sum()), "share": _share(int(changed.sum()), len(hist))},
        }
    return {
        "missing": missing,
        "empty_bodies": int((body_tokens.fillna(0) == 0).sum()),
        "short_bodies_under_10_tokens": int((body_tokens.fillna(0) < 10).sum()),
        "empty_titles": int((title_tokens.fillna(0) == 0).sum()),
        "weak_labels": weak,
        "duplicates": duplicates,
        "edits": edits,
    }


def _percentiles(values: pd.Series) -> dict[str, float | None]:
    v = values.dropna()
    if v.empty:
        return {}
    q = v.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).to_numpy()
    return {"min": float(v.min()), "p05": q[0], "p25": q[1], "median": q[2], "p75": q[3],
            "p95": q[4], "max": float(v.max()), "mean": float(v.mean())}


def _quantity_section(
    frame: pd.DataFrame, derived: pd.DataFrame, labels: dict[str, pd.Series], label: str, top_tags: int
) -> dict[str, Any]:
    n = len(frame)
    kinds = frame["site_kind"].astype(str) if "site_kind" in frame else pd.Series("main", index=frame.index)
    sites = frame["site"].astype(str)
    score = pd.to_numeric(frame["score"], errors="coerce")
    dates = pd.to_datetime(frame["creation_date"]) if "creation_date" in frame else None
    by_site = []
    for site, idx in sorted(sites.groupby(sites).groups.items()):
        row: dict[str, Any] = {"site": site, "kind": kinds.loc[idx].iloc[0], "rows": len(idx),
                               "median_score": float(score.loc[idx].median())}
        for name, values in labels.items():
            c = count_labels(values.loc[idx], name)
            row[name] = {"good": c.good, "bad": c.bad, "neutral": c.neutral}
        if dates is not None:
            row["first"] = dates.loc[idx].min()
            row["last"] = dates.loc[idx].max()
        by_site.append(row)
    by_kind = []
    for kind, idx in sorted(kinds.groupby(kinds).groups.items()):
        row = {"kind": kind, "rows": len(idx), "sites": int(sites.loc[idx].nunique()),
               "median_score": float(score.loc[idx].median())}
        for name, values in labels.items():
            row[f"{name}_good_share"] = count_labels(values.loc[idx], name).good_share
        by_kind.append(row)
    by_year = []
    if dates is not None:
        years = dates.dt.year
        for year, idx in sorted(years.groupby(years).groups.items()):
            row = {"year": int(year), "rows": len(idx), "median_score": float(score.loc[idx].median())}
            for name, values in labels.items():
                c = count_labels(values.loc[idx], name)
                row[f"{name}_good"], row[f"{name}_bad"] = c.good, c.bad
                row[f"{name}_good_share"] = c.good_share
            by_year.append(row)
    lengths = {
        col: _percentiles(derived[col])
        for col in ("body_tokens", "title_tokens", "code_chars", "n_tags")
    }
    # body-length histogram per class of the chosen label
    values = labels[label]
    edges = [*_LENGTH_EDGES, max(float(derived["body_tokens"].max() or 0) + 1, _LENGTH_EDGES[-1] + 1)]
    hist = {}
    for cls, mask in (("good", values == 1.0), ("bad", values == 0.0), ("neutral", values.isna())):
        counts, _ = np.histogram(derived.loc[mask, "body_tokens"].dropna(), bins=edges)
        hist[cls] = counts.tolist()
    tag_counts: Counter[str] = Counter()
    tag_by_kind: dict[str, Counter[str]] = {}
    if "tags" in frame:
        for tags, kind in zip(frame["tags"], kinds, strict=True):
            t = _tags(tags)
            tag_counts.update(t)
            tag_by_kind.setdefault(kind, Counter()).update(t)
    score_age = []
    if dates is not None:
        for site, idx in sorted(sites.groupby(sites).groups.items()):
            if len(idx) >= 20:
                rho = dates.loc[idx].rank().corr(score.loc[idx].rank())
                score_age.append({"site": site, "rows": len(idx), "spearman_date_score": rho})
    rhos = [r["spearman_date_score"] for r in score_age if r["spearman_date_score"] == r["spearman_date_score"]]
    score_clip = score.clip(-5, 30)
    score_hist = score_clip.value_counts().sort_index()
    return {
        "rows": n,
        "by_kind": by_kind,
        "by_site": by_site,
        "labels": {name: count_labels(v, name).to_dict() for name, v in labels.items()},
        "by_year": by_year,
        "lengths": lengths,
        "body_tokens_histogram": {"edges": edges, "label": label, **hist},
        "score_histogram": {"clip": [-5, 30], "scores": score_hist.index.tolist(),
                            "counts": score_hist.to_numpy().tolist()},
        "score_vs_date": {
            "median_spearman": float(np.median(rhos)) if rhos else None,
            "sites_negative": sum(1 for r in rhos if r < 0),
            "sites": score_age,
        },
        "top_tags": [{"tag": t, "n": c} for t, c in tag_counts.most_common(top_tags)],
        "top_tags_by_kind": {
            k: [{"tag": t, "n": c} for t, c in v.most_common(10)] for k, v in sorted(tag_by_kind.items())
        },
    }


def _examples(frame: pd.DataFrame, mask: np.ndarray, ascending: bool, n: int) -> list[dict[str, Any]]:
    """Up to ``n`` questions of a class: highest (or lowest) score first, then dataset order."""
    cols = [c for c in ("question_id", "site", "title", "score", "answer_count") if c in frame]
    sub = frame.loc[mask, cols].copy()
    sub["_pos"] = np.flatnonzero(mask)
    sub = sub.sort_values(["score", "_pos"], ascending=[ascending, True], kind="stable").head(n)
    return sub.drop(columns="_pos").to_dict("records")


def _per_class_section(
    frame: pd.DataFrame, derived: pd.DataFrame, values: pd.Series, name: str, n_examples: int = 5
) -> dict[str, Any]:
    good_mask, bad_mask = (values == 1.0).to_numpy(), (values == 0.0).to_numpy()
    rows = []
    for col, group, description in CLASS_FEATURES:
        v = derived[col].to_numpy(dtype=float)
        g, b = v[good_mask], v[bad_mask]
        g, b = g[~np.isnan(g)], b[~np.isnan(b)]
        if len(g) == 0 and len(b) == 0:
            continue
        gm = float(g.mean()) if len(g) else float("nan")
        bm = float(b.mean()) if len(b) else float("nan")
        rows.append(
            {
                "feature": col, "group": group, "description": description,
                "good_mean": gm, "bad_mean": bm, "difference": gm - bm,
                "good_median": float(np.median(g)) if len(g) else None,
                "bad_median": float(np.median(b)) if len(b) else None,
                "auc": _auc(g, b),
                "good_n": len(g), "bad_n": len(b),
            }
        )
    examples = {}
    if "score" in frame:
        examples = {
            "good": _examples(frame, good_mask, ascending=False, n=n_examples),
            "bad": _examples(frame, bad_mask, ascending=True, n=n_examples),
        }
    return {"label": name, "good": int(good_mask.sum()), "bad": int(bad_mask.sum()), "rows": rows,
            "examples": examples}


def _leakage_section(
    frame: pd.DataFrame, values: pd.Series, index: TextIndex, label: str, seed: int, test_size: float
) -> dict[str, Any]:
    keep = np.flatnonzero(values.notna().to_numpy())
    labelled = frame.iloc[keep].reset_index(drop=True)
    sub_index = index.take(keep)
    out: dict[str, Any] = {"label": label, "rows": len(labelled), "seed": seed, "test_size": test_size}
    y = values.to_numpy()[keep]
    for kind in LEAKAGE_SPLITS:
        split = make_split(labelled, kind, seed=seed, test_size=test_size, text_index=sub_index)
        out[kind] = split.leakage_dict()
        out[kind]["train_good_share"] = float(y[split.train].mean()) if len(split.train) else None
        out[kind]["test_good_share"] = float(y[split.test].mean()) if len(split.test) else None
    return out


def _findings(report: dict[str, Any]) -> list[dict[str, str]]:
    """Short, data-driven notes for whoever trains on this data, each with a status:
    ``warn`` (mind it when training or evaluating), ``fail`` (the data misleads as it is),
    ``pass`` (checked, fine)."""
    notes = _Notes()
    q = report["quantity"]
    for name, c in q["labels"].items():
        share = c.get("good_share")
        if share is not None and (share > 0.8 or share < 0.2):
            notes.append(
                f"label {name!r} is imbalanced: {share:.0%} good ({c['good']:,} good, {c['bad']:,} bad, "
                f"{c['neutral']:,} neutral); use ranking metrics and calibration, not accuracy"
            )
    qual = report["quality"]
    dup = qual["duplicates"]
    if dup["near_identical_pairs"]:
        cross = next((x for x in dup["examples"] if x["a"].split(":")[0] != x["b"].split(":")[0]), None)
        example = f", e.g. {cross['title_a']!r}" if cross else ""
        notes.append(
            f"{dup['near_identical_pairs']} near-identical pairs (Jaccard >= {dup['near_threshold']}) over "
            f"{dup['near_identical_rows']} questions, {dup['near_identical_cross_site_pairs']} of them across "
            f"sites{example}; they can sit on both sides of any split"
        )
    weak = qual["weak_labels"]
    reasons = weak["grade_bad_reasons"]
    if reasons["closed_reason_unknown"]:
        bad = report["quantity"]["labels"].get("grade", {}).get("bad") or 0
        notes.append(
            f"{reasons['closed_reason_unknown']} of the {bad:,} 'grade' bad questions are closed for an "
            "unknown reason (their site's dump has no PostHistory), so some may be duplicates"
        )
    if weak["score_at_site_median"]["n"]:
        notes.append(
            f"{weak['score_at_site_median']['share']:.0%} of questions score exactly their site's median: "
            "'book' calls them bad, a thin line between the classes"
        )
    leak = report["leakage"]
    rnd, auth, tim = leak.get("random", {}), leak.get("author", {}), leak.get("time", {})
    if rnd.get("test_share_owner_in_train"):
        notes.add("pass" if auth.get("test_share_owner_in_train", 0) == 0 else "warn",
            f"a random split puts {rnd['test_share_owner_in_train']:.0%} of test questions next to "
            f"the same author's questions in train; the author split: {auth.get('test_share_owner_in_train', 0):.0%}"
        )
    if tim.get("test_share_owner_in_train"):
        notes.append(
            f"the time split still shares authors: {tim['test_share_owner_in_train']:.0%} of its test "
            "questions have an author with training questions"
        )
    if auth.get("test_share_older_than_newest_train_same_site"):
        notes.append(
            f"in the author split {auth['test_share_older_than_newest_train_same_site']:.1%} of test questions "
            "are older than the newest training question of their site: it does not test the future"
        )
    if tim.get("test_good_share") is not None and tim.get("train_good_share") is not None:
        shift = abs(tim["test_good_share"] - tim["train_good_share"])
        notes.add("fail" if shift > 0.15 else "warn" if shift > 0.05 else "pass",
            f"label shift on the time split ({leak['label']}): {tim['train_good_share']:.1%} good in train, "
            f"{tim['test_good_share']:.1%} in test"
        )
    sv = q.get("score_vs_date", {})
    if sv.get("median_spearman") is not None and sv["median_spearman"] < 0:
        notes.append(
            f"scores grow with age: within a site, newer questions score lower (median Spearman "
            f"{sv['median_spearman']:.2f}, negative on {sv['sites_negative']} of {len(sv['sites'])} sites)"
        )
    return notes.items


class _Notes:
    """Findings in order; ``append(text)`` is a warning, ``add(status, text)`` any status."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, status: str, text: str) -> None:
        self.items.append({"status": status, "text": text})

    def append(self, text: str) -> None:
        self.add("warn", text)


def build_report(
    frame: pd.DataFrame,
    *,
    label: str = DEFAULT_LABEL,
    seed: int = 42,
    test_size: float = 0.2,
    dataset_meta: dict[str, Any] | None = None,
    top_tags: int = 20,
) -> dict[str, Any]:
    """Every figure of the data report as a JSON-ready dict (no plots, no HTML)."""
    get_label(label)  # fail early, listing the valid names
    meta = dataset_meta or {}
    frame = frame.reset_index(drop=True)
    labels = {name: label_values(frame, name) for name in LABELS}
    derived = _derived(frame)
    index = TextIndex.from_frame(frame)
    sites = frame["site"].astype(str) if "site" in frame else pd.Series(dtype=str)
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "dataset": {
            "id": meta.get("id"),
            "created": meta.get("created"),
            "schema_version": meta.get("schema_version"),
            "license": meta.get("license"),
            "rows": len(frame),
            "sites": int(sites.nunique()),
        },
        "label": label,
        "label_descriptions": {name: spec.description for name, spec in LABELS.items()},
        "format": _format_section(frame, meta),
        "quality": _quality_section(frame, derived, index),
        "quantity": _quantity_section(frame, derived, labels, label, top_tags),
        "per_class": {name: _per_class_section(frame, derived, v, name) for name, v in labels.items()},
        "leakage": _leakage_section(frame, labels[label], index, label, seed, test_size),
    }
    report["findings"] = _findings(report)
    return json_safe(report, 6)
