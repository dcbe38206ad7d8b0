"""The evaluation report end to end on small worlds: every section, escaping, leakage, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from askwell.evaluation.evaluate import EvaluationConfig, EvaluationError, Subject, evaluate
from askwell.models.base import FeatureModelBase
from askwell.models.training import prepare, train_on
from askwell.reports.evaluation import SECTIONS, render_html
from tests.worlds import make_questions

SECTION_KEYS = (
    "metrics", "confusion", "operating_point", "calibration", "scores", "examples", "importance",
    "leakage", "learning_curve", "segments", "error_map", "cv", "comparison", "timings", "headline",
)
FAST = {"n_boot": 200, "learning_curve": False, "permutation": False, "cv": 0}


@pytest.fixture(scope="module")
def world():
    frame = make_questions(500, seed=11, noise=0.15)
    data = prepare(frame, label="grade", split="time", seed=42)
    return frame, data


@pytest.fixture(scope="module")
def linear(world):
    _, data = world
    return train_on(data, "linear", measure_latency=False).model


@pytest.fixture(scope="module")
def full_report(world, linear):
    _, data = world
    other = train_on(data, "linear", params={"C": 0.05}, measure_latency=False).model
    config = EvaluationConfig(n_boot=200, cv=3, top_k=3)
    return evaluate(Subject("toy-linear", linear), data, config=config,
                    against=[Subject("toy-linear-weak", other, seen_ids=set())])


def test_report_holds_every_section(full_report):
    for key in SECTION_KEYS:
        assert key in full_report, key
        assert "skipped" not in (full_report[key] if isinstance(full_report[key], dict) else {}), key


def test_report_is_strict_json(full_report):
    from askwell.plain import json_safe as _json_safe

    text = json.dumps(_json_safe(full_report), allow_nan=False)
    assert json.loads(text)["schema"] == "askwell.evaluation/1"


def test_html_renders_every_section_with_embedded_figures_only(full_report):
    page = render_html(full_report)
    for key, title in SECTIONS:
        assert f'<section id="{key}">' in page, key
        assert f"<h2>{title.replace('&', '&amp;')}</h2>" in page, key
    assert "could not be rendered" not in page and "could not be drawn" not in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    for src in sources:
        assert src.startswith(("data:image/png;base64,", "#", "https://beer.")), src
    assert "<script" not in page and "<link" not in page
    assert page.count("data:image/png;base64,") >= 10


def test_figures_agree_with_each_other(full_report, world):
    _, data = world
    held = full_report["metrics"]["held_out"]
    c = full_report["confusion"]
    assert sum(map(sum, c["counts"])) == len(data.test) == full_report["metrics"]["n"]["held_out"]
    assert held["accuracy"]["value"] == pytest.approx((c["tp"] + c["tn"]) / len(data.test))
    for m in held.values():
        if m["low"] is not None:
            assert m["low"] <= m["value"] <= m["high"]
    assert full_report["learning_curve"]["points"][-1]["fraction"] == 1.0
    assert full_report["cv"]["k"] == 3 and len(full_report["cv"]["folds"]) == 3
    comp = full_report["comparison"][0]
    assert comp["rows"] == len(data.test)
    assert comp["metrics"]["roc_auc"]["a"] == pytest.approx(held["roc_auc"]["value"])


def test_top_k_cards_carry_text_label_score_and_features(full_report):
    for side in ("held_out", "train"):
        for kind in ("best", "worst", "uncertain"):
            for card in full_report["examples"][side][kind]:
                assert card["title"] and card["snippet"] and card["label"] in ("good", "bad")
                assert 0.0 <= card["score"] <= 1.0
                assert card["features"], "top contributing features from model.explain"
    worst = full_report["examples"]["held_out"]["worst"]
    assert all(c["predicted"] != c["label"] for c in worst)


def test_user_text_is_escaped(world, linear):
    _, data = world
    evil = "<script>alert('owned')</script>"
    test = data.test.copy()
    test["title"] = evil + " " + test["title"]
    test["tags"] = [["<b>bold</b>"]] * len(test)
    hacked = type(data)(data.label, data.split, data.seed, data.fit, data.calibration, test)
    report = evaluate(Subject(f"model {evil}", linear), hacked, config=EvaluationConfig(**FAST))
    page = render_html(report)
    assert "<script" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_the_split_is_recreated_from_the_model_meta(world, linear):
    from askwell.evaluation.evaluate import recreate_split

    frame, data = world
    linear.meta.setdefault("metrics", {}).update(
        split="time", seed=42,
        rows={"fit": len(data.fit), "calibration": len(data.calibration), "test": len(data.test)},
    )
    linear.meta["label"] = "grade"
    again, provenance = recreate_split(linear, frame)
    assert provenance["own_split"] and not provenance["notes"]
    assert list(again.test["question_id"]) == list(data.test["question_id"])
    _, other = recreate_split(linear, frame, split="random")
    assert not other["own_split"]


def test_conflicting_targets_are_refused():
    with pytest.raises(EvaluationError, match="not both"):
        EvaluationConfig(target_precision=0.8, target_recall=0.5)
    with pytest.raises(EvaluationError, match="at least 2 folds"):
        EvaluationConfig(cv=1)


# ---------------------------------------------------------------- leakage through the report
class TitleMarkerModel(FeatureModelBase):
    """A feature model reading two title features; one of them can carry a planted leak."""

    family = "title-marker"

    def matrix(self, questions):
        return np.array([[len(q.title), float("[closed]" in q.title)] for q in questions], dtype=float)

    def _fit_raw(self, questions, y):
        from sklearn.linear_model import LogisticRegression

        self.feature_names_ = ["title_chars", "title_says_closed"]
        self.lr_ = LogisticRegression().fit(self.matrix(questions), y)

    def raw_from_matrix(self, x):
        return self.lr_.predict_proba(x)[:, 1]

    def contributions_from_matrix(self, x):
        return x * self.lr_.coef_[0], np.full(len(x), float(self.lr_.intercept_[0]))


def _marker_report(plant: bool) -> dict:
    frame = make_questions(400, seed=5, noise=0.3)
    if plant:  # closed questions got "[closed]" appended to their title after the fact
        bad = frame["label"] == 0
        frame.loc[bad, "title"] = frame.loc[bad, "title"] + " [closed]"
    data = prepare(frame, label="grade", split="random", seed=1)
    model = TitleMarkerModel().fit(data.fit, data.fit["label"],
                                   calibration=(data.calibration, data.calibration["label"]))
    return evaluate(Subject("marker", model), data, config=EvaluationConfig(**FAST))


def test_leakage_alarm_fires_on_a_planted_title_marker():
    report = _marker_report(plant=True)
    flagged = [r["feature"] for r in report["leakage"]["flagged"]]
    assert flagged == ["title_says_closed"]
    assert report["leakage"]["flagged"][0]["auc_held_out"] > 0.85
    assert any("LEAKAGE ALARM" in line for line in report["headline"])
    assert 'class="callout alarm"' in render_html(report)


def test_leakage_alarm_stays_quiet_without_the_plant():
    report = _marker_report(plant=False)
    assert report["leakage"]["flagged"] == []
    assert not any("LEAKAGE ALARM" in line for line in report["headline"])


def test_feature_models_get_per_feature_permutation_and_a_feature_error_map():
    frame = make_questions(300, seed=2, noise=0.2)
    data = prepare(frame, label="grade", split="random", seed=1)
    model = TitleMarkerModel().fit(data.fit, data.fit["label"],
                                   calibration=(data.calibration, data.calibration["label"]))
    config = EvaluationConfig(n_boot=100, learning_curve=False, cv=0)
    report = evaluate(Subject("marker", model), data, config=config)
    perm = report["importance"]["permutation"]
    assert {f["feature"] for f in perm["features"]} == {"title_chars", "title_says_closed"}
    assert report["error_map"]["projection"]["method"].startswith("PCA")


# ---------------------------------------------------------------- the command
def _store_world(home: Path, frame: pd.DataFrame):
    from askwell.data.store import DatasetStore

    store = DatasetStore(home / "datasets")
    build = home / "build"
    build.mkdir(parents=True)
    (home / "datasets").mkdir()
    frame.to_parquet(build / "questions.parquet")
    return store.commit(build, {"id": "world0001", "created": "2025-01-01T00:00:00", "rows": len(frame),
                                "sites": []})


def test_cli_writes_html_and_json_for_a_model_folder(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from askwell.cli import app
    from askwell.models.training import train

    home = tmp_path / "home"
    ds = _store_world(home, make_questions(400, seed=3, noise=0.15))
    folder = train(ds, "linear", label="grade", split="time", seed=42).model.save(tmp_path / "m")
    monkeypatch.setenv("ASKWELL_HOME", str(home))
    out = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(app, ["evaluate", str(folder), "--html", str(out), "--fast",
                                      "--bootstrap", "100", "--target-recall", "0.5"])
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.with_suffix(".json").is_file()
    figures = json.loads(out.with_suffix(".json").read_text())
    assert figures["data"]["dataset_id"] == "world0001"
    assert figures["operating_point"]["chosen"]["target"] == "recall"
    assert figures["data"]["provenance"]["own_split"]
    assert "held-out" in result.output and "report:" in result.output


def test_cli_refuses_clearly_when_the_dataset_is_missing(tmp_path):
    from askwell.config import Settings
    from askwell.evaluation.commands import run_evaluate
    from askwell.models.base import make_model

    frame = make_questions(120, seed=4)
    model = make_model("linear").fit(frame, frame["label"])
    model.meta["dataset_id"] = "gone12345"
    folder = model.save(tmp_path / "m")
    with pytest.raises(EvaluationError, match=r"gone12345.*askwell ingest"):
        run_evaluate(Settings(home=tmp_path / "home"), str(folder), quiet=True)


def test_unknown_model_folder_is_a_clear_error(tmp_path):
    from askwell.config import Settings
    from askwell.evaluation.commands import run_evaluate

    with pytest.raises(EvaluationError, match="no model folder"):
        run_evaluate(Settings(home=tmp_path), str(tmp_path / "nowhere" / "m"), quiet=True)


@pytest.mark.slow
def test_registered_model_report_is_logged_to_its_run(tmp_path):
    from askwell.config import Settings
    from askwell.evaluation.commands import run_evaluate
    from askwell.models.commands import register
    from askwell.models.training import train
    from askwell.registry.mlflow_registry import Registry

    settings = Settings(home=tmp_path / "home")
    ds = _store_world(settings.home, make_questions(300, seed=6, noise=0.15))
    info = register(settings, train(ds, "linear", label="grade", split="time", seed=42), "toy", None)
    run = run_evaluate(settings, "toy:1", config=EvaluationConfig(**FAST), quiet=True)
    assert run.logged_to == info.run_id
    assert run.report["model"]["source"]["kind"] == "registry"
    files = Registry.for_home(settings.home).client.list_artifacts(info.run_id, "evaluation")
    assert {Path(f.path).name for f in files} == {run.html_path.name, run.json_path.name}
