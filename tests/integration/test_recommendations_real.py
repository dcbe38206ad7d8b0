"""The suggestions of the packaged model on the real dumps: the degradation harness
(:mod:`askwell.evaluation.degradations`, which benchmarks/bench_recommendations.py runs in
full) on a quick sample as a regression gate (figures, not timings: speed is benchmarks/ work)."""

from __future__ import annotations

import pytest

from askwell.evaluation import degradations

pytestmark = pytest.mark.integration


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
    report = degradations.degradation_test(analyzer, good, limit=60)
    mechanical = {k: v for k, v in report.items() if v["mechanical"]}
    assert set(mechanical) == {"drop_title_question_mark", "strip_code_formatting",
                               "lowercase_everything", "add_urgent_please_help"}
    assert all(v["n"] >= 50 for v in mechanical.values()), report
    # the target, on the mean and (with a little room for a retrained model) on each
    assert sum(v["recall_at_3"] for v in mechanical.values()) / len(mechanical) >= 0.8, report
    # 0.7 each with the 24-site model; the model rebuilt on both folders (per-site
    # calibration) names stripped code in its top 3 for 0.65 of 60 (mean 0.87): a known
    # regression noted in issue 12, gated here so it cannot get worse
    assert all(v["recall_at_3"] >= 0.6 for v in mechanical.values()), report
    assert all(v["score_drops"] >= 0.5 for v in mechanical.values()), report


def test_the_same_question_always_gets_the_same_analysis(held_out_good) -> None:  # type: ignore[no-untyped-def]
    analyzer, good = held_out_good
    assert degradations.determinism(analyzer, good[:40])


@pytest.fixture(scope="module")
def every_question(real_dataset, shared_dumps):  # type: ignore[no-untyped-def]
    """Every question of both shared dump folders (``real_dataset`` ingests both)."""
    from askwell.question import questions_from_frame

    return questions_from_frame(real_dataset.to_pandas())


def test_applying_the_code_suggestion_gives_stripped_code_back(held_out_good, every_question) -> None:  # type: ignore[no-untyped-def]
    """Code blocks made paragraphs, then the top code suggestion applied (again while one
    is offered): the original comes back, code compared as text. Issue 12 target: >= 0.9
    of the questions where the fault is named; gated at what the engine reaches now."""
    analyzer, _ = held_out_good
    report = degradations.restoration_test(analyzer, every_question, limit=300)
    blocks = report["strip_code_blocks"]
    assert blocks["n"] == 300 and blocks["named"] >= 0.5 * blocks["n"], report
    assert blocks["restored_when_named"] >= RESTORED_AT_LEAST, report
    assert report["drop_title_question_mark"]["restored_when_named"] >= 0.99, report


#: The code restoration rate the gate holds (measured 0.7x on the held-out questions).
RESTORED_AT_LEAST = 0.65


def test_no_suggestion_changes_existing_code_in_any_real_question(held_out_good, every_question) -> None:  # type: ignore[no-untyped-def]
    """Every question of the dumps, its mechanical suggestions applied one after another
    with a new analysis between them, as the editor does: no code block or inline code
    of the original changes."""
    analyzer, _ = held_out_good
    report = degradations.code_safety(analyzer, every_question)
    assert report["questions"] >= 7_000 and report["edits_applied"] >= 1_000, report
    assert report["code_changed"] == 0, report
