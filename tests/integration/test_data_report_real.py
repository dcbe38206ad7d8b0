"""The data report on the 24 real sites: labels add up, splits do not leak where they
promise not to, and the HTML page is complete and self-contained."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from askwell.data.labels import apply_label, label_counts
from askwell.data.report import SECTIONS, build_report
from askwell.data.splits import make_split
from askwell.reports.data import write_html

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def frame(real_dataset):
    return real_dataset.to_pandas()


@pytest.fixture(scope="module")
def report(real_dataset, frame):
    return build_report(frame, label="grade", dataset_meta=real_dataset.meta)


def test_label_counts_add_up(report, frame):
    for name in ("grade", "book"):
        c = report["quantity"]["labels"][name]
        assert c["good"] + c["bad"] + c["neutral"] == c["total"] == len(frame)
        assert c["good"] > 0 and c["bad"] > 0
    assert report["quantity"]["labels"]["book"]["neutral"] == 0
    per_site = sum(s["grade"]["good"] + s["grade"]["bad"] + s["grade"]["neutral"]
                   for s in report["quantity"]["by_site"])
    assert per_site == len(frame)
    assert report["leakage"]["rows"] == label_counts(frame, "grade").labelled


def test_author_split_has_zero_owner_overlap(report):
    author = report["leakage"]["author"]
    assert author["owner_overlap"] == 0
    assert author["test_rows_owner_in_train"] == 0


def test_time_split_tests_on_newer_questions_in_every_site(report):
    time = report["leakage"]["time"]
    assert time["test_rows_older_than_newest_train_same_site"] == 0
    assert all(v["older_than_newest_train"] == 0 for v in time["time_by_site"].values())


@pytest.mark.parametrize("label", ["grade", "book"])
def test_splits_of_the_labelled_data_match_the_report_definitions(frame, label):
    labelled = apply_label(frame, label).reset_index(drop=True)
    split = make_split(labelled, "author", seed=42)
    key = labelled["site"] + ":" + labelled["owner_user_id"].astype("Int64").astype(str)
    has = labelled["owner_user_id"].fillna(0).to_numpy() > 0
    train = set(key.to_numpy()[np.intersect1d(split.train, np.flatnonzero(has))])
    test = set(key.to_numpy()[np.intersect1d(split.test, np.flatnonzero(has))])
    assert train.isdisjoint(test)


def test_html_written_complete_and_self_contained(report, tmp_path):
    path = write_html(report, tmp_path / "data-report.html")
    page = path.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'<section id="{section}">' in page
    lowered = page.lower()
    assert "<script" not in lowered
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", lowered)
    assert "<link" not in lowered
    assert lowered.count("data:image/png;base64,") >= 3
    json.dumps(report, allow_nan=False)


def test_cli_writes_the_page_for_the_real_dataset(real_dataset, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from askwell.cli import app

    monkeypatch.setenv("ASKWELL_HOME", str(real_dataset.path.parents[1]))
    out = tmp_path / "page.html"
    result = CliRunner().invoke(app, ["data", "report", real_dataset.id, "--label", "book", "--html", str(out)])
    assert result.exit_code == 0, result.output
    printed = result.stdout
    assert out.is_file()
    assert "leakage" in printed and str(out) in printed.replace("\n", "")
