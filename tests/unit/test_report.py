"""The data report: figures on a frame small enough to check by hand, JSON output, a
self-contained HTML page with every section and escaped user text, and the CLI command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from askwell.cli.data import render_terminal
from askwell.data.labels import LabelError
from askwell.data.report import SECTIONS, build_report
from askwell.data.store import DatasetStore
from askwell.reports.data import render_html, write_html

EVIL_TITLE = '<script>alert("x")</script> & <b>bold</b>?'
EVIL_TAG = '<img src=x onerror="alert(1)">'


def dataset_frame() -> pd.DataFrame:
    """40 questions on two sites, shaped like an ingested dataset.

    Per site (20 rows): 10 good (score 3, answered, 2 links, a code block), 6 bad
    (score -1, no link), 4 neutral (score 0, unanswered). One title is hostile HTML.
    """
    rows = []
    for s, site in enumerate(["a.stackexchange.com", "a.meta.stackexchange.com"]):
        for i in range(20):
            kind = "good" if i < 10 else "bad" if i < 16 else "neutral"
            pid = s * 100 + i + 1
            body = "<p>I tried this and that.</p>" + ("<pre><code>x = 1</code></pre>" if kind == "good" else "")
            rows.append(
                {
                    "site": site,
                    "site_kind": "meta" if ".meta." in site else "main",
                    "post_id": pid,
                    "question_id": f"{site}:{pid}",
                    "title": f"How do I do thing {pid}?" if kind == "good" else f"thing {pid} broken",
                    "body_html": body,
                    "body_text": f"I tried this and that for case {pid} with words "
                    + ("x = 1" if kind == "good" else ""),
                    "structure": "[]",
                    "n_code_blocks": 1 if kind == "good" else 0,
                    "n_inline_code": 0,
                    "n_links": 2 if kind == "good" else 0,
                    "n_images": 0,
                    "n_lists": 0,
                    "n_list_items": 0,
                    "n_blockquotes": 0,
                    "n_headings": 0,
                    "code_chars": 5 if kind == "good" else 0,
                    "tags": [EVIL_TAG] if pid == 2 else ["brewing", "hops"] if i % 2 else ["brewing"],
                    "creation_date": pd.Timestamp("2015-01-01") + pd.Timedelta(days=30 * i + s),
                    "owner_user_id": float(i % 7 + 1) if i != 19 else np.nan,
                    "score": {"good": 3, "bad": -1, "neutral": 0}[kind],
                    "view_count": 100,
                    "answer_count": 1 if kind == "good" else 0,
                    "comment_count": 0,
                    "favorite_count": np.nan,
                    "accepted_answer_id": np.nan,
                    "closed_date": pd.NaT,
                    "close_reason": None,
                    "has_history": True,
                    "first_title": None,
                    "first_body_html": None,
                    "edit_count": 0.0,
                    "reopen_count": 0.0,
                    "author_prior_questions": float(i % 3),
                    "author_prior_answers": 0.0,
                    "author_account_age_days": 10.0,
                    "content_license": "CC BY-SA 4.0",
                }
            )
    frame = pd.DataFrame(rows)
    frame.loc[0, "title"] = EVIL_TITLE
    frame["first_title"] = frame["title"]
    frame.loc[2, "first_title"] = "an older title"
    return frame


@pytest.fixture(scope="module")
def report() -> dict:
    return build_report(dataset_frame(), dataset_meta={"id": "testdata0001", "created": "2024-01-01"})


def test_report_is_json_ready_and_has_every_section(report):
    json.dumps(report, allow_nan=False)
    for key in ("dataset", "format", "quality", "quantity", "per_class", "leakage", "findings"):
        assert key in report
    assert report["dataset"]["rows"] == 40


def test_label_counts_are_exact_and_add_up(report):
    grade = report["quantity"]["labels"]["grade"]
    assert (grade["good"], grade["bad"], grade["neutral"]) == (20, 12, 8)
    book = report["quantity"]["labels"]["book"]
    # scores per site sorted: -1 x6, 0 x4, 3 x10 -> 10th and 11th values 0 and 3 -> median 1.5
    assert (book["good"], book["bad"], book["neutral"]) == (20, 20, 0)
    for c in (grade, book):
        assert c["good"] + c["bad"] + c["neutral"] == c["total"] == 40
    per_site = {s["site"]: s for s in report["quantity"]["by_site"]}
    assert per_site["a.stackexchange.com"]["median_score"] == 1.5
    assert per_site["a.stackexchange.com"]["grade"] == {"good": 10, "bad": 6, "neutral": 4}


def test_per_class_statistics_show_the_planted_differences(report):
    rows = {r["feature"]: r for r in report["per_class"]["grade"]["rows"]}
    assert rows["n_links"]["good_mean"] == 2.0
    assert rows["n_links"]["bad_mean"] == 0.0
    assert rows["n_links"]["difference"] == 2.0
    assert rows["n_links"]["auc"] == 1.0
    assert rows["has_code_block"]["difference"] == 1.0
    # every good title has a '?' (the hostile one too), no bad title has one
    assert rows["title_question_mark"]["good_mean"] == 1.0
    assert rows["title_question_mark"]["bad_mean"] == 0.0
    assert rows["view_count"]["group"] == "after posting"
    assert rows["view_count"]["auc"] == 0.5


def test_quality_figures(report):
    q = report["quality"]
    assert q["empty_bodies"] == 0
    assert q["weak_labels"]["zero_score_unanswered"]["n"] == 8
    assert q["missing"]["owner_user_id"]["n"] == 2
    assert q["edits"]["title_changed_since_posting"]["n"] == 1
    assert q["duplicates"]["identical_groups"] == 0


def test_quality_counts_planted_duplicates():
    frame = dataset_frame()
    frame.loc[5, ["title", "body_text"]] = frame.loc[4, ["title", "body_text"]].str.upper().to_numpy()
    dup = build_report(frame)["quality"]["duplicates"]
    assert dup["identical_groups"] == 1 and dup["identical_rows"] == 2
    assert dup["near_identical_pairs"] >= 1


def test_leakage_section_covers_author_and_time(report):
    leak = report["leakage"]
    assert leak["rows"] == 32  # the grade-labelled rows
    assert leak["author"]["owner_overlap"] == 0
    assert leak["time"]["test_rows_older_than_newest_train_same_site"] == 0
    for kind in ("author", "time", "random"):
        assert leak[kind]["train_rows"] + leak[kind]["test_rows"] == 32


def test_html_is_self_contained_with_every_section(report, tmp_path):
    path = write_html(report, tmp_path / "r" / "data.html")
    page = path.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'id="{section}"' in page
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    images = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="([^"]*)">', page)
    assert len(images) >= 3
    assert all(len(alt.split()) >= 5 for alt in images), images  # says what it shows, not "plot"


def test_html_escapes_user_text(report):
    page = render_html(report)
    assert EVIL_TITLE not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;?" in page
    assert "onerror=" not in page.replace("onerror=&#34;", "")
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page  # the hostile tag, escaped


def test_terminal_summary_is_short_and_has_the_key_tables(report):
    console = Console(record=True, width=100)
    render_terminal(report, console)
    text = console.export_text()
    for word in ("labels", "quality", "what differs", "leakage", "author", "time"):
        assert word in text
    assert len(text.splitlines()) < 80


def test_unknown_label_fails_early():
    with pytest.raises(LabelError, match="grade"):
        build_report(dataset_frame(), label="nope")


# ---------------------------------------------------------------- CLI
def _store_with(frame: pd.DataFrame, home: Path) -> str:
    store = DatasetStore(home / "datasets")
    build = home / "build"
    build.mkdir(parents=True)
    store.root.mkdir(parents=True)
    frame.to_parquet(build / "questions.parquet")
    meta = {"id": "feedc0ffee000001", "created": "2024-01-01T00:00:00", "rows": len(frame), "sites": []}
    return store.commit(build, meta).id


def test_cli_data_report_json_and_html(tmp_path, monkeypatch):
    from askwell.cli import app

    home = tmp_path / "home"
    ds_id = _store_with(dataset_frame(), home)
    monkeypatch.setenv("ASKWELL_HOME", str(home))
    html = tmp_path / "page.html"
    result = CliRunner().invoke(app, ["data", "report", "--label", "book", "--json", "--html", str(html)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["dataset"]["id"] == ds_id
    assert payload["label"] == "book"
    assert payload["html"] == str(html) and html.is_file()

    result = CliRunner().invoke(app, ["data", "report", ds_id[:6]])
    assert result.exit_code == 0, result.output
    assert "leakage" in result.stdout
    assert (home / "reports" / f"data-{ds_id}-grade.html").is_file()


def test_cli_data_report_unknown_label_is_a_clear_error(tmp_path, monkeypatch):
    from askwell.cli import app

    home = tmp_path / "home"
    _store_with(dataset_frame(), home)
    monkeypatch.setenv("ASKWELL_HOME", str(home))
    result = CliRunner().invoke(app, ["data", "report", "--label", "nope"])
    assert isinstance(result.exception, LabelError)
    assert "book, grade" in str(result.exception)


def test_a_report_column_named_like_a_feature_means_the_same_thing() -> None:
    """The data report never recomputes a registry feature under its name with another
    meaning (it once counted whitespace tokens as ``body_words``, the registry's prose
    words): a shared name gives the registry's value on every question."""
    from askwell.data.report import CLASS_FEATURES, _derived
    from askwell.features import compute_features, feature_names
    from askwell.question import questions_from_frame
    from tests.worlds import make_questions

    frame = make_questions(60, seed=9)
    frame["body_text"] = frame["body_html"].str.replace(r"<[^>]+>", " ", regex=True)
    frame["author_prior_questions"] = np.arange(60, dtype=float)
    shared = sorted({c for c, _, _ in CLASS_FEATURES} & set(feature_names()))
    assert "body_words" not in shared and "title_question_mark" in shared
    ours = _derived(frame)
    theirs = compute_features(questions_from_frame(frame), names=shared)
    for name in shared:
        np.testing.assert_allclose(ours[name].to_numpy(float), theirs[name].to_numpy(float), err_msg=name)
