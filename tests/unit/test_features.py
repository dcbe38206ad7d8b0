"""The feature registry, its values on hand-checkable questions, signals with offsets, parity."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from askwell.features import (
    ALL_FEATURES,
    DROPPED,
    GROUPS,
    KINDS,
    OPTIONAL,
    REGISTRY,
    FeatureSpec,
    analyze_text,
    compute_features,
    feature_names,
    features_for,
    find_signals,
    get_spec,
    writing_stats,
)
from askwell.question import Question

AUTHOR = set(feature_names(groups=["author"]))


def q(title: str = "", body: str = "", tags: tuple[str, ...] = ("python",), **kw) -> Question:
    return Question(title=title, body=body, tags=tags, **kw)


def signal_texts(question: Question, kind: str) -> list[tuple[str, str]]:
    """(field, text) of each signal of ``kind``, with its offsets checked against the text."""
    a = analyze_text(question)
    out = []
    for s in a.signals:
        if s.kind != kind:
            continue
        text = a.title if s.field == "title" else a.body
        assert text[s.start : s.end] == s.text, s
        out.append((s.field, s.text))
    return out


def assert_in_range(values: dict[str, float]) -> None:
    for name, value in values.items():
        spec = get_spec(name)
        if spec.missing_ok and math.isnan(value):
            continue
        assert math.isfinite(value), (name, value)
        assert spec.low <= value <= spec.high, (name, value, spec.low, spec.high)


# ------------------------------------------------------------------ registry metadata
@pytest.mark.parametrize("spec", ALL_FEATURES, ids=lambda s: s.name)
def test_every_feature_has_complete_metadata(spec: FeatureSpec):
    assert spec.name and spec.display and spec.unit and spec.description
    assert spec.group in GROUPS and spec.kind in KINDS
    assert spec.direction in (-1, 0, 1)
    assert callable(spec.compute)
    assert spec.low <= spec.high
    if not spec.actionable:
        assert spec.direction == 0
    if spec.kind in ("ratio", "flag"):
        assert (spec.low, spec.high) == (0.0, 1.0)
    assert set(spec.to_dict()) >= {"name", "display", "group", "unit", "kind", "actionable",
                                   "direction", "description"}


def test_registry_order_names_and_groups():
    names = feature_names()
    assert names == [s.name for s in REGISTRY]
    assert len(set(names)) == len(names)
    assert {s.group for s in REGISTRY} == set(GROUPS)
    assert set(DROPPED) == {s.name for s in OPTIONAL}
    assert not set(DROPPED) & set(names)
    assert feature_names(groups=["author"]) == [
        "author_prior_questions", "author_prior_answers", "author_account_age_days"]
    assert not AUTHOR & set(feature_names(actionable=True))
    assert set(feature_names(include_optional=True)) == {s.name for s in ALL_FEATURES}


def test_author_features_are_never_actionable():
    for spec in REGISTRY:
        if spec.group == "author":
            assert not spec.actionable and spec.missing_ok


def test_unknown_group_and_feature_say_what_exists():
    with pytest.raises(ValueError, match="structure"):
        feature_names(groups=["nope"])
    with pytest.raises(KeyError, match="feature_names"):
        get_spec("nope")


def test_spec_rejects_inconsistent_metadata():
    with pytest.raises(ValueError, match="direction 0"):
        FeatureSpec("x", "X", "author", "n", "count", False, 1, "d", lambda a: 0.0)
    with pytest.raises(ValueError, match="group"):
        FeatureSpec("x", "X", "style", "n", "count", True, 1, "d", lambda a: 0.0)
    with pytest.raises(ValueError, match="snake_case"):
        FeatureSpec("Bad Name", "X", "tone", "n", "count", True, 1, "d", lambda a: 0.0)


# ------------------------------------------------------------------ structure values
@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("How do I sort a list?", 1.0),
        ("Sorting a list?", 1.0),
        ("How to sort a list", 1.0),
        ("Is there a faster sort", 1.0),
        ("Sorting a list in place", 0.0),
        ("", 0.0),
    ],
)
def test_title_phrased_as_a_question(title: str, expected: float):
    assert features_for(q(title, "body"), names=["title_is_question"])["title_is_question"] == expected


def test_title_length_and_tags():
    f = features_for(q("  Sort a list  ", "x", tags=("python", "list", "sorting")))
    assert f["title_chars"] == len("Sort a list")
    assert f["tags"] == 3.0


def test_code_blocks_inline_code_and_code_share():
    body = "<p>Call <code>foo()</code> here.</p><pre><code>x = 1</code></pre>"
    f = features_for(q("t", body))
    a = analyze_text(q("t", body))
    assert a.body == "Call foo() here.\nx = 1"
    assert f["code_blocks"] == 1.0
    assert f["inline_code"] == 1.0
    # code: "foo()" (5) + "x = 1" (5) of 22 characters
    assert f["code_share"] == pytest.approx(10 / 22)
    # code is not prose: its words are not counted
    assert f["body_words"] == 2.0  # "Call", "here"
    assert "foo" not in a.body_words


def test_markdown_structure_links_images_lists():
    body = (
        "See [the docs](https://example.org) and ![plot](p.png).\n\n"
        "- first\n- second\n\n"
        "> quoted\n"
    )
    f = features_for(q("t", body))
    assert f["links"] == 1.0
    assert f["images"] == 1.0
    assert f["lists"] == 1.0
    assert f["blockquotes"] == 1.0


def test_body_words_sentences_and_question_marks():
    body = "<p>One two three. Four five? Version 3.5 works!</p><p>Last line</p>"
    f = features_for(q("", body))
    assert f["body_words"] == 9.0  # numbers are not words
    assert f["body_sentences"] == 4.0  # "3.5" does not end a sentence; a paragraph does
    assert f["question_marks"] == 1.0
    assert f["paragraphs"] == 2.0


# ------------------------------------------------------------------ vocabulary values
def test_vocabulary_diversity_counts_distinct_words():
    # 6 words, 3 distinct ("the", "cat", "sat"), case-insensitive
    f = features_for(q("", "The cat sat. the CAT sat."))
    assert f["vocabulary_diversity"] == pytest.approx(3 / 6)
    assert writing_stats(q("", "The cat sat. the CAT sat."))["vocabulary_diversity"] == 0.5


def test_vocabulary_diversity_is_one_for_all_distinct_words():
    assert features_for(q("", "alpha beta gamma delta"))["vocabulary_diversity"] == 1.0


def test_stop_words_word_length_and_part_of_speech_shares():
    f = features_for(q("", "I think the answer is what we need."))
    words = ["i", "think", "the", "answer", "is", "what", "we", "need"]
    assert f["stop_word_share"] == pytest.approx(5 / 8)  # i the is what we
    assert f["avg_word_length"] == pytest.approx(sum(map(len, words)) / 8)
    assert f["first_person_share"] == pytest.approx(2 / 8)  # i, we
    assert f["determiner_share"] == pytest.approx(1 / 8)  # the
    assert f["wh_word_share"] == pytest.approx(1 / 8)  # what
    assert f["modal_share"] == 0.0


# ------------------------------------------------------------------ readability
def test_flesch_matches_textstat_on_plain_prose():
    textstat = pytest.importorskip("textstat")
    text = ("The cat sat on the mat. It was a sunny day and everybody was happy. "
            "Reading comprehension is an important educational objective.")
    f = features_for(q("", text))
    assert f["flesch_reading_ease"] == pytest.approx(textstat.flesch_reading_ease(text), abs=0.01)
    assert f["flesch_kincaid_grade"] == pytest.approx(textstat.flesch_kincaid_grade(text), abs=0.01)
    assert f["words_per_sentence"] == pytest.approx(22 / 3)


def test_readability_is_clipped_into_its_documented_range():
    run_on = " ".join(["incomprehensibility"] * 300)
    f = features_for(q("", run_on))
    assert f["flesch_reading_ease"] == get_spec("flesch_reading_ease").low
    assert f["flesch_kincaid_grade"] == get_spec("flesch_kincaid_grade").high


def test_punctuation_rates_per_thousand_characters():
    # title "" + 10 prose characters with 2 commas
    f = features_for(q("", "a, b, cdef"))
    assert f["comma_rate"] == pytest.approx(1000 * 2 / 10)


def test_writing_stats_keys_and_values():
    stats = writing_stats(q("How do I sort?", "I have a list. I want it sorted."))
    assert set(stats) == {"flesch_reading_ease", "flesch_kincaid_grade", "sentences", "words",
                          "avg_word_length", "vocabulary_diversity"}
    assert stats["sentences"] == 3.0  # the title counts as one
    assert stats["words"] == 4 + 8
    assert all(math.isfinite(v) for v in stats.values())


# ------------------------------------------------------------------ signals and offsets
def test_greeting_thanks_urgency_with_offsets_after_non_ascii_text():
    body = "Héllo wörld — naïve café. Hi all, thanks in advance! This is URGENT, answer ASAP."
    question = q("Ça ne marche pas", body)
    a = analyze_text(question)
    assert signal_texts(question, "greeting") == [("body", "Hi")]
    assert signal_texts(question, "thanks") == [("body", "thanks in advance")]
    assert signal_texts(question, "urgency") == [("body", "URGENT"), ("body", "ASAP")]
    hi = next(s for s in a.signals if s.kind == "greeting")
    assert hi.start == body.index("Hi all")
    # a Markdown body's plain text equals the source here, so source offsets agree
    assert (hi.source_start, hi.source_end) == (hi.start, hi.end)
    f = features_for(question)
    assert (f["greetings"], f["thanks"], f["urgency"]) == (1.0, 1.0, 2.0)


def test_offsets_survive_characters_whose_lower_case_is_longer():
    title = "İstanbul: hello, please help"
    assert "İ".lower() != "İ" and len("İ".lower()) == 2  # the trap
    found = {s.kind: s for s in find_signals(q(title, "x"))}
    assert title[found["greeting"].start : found["greeting"].end] == "hello"
    assert title[found["begging"].start : found["begging"].end] == "please help"


def test_source_offsets_point_into_the_raw_html_body():
    body = "<p>Hello there.</p><p>Any help would be appreciated!</p>"
    a = analyze_text(q("t", body))
    thanks = next(s for s in a.signals if s.kind == "thanks")
    assert a.body[thanks.start : thanks.end] == "Any help would be appreciated"
    assert body[thanks.source_start : thanks.source_end] == "Any help would be appreciated"


def test_hello_world_is_not_a_greeting():
    assert signal_texts(q("Hello world in Rust", "Print hello, world."), "greeting") == []


def test_begging_and_tried_and_expected_actual():
    body = ("I've tried reinstalling. I expected 4 but it returns 5 instead. "
            "Please help me, plz!")
    question = q("t", body)
    assert signal_texts(question, "tried") == [("body", "I've tried")]
    assert [t for _, t in signal_texts(question, "expected_actual")] == [
        "I expected", "but it returns", "instead"]
    assert [t for _, t in signal_texts(question, "begging")] == ["Please help", "plz"]


def test_help_me_understand_is_not_begging():
    assert signal_texts(q("t", "Can you help me understand monads?"), "begging") == []


def test_phrases_inside_code_are_ignored():
    body = "<p>My script:</p><pre><code>print('thanks in advance!!')</code></pre>"
    kinds = {s.kind for s in find_signals(q("t", body))}
    assert "thanks" not in kinds and "exclamation_run" not in kinds


def test_exclamation_runs():
    question = q("Why?!", "It broke!! Really??? Fine!")
    assert signal_texts(question, "exclamation_run") == [
        ("title", "?!"), ("body", "!!"), ("body", "???")]
    f = features_for(question)
    assert f["exclamation_runs"] == 3.0
    assert f["exclamations"] == 4.0  # title 1 + body 3


def test_all_caps_shouting_but_not_acronyms():
    question = q("WHY DOES THIS FAIL", "The API and USB work. It does NOT work on ASP.NET MVC.")
    runs = signal_texts(question, "all_caps")
    assert runs == [("title", "WHY DOES THIS FAIL"), ("body", "NOT")]
    assert features_for(question)["all_caps_words"] == 5.0


def test_error_message_outside_code_is_located_by_line():
    body = ("<p>I run it and get:</p><p>TypeError: unsupported operand</p>"
            "<pre><code>ValueError: inside code is fine</code></pre>")
    a = analyze_text(q("t", body))
    errors = [s for s in a.signals if s.kind == "error_outside_code"]
    assert [s.text for s in errors] == ["TypeError: unsupported operand"]
    assert features_for(a)["error_outside_code"] == 1.0


def test_not_working_and_goal():
    question = q("t", "I'm trying to build it. It doesn't work.")
    assert signal_texts(question, "goal") == [("body", "I'm trying to")]
    assert signal_texts(question, "not_working") == [("body", "doesn't work")]


def test_signal_counts_cover_every_kind():
    from askwell.features import SIGNAL_KINDS

    assert set(analyze_text(q("t", "b")).signal_counts) == set(SIGNAL_KINDS)


# ------------------------------------------------------------------ author
def test_author_history_is_nan_when_unknown_and_kept_when_known():
    unknown = features_for(q("t", "b"))
    assert all(math.isnan(unknown[n]) for n in AUTHOR)
    known = features_for(q("t", "b", author_prior_questions=3, author_prior_answers=0,
                           author_account_age_days=12.5))
    assert (known["author_prior_questions"], known["author_prior_answers"],
            known["author_account_age_days"]) == (3.0, 0.0, 12.5)


# ------------------------------------------------------------------ robustness
@pytest.mark.parametrize(
    ("title", "body"),
    [("", ""), ("", "   "), ("   ", ""), ("?", "!"), ("", "<pre><code>only code</code></pre>"),
     ("", "<p></p>"), ("123", "456 789"), ("😀", "😀😀 ✨"), ("", "```\ncode\n```")],
)
def test_empty_or_degenerate_questions_give_finite_values(title: str, body: str):
    f = features_for(q(title, body, tags=()))
    assert list(f) == feature_names()
    assert_in_range(f)
    assert all(math.isfinite(v) for v in writing_stats(q(title, body)).values())


def test_optional_features_are_computable_by_name():
    f = features_for(q("Great, thanks!", "I love it"), names=["action_verbs", "body_chars"])
    assert list(f) == ["body_chars", "action_verbs"]  # definition order
    assert f["body_chars"] == len("I love it")


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400
) | st.sampled_from(["<p>Hi!!</p><pre><code>x</code></pre>", "**bold** `x` [a](b)", "İ" * 5])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_text, body=_text)
def test_arbitrary_text_never_raises_and_values_are_finite(title: str, body: str):
    question = q(title, body)
    f = features_for(question)
    assert_in_range(f)
    for s in find_signals(question):
        text = title if s.field == "title" else analyze_text(question).body
        assert 0 <= s.start <= s.end <= len(text)
        assert text[s.start : s.end] == s.text
        if s.source_start is not None:
            src = title if s.field == "title" else body
            assert 0 <= s.source_start <= s.source_end <= len(src)


# ------------------------------------------------------------------ one code path
CRAFTED = [
    q("How do I sort a list?", "<p>I tried <code>sorted()</code>. Thanks!</p>"),
    q("HELP!!", "Hi all, please help, it doesn't work!!!", author_prior_questions=2,
      author_prior_answers=1, author_account_age_days=3.0),
    q("", ""),
    q("Brewing", "- one\n- two\n\n[link](http://x.org)\n\n```\ncode\n```", tags=()),
]


def test_batch_equals_one_by_one_train_serve_parity():
    frame = compute_features(CRAFTED)
    assert list(frame.columns) == feature_names()
    assert (frame.dtypes == np.float64).all()
    assert len(frame) == len(CRAFTED)
    for i, question in enumerate(CRAFTED):
        single = features_for(question)
        np.testing.assert_array_equal(frame.iloc[i].to_numpy(), np.array(list(single.values())))


def test_accepts_dicts_and_dataset_frames_with_their_index():
    rows = [{"title": x.title, "body_html": x.body, "tags": list(x.tags),
             "author_prior_questions": x.author_prior_questions} for x in CRAFTED]
    frame = pd.DataFrame(rows, index=[10, 11, 12, 13])
    from_frame = compute_features(frame)
    assert list(from_frame.index) == [10, 11, 12, 13]
    from_dicts = compute_features(rows)
    np.testing.assert_array_equal(from_frame.to_numpy(), from_dicts.to_numpy())
    assert features_for(rows[0]) == features_for(CRAFTED[0])


def test_compute_features_on_one_question_or_nothing():
    assert len(compute_features(CRAFTED[0])) == 1
    empty = compute_features([])
    assert empty.shape == (0, len(feature_names()))
    with pytest.raises(TypeError, match="features_for"):
        compute_features({"title": "t", "body": "b"})  # type: ignore[arg-type]


def test_names_select_columns_in_registry_order():
    frame = compute_features(CRAFTED, names=["links", "title_chars"])
    assert list(frame.columns) == ["title_chars", "links"]
