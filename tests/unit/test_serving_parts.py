"""The service's parts on their own: safeguards, cache, rate limiter, log writer."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from askwell.explain.checks import POLICY, OutlierReference, check_question
from askwell.explain.pipeline import apply_abstention
from askwell.explain.schema import Analysis, ModelRef, Suggestion
from askwell.question import Question
from askwell.serving.cache import LRUCache, NoCache, input_key, make_cache
from askwell.serving.ratelimit import RateLimiter
from askwell.serving.safeguards import check_output
from askwell.serving.store import Store
from tests.asyncrun import run_coroutine

REF = ModelRef("features", "toy", "1", None)


def analysis(**changes: Any) -> Analysis:
    base = Analysis(score=0.4, verdict="at_risk", confidence=0.3, threshold=0.5,
                    stats={"words": 10.0}, model=REF, suggestions=[
                        Suggestion("remove_urgency", "urgency", "Remove it", "tone", "high", 0.08, True,
                                   "title", 0, 6, "", None),
                        Suggestion("add_tags", "tags", "Add tags", "context", "medium", 0.03, False),
                        Suggestion("lower", "x", "Lower", "tone", "low", 0.004, True, "body", 0, 2, "ab"),
                    ])
    return replace(base, **changes)


Q = Question("urgent: beer flat", "my beer is flat after two weeks, what did I do wrong?")


# ---------------------------------------------------------------------- input
@given(st.text(max_size=300), st.text(max_size=2000))
@settings(max_examples=150, deadline=None)
def test_input_checks_never_raise_and_every_finding_has_a_known_code(title: str, body: str) -> None:
    checked = check_question(Question(title, body))
    assert all(f.code in POLICY and f.message for f in checked.findings)
    # nothing to score is always said, with what to do
    if not checked.ok:
        first = checked.findings[0]
        assert first.action in ("decline", "not_ready") and first.advice


def test_far_over_the_hard_limit_is_declined() -> None:
    checked = check_question(Question("t", "x " * 600_000))
    assert checked.action == "decline" and checked.codes == ["too_large"]


def test_outlier_score_is_zero_inside_the_range_and_grows_outside() -> None:
    ref = OutlierReference.from_meta({"reference": {"quantiles": {
        "a": [0.0, 1.0, 10.0], "b": [0.0, 0.0, 0.0], "author_prior_answers": [0, 1, 2]}}})
    assert ref is not None and ref.names == ("a", "b")  # author features are not text
    assert ref.score({"a": 5, "b": 0}) == (0.0, [])
    assert ref.score({"a": 15, "b": 1})[0] == 0.0  # within one range-width of the edge
    score, worst = ref.score({"a": 40, "b": 3})
    assert score == 1.0 and worst == ["a", "b"]
    assert ref.score({"a": math.nan, "b": 0})[0] == 0.0  # unknown is not strange
    assert OutlierReference.from_meta({}) is None


# ---------------------------------------------------------------------- output
def test_a_sane_answer_passes_the_output_checks() -> None:
    assert check_output(analysis(), Question("urgent beer", "ab cd")) == []


@pytest.mark.parametrize(("change", "problem"), [
    ({"score": math.nan}, "score"),
    ({"score": 1.2}, "score"),
    ({"confidence": -0.1}, "confidence"),
    ({"verdict": "great"}, "verdict"),
    ({"stats": {"words": math.inf}}, "statistic"),
])
def test_insane_answers_are_caught(change: dict[str, Any], problem: str) -> None:
    got = check_output(analysis(**change), Question("urgent beer", "ab cd"))
    assert got and problem in got[0]


def test_inconsistent_suggestions_are_caught() -> None:
    q = Question("urgent beer", "ab cd")
    s = analysis().suggestions
    assert "outside" in check_output(analysis(suggestions=[replace(s[0], start=8, length=9)]), q)[0]
    assert "twice" in check_output(analysis(suggestions=[s[0], s[0]]), q)[0]
    assert "gain" in check_output(analysis(suggestions=[replace(s[0], gain=-0.1)]), q)[0]
    assert "ranked" in check_output(analysis(suggestions=[s[1], s[0]]), q)[0]
    assert "place" in check_output(analysis(suggestions=[replace(s[0], field=None, start=None)]), q)[0]


def test_abstaining_keeps_only_sure_mechanical_fixes() -> None:
    kept, reasons = apply_abstention(analysis(), [], threshold=0.05)
    assert reasons == [] and kept == analysis()
    out, reasons = apply_abstention(analysis(confidence=0.01), [], threshold=0.05)
    assert reasons == ["low_confidence"] and out.abstained and out.low_confidence
    assert [s.id for s in out.suggestions] == ["remove_urgency"]
    out, reasons = apply_abstention(analysis(), ["non_english"], threshold=0.05)
    assert reasons == ["non_english"] and out.abstained


# ---------------------------------------------------------------------- cache
def test_input_key_normalises_only_what_cannot_move_offsets() -> None:
    k = input_key("Title", "Body", ["b", "A"], "Beer.StackExchange.com")
    assert k == input_key("Title", "Body", ["a", "b", "a"], "beer.stackexchange.com")
    assert k != input_key("Title ", "Body", ["a", "b"], "beer.stackexchange.com")
    assert k != input_key("title", "Body", ["a", "b"], "beer.stackexchange.com")


def test_lru_evicts_the_least_recently_used_and_clears_by_version() -> None:
    c = LRUCache(2)
    c.set("v1", "a", {"n": 1})
    c.set("v1", "b", {"n": 2})
    assert c.get("v1", "a") == {"n": 1}  # a is now the most recent
    c.set("v2", "c", {"n": 3})
    assert c.get("v1", "b") is None and len(c) == 2
    c.clear("v1")
    assert c.get("v1", "a") is None and c.get("v2", "c") == {"n": 3}


def test_cache_specs() -> None:
    assert isinstance(make_cache(None, 10), LRUCache)
    assert isinstance(make_cache("off", 10), NoCache)
    assert isinstance(make_cache("memory", 0), NoCache)
    with pytest.raises(Exception, match="unknown cache"):
        make_cache("memcached://x", 10)


def test_a_redis_that_is_down_is_a_miss_not_an_error() -> None:
    c = make_cache("redis://127.0.0.1:9/0", 10)
    assert c.get("v", "k") is None
    c.set("v", "k", {"x": 1})  # written in the background: never blocks the caller
    assert c.flush()
    c.clear("v")
    assert c.errors == 3
    c.close()


# ---------------------------------------------------------------------- rate limit
def test_the_window_allows_bursts_then_refuses_with_a_wait() -> None:

    async def run() -> None:
        rl = RateLimiter(rate=2, burst=3)
        assert [(await rl.allow("a"))[0] for _ in range(4)] == [True, True, True, False]
        assert (await rl.allow("b"))[0] is True  # per client
        ok, wait = await rl.allow("a")
        assert not ok and 0 < wait <= rl.window_seconds
        assert await RateLimiter(0, 1).allow("a") == (True, 0.0)

    run_coroutine(run())


def test_the_limit_counts_cost_not_requests() -> None:

    from askwell.serving.ratelimit import RateLimited, analysis_cost

    short, long = Question("t", "word " * 10), Question("t", "word " * 6000)  # 30,000 characters
    assert analysis_cost([short], 60) == 1 and analysis_cost([long], 60) == 4
    assert analysis_cost([long] * 32, 60) == 60  # a maximal batch takes the whole window

    async def run() -> None:
        rl = RateLimiter(rate=1, burst=10)
        await rl.charge("a", 8)
        assert (await rl.allow("a"))[0] and (await rl.allow("a"))[0]
        with pytest.raises(RateLimited):
            await rl.charge("a", 1)

    run_coroutine(run())


# ---------------------------------------------------------------------- log writer
def _row(i: int) -> dict[str, Any]:
    from askwell.serving.store import now

    return {"request_id": f"r{i}", "created_at": now(), "model_name": "toy", "model_version": "1",
            "score": 0.5, "verdict": "fine", "suggestions": ["a"], "warnings": [], "fallback": False,
            "abstained": False, "low_confidence": False, "cached": False, "latency_ms": 1.0}


def test_the_writer_batches_rows_from_many_threads(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'log.db'}", batch_size=50, flush_seconds=0.05).start()
    threads = [threading.Thread(target=lambda k=k: [store.submit("predictions", _row(k * 1000 + i))
                                                     for i in range(200)]) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    with engine.connect() as con:
        assert con.execute(sa.text("select count(distinct request_id) from predictions")).scalar() == 800
    engine.dispose()
    assert store.written == 800 and store.dropped == 0


def test_a_full_queue_drops_and_counts_instead_of_blocking(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'log.db'}", queue_size=10)  # writer not started
    accepted = [store.submit("predictions", _row(i)) for i in range(15)]
    assert accepted.count(True) == 10 and store.dropped == 5


def test_a_retried_batch_never_duplicates_rows(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'log.db'}").start()
    store.submit("predictions", _row(1))
    assert store.flush()
    store.submit("predictions", _row(1))  # as if a committed batch were written again
    store.submit("predictions", _row(2))
    store.close()
    assert store.written >= 2
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    with engine.connect() as con:
        assert con.execute(sa.text("select count(*) from predictions")).scalar() == 2
    engine.dispose()


def test_no_suggestion_takes_a_question_under_the_sites_length_rules() -> None:
    from askwell.explain.engine import Analyzer
    from askwell.explain.pipeline import AnalysisPipeline
    from askwell.models.heuristic import HeuristicModel

    pipeline = AnalysisPipeline.for_analyzer(Analyzer(HeuristicModel(), REF))
    # 31 characters of body: turning "!!!" into "." would leave 29, under Stack Exchange's 30
    near = Question("URGENT: why is my beer so flat", "my beer is flat and i hat it!!!")
    far = Question("URGENT: why is my beer so flat", "my beer is flat and i hate it, it is awful!!!")
    assert len(near.body) == 31 and check_question(near).ok and check_question(far).ok
    assert "calm_punctuation" in {s.id for s in pipeline.analyze(far).suggestions}
    assert "calm_punctuation" not in {s.id for s in pipeline.analyze(near).suggestions}


def test_pasted_code_read_as_gibberish_is_scored_with_a_warning_not_rejected() -> None:
    from askwell.explain.engine import Analyzer
    from askwell.explain.pipeline import AnalysisPipeline
    from askwell.models.heuristic import HeuristicModel

    @dataclass(frozen=True)
    class Outcome:
        outcome: str = "reject"
        p_question: float = 0.03
        reason: str | None = "gibberish"
        message: str | None = "The text does not read as sentences."
        advice: str | None = "Write sentences."
        model: str = "stub-filter"

    class Gibberish:
        def assess(self, question: Question, text: Any) -> Outcome:
            return Outcome()

    pipeline = AnalysisPipeline(Analyzer(HeuristicModel(), REF), question_filter=Gibberish())
    prose = Question("Why does my script crash on start?", "xkq vbnm zzpt wq rrt plok mnbv ccx qwe lkj")
    code = Question("Why does my script crash on start?",
                    "pls help my code dont work!!! i tried everything\ndf = pd.read_csv('data.csv')\n"
                    "print(df[i]['name'])\nKeyError: 0")
    assert pipeline.analyze(prose).verdict == "not_ready"
    scored = pipeline.analyze(code)
    assert scored.verdict != "not_ready" and scored.score is not None and scored.low_confidence
    assert scored.filter is not None and (scored.filter.outcome, scored.filter.reason) == ("unsure", "pasted_code")
    assert "filter_unsure" in [n.code for n in scored.findings]
