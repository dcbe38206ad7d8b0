"""The suggestions of the packaged model on the real dumps: the degradation benchmark's
quick run as a regression gate (figures, not timings: speed is benchmarks/ work)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_recommendations.py"


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_recommendations", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def held_out_good(real_dataset):  # type: ignore[no-untyped-def]
    from askwell.explain.engine import Analyzer
    from askwell.explain.schema import ModelRef
    from askwell.models.default import load_default_model
    from askwell.models.training import prepare
    from askwell.question import questions_from_frame

    model = load_default_model()
    data = prepare(real_dataset.to_pandas(), label=model.meta["label"], split="time",
                   seed=model.meta.get("seed", 42))
    good = questions_from_frame(data.test[data.test["label"] == 1])
    return Analyzer(model, ModelRef("features", "askwell-default", "packaged", real_dataset.id)), good


def test_suggestions_name_the_mechanical_degradations(held_out_good) -> None:  # type: ignore[no-untyped-def]
    analyzer, good = held_out_good
    report = _bench().degradation_test(analyzer, good, limit=60)
    mechanical = {k: v for k, v in report.items() if v["mechanical"]}
    assert set(mechanical) == {"drop_title_question_mark", "strip_code_formatting",
                               "lowercase_everything", "add_urgent_please_help"}
    assert all(v["n"] >= 50 for v in mechanical.values()), report
    # the target, on the mean and (with a little room for a retrained model) on each
    assert sum(v["recall_at_3"] for v in mechanical.values()) / len(mechanical) >= 0.8, report
    assert all(v["recall_at_3"] >= 0.7 for v in mechanical.values()), report
    assert all(v["score_drops"] >= 0.5 for v in mechanical.values()), report


def test_the_same_question_always_gets_the_same_analysis(held_out_good) -> None:  # type: ignore[no-untyped-def]
    analyzer, good = held_out_good
    assert _bench().determinism(analyzer, good[:40])
