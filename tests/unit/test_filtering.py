"""The filtering model on small dumps the tests write, and the packaged filter on the
inputs of issue 11's table."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from askwell.features import analyze_text
from askwell.filtering import REASONS, SOFT_REASONS, FilterOutcome, default_filter, load_filter
from askwell.filtering.data import Example, assign_splits, held_out_sites, read_dumps
from askwell.filtering.features import FEATURE_NAMES, Vocabulary, filter_features
from askwell.filtering.model import MODEL_TXT, QuestionFilter, Thresholds, pack_model
from askwell.filtering.negatives import MAKERS, generate
from askwell.filtering.reasons import CLASSES, QUESTION
from askwell.filtering.train import choose_thresholds, prepare, train_filter
from askwell.models.artifacts import ArtifactError, write_manifest
from askwell.question import Question
from tests.dumps import answer, question, revision, user, write_site, write_xml

# ------------------------------------------------------------------ a small world
_TOPICS = ["hops", "yeast", "kegs", "lager", "stout", "bottles", "malt", "cider", "barrels",
           "wort", "grain", "sugar", "foam", "corks", "taps"]
_OPEN = ["How do I", "What is the best way to", "Why does my attempt to", "Is it possible to",
         "Can I", "How can I"]
_VERB = ["keep", "store", "clean", "carbonate", "filter", "age", "chill", "measure"]


def _question_text(rng: random.Random) -> tuple[str, str]:
    topic, verb = rng.choice(_TOPICS), rng.choice(_VERB)
    title = f"{rng.choice(_OPEN)} {verb} the {topic} without losing flavour?"
    body = (f"<p>I {verb} my {topic} at {rng.randint(4, 20)}C in the cellar, and after "
            f"{rng.randint(2, 9)} weeks it tastes flat and sour.</p>"
            f"<p>What I tried: I cleaned the {rng.choice(_TOPICS)} and changed the "
            f"{rng.choice(_TOPICS)}, but nothing changed.</p>")
    if rng.random() < 0.4:
        body += f"<pre><code>gravity = {rng.random():.3f}\ntemp = {rng.randint(4, 20)}</code></pre>"
    return title, body + "<p>What am I missing here?</p>"


def write_world(root: Path, n_sites: int = 4, per_site: int = 70, seed: int = 0) -> Path:
    """``n_sites`` site dumps with questions, answers, comments and close events."""
    rng = random.Random(seed)
    for s in range(n_sites):
        qs, ans, comments, history = [], [], [], []
        for i in range(per_site):
            title, body = _question_text(rng)
            qid = 2 * i + 1
            closed = "2021-01-01T00:00:00.000" if i % 17 == 5 else None
            qs.append(question(qid, title=title, body=body, owner=rng.randint(1, 30),
                               score=rng.randint(-1, 4), answers=1, closed=closed))
            if closed:
                history.append(revision(qid, 10, comment=rng.choice(["102", "104", "105"])))
            ans.append(answer(qid + 1, parent=qid, owner=rng.randint(1, 30), body=(
                f"<p>You should {rng.choice(_VERB)} the {rng.choice(_TOPICS)} first; "
                f"that usually fixes it. Try a colder cellar instead.</p>")))
            comments.append({"Id": i + 1, "PostId": qid, "UserId": rng.randint(1, 30),
                             "Text": rng.choice(["Thanks, that worked for me.",
                                                 "Did you try a colder cellar?",
                                                 "Same here, any update on this one?",
                                                 "@bob please add your recipe"]),
                             "CreationDate": "2020-01-01T00:00:00.000", "Score": 0})
        # a question reopened after being closed stays a positive
        history += [revision(1, 10, comment="102", created="2020-01-01T00:00:00.000"),
                    revision(1, 11, created="2020-02-01T00:00:00.000")]
        folder = write_site(root / f"site{s}.stackexchange.com", qs, ans, history=history,
                            users=[user(u) for u in range(1, 31)])
        write_xml(folder / "Comments.xml", "comments", comments)
    return root


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_world(tmp_path_factory.mktemp("filter-world"))


@pytest.fixture(scope="module")
def trained(world: Path, tmp_path_factory: pytest.TempPathFactory):
    return train_filter([world], tmp_path_factory.mktemp("filter") / "f", seed=0)


# ------------------------------------------------------------------ data and splits
def test_read_dumps_finds_questions_answers_comments_and_close_reasons(world: Path) -> None:
    rows = read_dumps([world])
    assert len(rows.sites) == 4
    closed_per_site = len([i for i in range(70) if i % 17 == 5])
    assert len(rows.closed) == 4 * closed_per_site
    assert len(rows.questions) == 4 * (70 - closed_per_site)
    assert {e.label for e in rows.closed} <= {"off_topic", "unclear", "opinion"}
    assert len(rows.answers) == 4 * 70 and len(rows.comments) == 4 * 70
    # question 1 was closed then reopened, and has no ClosedDate: a positive
    assert any(e.ref == "site0.stackexchange.com/q/1" for e in rows.questions)
    assert all(e.label == "answer_like" for e in rows.answers)


def test_split_keeps_sites_and_authors_whole_and_generated_with_their_source(world: Path) -> None:
    rows = read_dumps([world])
    test_sites = frozenset(held_out_sites(rows.sites, seed=0))
    assert 0 < len(test_sites) < len(rows.sites)
    qs = assign_splits(rows.questions, test_sites, seed=0)
    others = assign_splits(rows.answers + rows.comments, test_sites, seed=0)
    sides: dict[str, set[str]] = {}
    for e in qs + others:
        sides.setdefault(e.author, set()).add(e.side)
        if e.site in test_sites:
            assert e.side == "test"
    assert all(len(s) == 1 for s in sides.values())
    by_ref = {e.ref: e for e in qs}
    generated = generate(qs, seed=0)
    assert len(generated) == len(qs)
    for g in generated:
        source = by_ref[g.ref.split("#")[0]]
        assert (g.side, g.author, g.site) == (source.side, source.author, source.site)
        assert g.label == g.ref.split("#")[1] and g.source == "generated"


def _q(title: str = "How do I keep hops fresh?", body: str = "<p>I store hops in a jar.</p>"
       "<pre><code>x = 1</code></pre>") -> Example:
    return Example(title=title, body=body, site="s", author="s:1", label=QUESTION,
                   source="question", ref="s/q/1")


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_each_generator_makes_its_kind_of_junk(kind: str) -> None:
    rng = random.Random(3)
    for _ in range(20):
        title, body = MAKERS[kind](_q(), rng, ["<pre><code>y = 2</code></pre>"])
        a = analyze_text(Question(title=title, body=body))
        if kind == "empty_body":
            assert a.body_words == [] and a.document.code_chars == 0
        elif kind == "all_caps":
            assert title == title.upper()
        elif kind == "url_only":
            assert "http" in body
            assert len(re.sub(r"\S*https?://\S+|\[link\]", "", a.body).split()) <= 1
        elif kind == "code_only":
            assert a.body_words == [] and a.document.code_chars > 0
        elif kind == "other_script":
            letters = [c for c in title + a.body if c.isalpha()]
            assert sum(not c.isascii() for c in letters) / len(letters) > 0.9
        elif kind == "spam":
            assert "http" in body or "+" in body or "call" in (title + body).lower()
        elif kind in ("greeting", "comment_like", "title_only"):
            assert len(a.body_words) <= 12


def test_shuffled_gibberish_keeps_the_words() -> None:
    rng = random.Random(0)
    q = _q(body="<p>one two three four five six seven eight nine ten eleven twelve</p>")
    for _ in range(30):
        title, body = MAKERS["gibberish"](q, rng, [])
        if body.count(" ") < 30 and len(set(body.split())) > 3:  # the shuffle variant
            words = sorted((title + " " + body).split())
            assert words == sorted((q.title + " " + "one two three four five six seven eight"
                                    " nine ten eleven twelve").split())
            return
    pytest.fail("no shuffled variant in 30 draws")


# ------------------------------------------------------------------ features
def test_features_read_the_analysis_and_never_parse_the_body_again(monkeypatch) -> None:
    a = analyze_text(Question(title="How do I?", body="<p>I tried <b>this</b>.</p>"))
    import askwell.data.document as document

    def no_parse(*args, **kwargs):
        raise AssertionError("the filter parsed the body again")

    monkeypatch.setattr(document, "parse_body", no_parse)
    monkeypatch.setattr(document, "parse_html", no_parse)
    row = filter_features(a, Vocabulary(frozenset({"i"}), frozenset()))
    assert len(row) == len(FEATURE_NAMES)
    assert all(np.isfinite(row))


def test_features_stay_bounded_on_a_huge_repeated_word() -> None:
    a = analyze_text(Question(title="spam", body="spam " * 6000))
    row = dict(zip(FEATURE_NAMES, filter_features(a, Vocabulary(frozenset(), frozenset())),
                   strict=True))
    assert row["distinct_ratio"] < 0.001 and row["top_word_share"] == 1.0
    assert row["max_word_len"] == 4


def test_vocabulary_round_trips_and_is_deterministic() -> None:
    texts = [["how", "do", "i", "brew"], ["how", "do", "you", "brew"], ["i", "brew"]]
    v = Vocabulary.learn(texts, n_words=3, n_bigrams=2)
    assert v == Vocabulary.learn(list(reversed(texts)), n_words=3, n_bigrams=2)
    assert v == Vocabulary.from_json(json.loads(json.dumps(v.to_json())))
    assert ("how", "do") in v.bigrams and "brew" in v.words


# ------------------------------------------------------------------ thresholds, outcome
def test_thresholds_take_the_lowest_reject_point_that_meets_the_targets() -> None:
    rng = np.random.default_rng(0)
    n_q, n_j = 2000, 2000
    p_junk = np.concatenate([rng.uniform(0, 0.6, n_q), rng.uniform(0.55, 1.0, n_j)])
    p_junk[:3] = 0.95  # three confident false rejects among the questions
    labels = [QUESTION] * n_q + ["spam"] * n_j
    good = [True] * n_q + [None] * n_j
    th, op = choose_thresholds(p_junk, 1 - p_junk, labels, good)
    assert 0.6 <= th.reject <= 0.6025  # first point above every question but the three
    assert op["valid"]["good_rejected"] == pytest.approx(3 / n_q)
    assert th.unsure <= 0.5


def test_thresholds_refuse_a_point_that_rejects_too_many_good_questions() -> None:
    p_junk = np.array([0.99] * 10 + [0.1] * 90 + [0.99] * 100)
    labels = [QUESTION] * 100 + ["spam"] * 100
    th, _ = choose_thresholds(p_junk, 1 - p_junk, labels, [True] * 100 + [None] * 100)
    # no point under 0.99 meets 0.3% with 10% of the questions at 0.99: nothing is rejected
    assert th.reject > 0.99 and not (p_junk >= th.reject).any()


def _filter_with(thresholds: Thresholds) -> QuestionFilter:
    return QuestionFilter(None, Vocabulary(frozenset(), frozenset()), thresholds,
                          {"classes": list(CLASSES), "model_sha": "abc"})


def test_soft_closed_reasons_warn_but_never_reject() -> None:
    f = _filter_with(Thresholds(reject=0.8, unsure=0.5))
    probs = np.zeros(len(CLASSES))
    probs[CLASSES.index("opinion")] = 0.95
    probs[0] = 0.05
    o = f.outcome_of(probs)
    assert (o.outcome, o.reason) == ("unsure", "opinion")
    probs[:] = 0
    probs[CLASSES.index("spam")], probs[CLASSES.index("opinion")] = 0.85, 0.15
    o = f.outcome_of(probs)
    assert (o.outcome, o.reason) == ("reject", "spam")
    assert o.message == REASONS["spam"].message and "advertisement" in o.message
    probs[:] = 0
    probs[0] = 0.9
    assert f.outcome_of(probs) == FilterOutcome("pass", 0.9, None, None, None, f.name)
    assert {"off_topic", "unclear", "opinion"} == SOFT_REASONS


# ------------------------------------------------------------------ training, artifact
def test_small_filter_learns_and_holds_out_sites(trained) -> None:
    m = trained.metrics
    assert m["held_out_sites"]["n_questions"] > 0
    assert m["all"]["reject_recall"] >= 0.8
    assert m["all"]["questions_rejected"] <= 0.05
    assert m["all"]["per_kind"]["empty_body"]["rejected"] >= 0.9
    assert set(m["top_errors"]) == {"questions_most_like_junk", "junk_most_like_questions"}


def test_saved_filter_reloads_with_the_same_outcomes(trained) -> None:
    loaded = load_filter(trained.folder)
    texts = trained.data.texts[:50]
    np.testing.assert_allclose(loaded.probabilities(texts), trained.filter.probabilities(texts))
    assert loaded.name == trained.filter.name and loaded.name.startswith("askwell-filter v")
    card = (trained.folder / "MODEL_CARD.md").read_text()
    assert "Data card" in card and "| spam | generated |" in card


def test_same_data_same_seed_same_files(world: Path, trained, tmp_path: Path) -> None:
    again = train_filter([world], tmp_path / "again", seed=0, data=prepare([world], seed=0))
    for name in ("model.txt.gz", "vocabulary.json", "filter.json", "MODEL_CARD.md", "MANIFEST.json"):
        assert (again.folder / name).read_bytes() == (trained.folder / name).read_bytes(), name


def test_tampered_or_corrupt_model_is_refused_before_lightgbm(trained, tmp_path: Path) -> None:
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(trained.folder, bad)
    data = (bad / MODEL_TXT).read_bytes()
    (bad / MODEL_TXT).write_bytes(data[: len(data) // 3] + b"garbage\n")
    with pytest.raises(ArtifactError, match="sha256"):
        load_filter(bad)
    write_manifest(bad)  # a consistent manifest over a broken file: still refused, no abort
    with pytest.raises(ArtifactError, match=r"unreadable|truncated|not a LightGBM"):
        load_filter(bad)
    (bad / MODEL_TXT).write_bytes(pack_model("tree\nversion=v4\ngarbage"))
    write_manifest(bad)
    with pytest.raises(ArtifactError, match="not a LightGBM"):
        load_filter(bad)
    (bad / MODEL_TXT).unlink()
    with pytest.raises(ArtifactError, match="missing"):
        load_filter(bad)
    with pytest.raises(ArtifactError, match="no such"):
        load_filter(tmp_path / "nowhere")


def test_cli_train_evaluate_and_assess(world: Path, trained, tmp_path: Path) -> None:
    from askwell.cli import app

    runner = CliRunner()
    out = tmp_path / "cli-filter"
    r = runner.invoke(app, ["filter", "train", "--data", str(world), "--out", str(out),
                            "--json", "--html", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    payload = json.loads(r.stdout)
    assert payload["summary"]["n_questions"] > 0
    assert "<script" not in (tmp_path / "r.html").read_text()
    r = runner.invoke(app, ["filter", "evaluate", "--model", str(out), "--data", str(world)])
    assert r.exit_code == 0 and "held_out_sites" in r.stdout
    r = runner.invoke(app, ["filter", "assess", "hello", "--body", "", "--model", str(out),
                            "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["outcome"] in ("reject", "unsure")


# ------------------------------------------------------------------ the packaged filter
CAREFUL = Question(
    title="Why does my keg lose CO2 pressure overnight after I replaced the gas line?",
    body=(
        "<p>I have a 19 l Cornelius keg on a dual-gauge regulator set to 12 psi. Since I "
        "replaced the gas line last week, the pressure drops to about 4 psi overnight.</p>"
        "<p>What I tried: soapy water on every fitting (no bubbles), a new O-ring on the lid, "
        "and tightening the clamps on both ends of the line. The regulator alone, with the "
        "keg disconnected, holds pressure.</p>"
        "<pre><code>regulator: 12 psi -> 4 psi after 10 h\nline: 5/16\" ID vinyl, 2 m\n</code>"
        "</pre><p>I expected the new line to hold pressure like the old one. Where else can "
        "CO2 escape, and how can I find the leak?</p>"),
)
BAD = {
    "title x, empty body": Question(title="x", body=""),
    "whitespace only": Question(title="   ", body="  \n "),
    "spam ad": Question(
        title="Cheapest iPhone cases online - free delivery",
        body="<p>Shop our huge range of phone cases at unbeatable prices! Order today at "
             "<a href='https://cases-shop.example'>cases-shop.example</a> and get 30% off. "
             "Contact sales on +44 20 7946 0000.</p>"),
    "brew beer, empty body": Question(title="How do I brew beer?", body=""),
    "greeting": Question(title="Hello", body="Hi everybody, hope you are all well! Cheers"),
    "same problem": Question(title="Keg leaking", body="same problem here"),
    "all caps": Question(title="WHY IS MY BEER SO CLOUDY",
                         body="I MADE A PALE ALE AND IT IS VERY CLOUDY AFTER A WEEK. WHAT DID I DO WRONG"),
    "code only": Question(title="error", body="```\nfor i in range(10):\n    print(i / 0)\n```"),
    "bare url": Question(title="see link", body="https://pastebin.example/abc123"),
    "gibberish": Question(title="sdkfj weuir", body="lkjsdf qwpoe zmxnv alskd fjghty ruei wopq"),
    "one word 30k": Question(title="beer", body="beer " * 6000),
    "other script": Question(title="Как сварить пиво дома?",
                             body="Я хочу сварить пиво дома, но не знаю, с чего начать. "
                                  "Какое оборудование нужно?"),
    "markup only": Question(title="?", body="<p></p><br><p>&nbsp;</p>"),
    "opinion poll": Question(title="What is your favourite beer of all time?",
                             body="Just curious what everyone here likes best. Vote below!"),
    "off-topic rant": Question(
        title="My landlord is the worst person alive",
        body="I am so sick of this. He never fixes anything, the heating is broken again and "
             "he just ignores my calls. People like him should not be allowed to rent out "
             "flats. Rant over!!!"),
}


@pytest.fixture(scope="module")
def packaged() -> QuestionFilter:
    return default_filter()


@pytest.mark.parametrize("name", sorted(BAD))
def test_packaged_filter_does_not_pass_bad_input(packaged: QuestionFilter, name: str) -> None:
    q = BAD[name]
    o = packaged.assess(q, analyze_text(q))
    assert o.outcome in ("reject", "unsure"), (name, o)
    assert o.reason in REASONS and o.message and o.advice


def test_packaged_filter_passes_a_careful_question(packaged: QuestionFilter) -> None:
    o = packaged.assess(CAREFUL, analyze_text(CAREFUL))
    assert o.outcome == "pass" and o.p_question > 0.8 and o.reason is None


def test_packaged_filter_gives_reasons_a_writer_can_act_on(packaged: QuestionFilter) -> None:
    def reason(q: Question) -> str | None:
        return packaged.assess(q, analyze_text(q)).reason

    assert reason(BAD["brew beer, empty body"]) in ("empty_body", "title_only")
    assert reason(BAD["spam ad"]) == "spam"
    assert reason(BAD["other script"]) == "other_script"
    assert reason(BAD["bare url"]) == "url_only"


def test_assess_many_matches_assess(packaged: QuestionFilter) -> None:
    qs = [CAREFUL, *BAD.values()]
    texts = [analyze_text(q) for q in qs]
    assert packaged.assess_many(qs, texts) == [packaged.assess(q, t) for q, t in zip(qs, texts, strict=True)]
    with pytest.raises(ValueError):
        packaged.assess_many(qs, texts[:1])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(max_size=200), body=st.text(max_size=2000))
def test_any_text_gets_a_well_formed_outcome(packaged: QuestionFilter, title: str, body: str) -> None:
    q = Question(title=title, body=body)
    o = packaged.assess(q, analyze_text(q))
    assert o.outcome in ("pass", "unsure", "reject") and 0.0 <= o.p_question <= 1.0
    assert (o.reason is None) == (o.outcome == "pass")
