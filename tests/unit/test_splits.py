"""Splits and their leakage checks: sizes, seeds, strata, authors, time order, and that the
leakage report *detects* what was planted in a deliberately leaky split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from askwell.data.splits import (
    SplitError,
    TextIndex,
    leakage_report,
    make_split,
)
from askwell.errors import AskwellError
from tests.worlds import make_questions

_VOCAB = (
    "kettle grain mash boil hop yeast wort lager stout barrel cask bottle malt sugar water "
    "temperature gravity ferment cold warm clear cloudy bitter sweet sour crisp roast pale "
    "dark wheat barley oat rye carbonation pressure seal cap glass pour foam head aroma"
)
WORDS = _VOCAB.split()


def text(rng: np.random.Generator, n: int) -> str:
    return " ".join(rng.choice(WORDS, size=n))


def frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Two sites (60% / 40%); site b's questions are all newer than site a's; owners repeat,
    some are missing (None) or the Community user (-1)."""
    rng = np.random.default_rng(seed)
    n_a = int(n * 0.6)
    rows = []
    for i in range(n):
        site = "a.stackexchange.com" if i < n_a else "b.stackexchange.com"
        start = pd.Timestamp("2012-01-01") if i < n_a else pd.Timestamp("2020-01-01")
        owner = None if i % 17 == 0 else -1.0 if i % 23 == 0 else float(i % 29)
        rows.append(
            {
                "site": site,
                "post_id": i + 1,
                "question_id": f"{site}:{i + 1}",
                "title": f"question {i} about {WORDS[i % len(WORDS)]}",
                "body_text": text(rng, 60),
                "owner_user_id": owner,
                "creation_date": start + pd.Timedelta(hours=int(rng.integers(0, 24 * 365))),
            }
        )
    return pd.DataFrame(rows)


def owners(f: pd.DataFrame, idx: np.ndarray) -> set[str]:
    sub = f.iloc[idx]
    ok = sub["owner_user_id"].notna() & (sub["owner_user_id"] > 0)
    return set(sub.loc[ok, "site"] + ":" + sub.loc[ok, "owner_user_id"].astype(int).astype(str))


# ---------------------------------------------------------------- every kind
@pytest.mark.parametrize("kind", ["random", "author", "time"])
@pytest.mark.parametrize("stratify", [True, False])
def test_sides_are_disjoint_cover_the_frame_and_hold_about_the_test_fraction(kind, stratify):
    f = frame()
    s = make_split(f, kind, seed=3, stratify=stratify)
    assert len(np.intersect1d(s.train, s.test)) == 0
    assert sorted(np.concatenate([s.train, s.test]).tolist()) == list(range(len(f)))
    assert abs(len(s.test) / len(f) - 0.2) < 0.05
    assert s.leakage is not None and s.leakage.test_rows == len(s.test)


@pytest.mark.parametrize("kind", ["random", "author", "time"])
def test_same_seed_same_split(kind):
    f = frame()
    a = make_split(f, kind, seed=11)
    b = make_split(f, kind, seed=11)
    assert np.array_equal(a.train, b.train) and np.array_equal(a.test, b.test)
    assert a.leakage_dict() == b.leakage_dict()


@pytest.mark.parametrize("kind", ["random", "author"])
def test_different_seeds_different_splits(kind):
    f = frame()
    assert not np.array_equal(make_split(f, kind, seed=1).test, make_split(f, kind, seed=2).test)


def test_random_stratified_keeps_each_sites_share_exactly():
    f = frame(200)  # 120 rows on a, 80 on b
    s = make_split(f, "random", seed=5, test_size=0.25)
    test_sites = f.iloc[s.test]["site"].value_counts().to_dict()
    assert test_sites == {"a.stackexchange.com": 30, "b.stackexchange.com": 20}


# ---------------------------------------------------------------- author
@pytest.mark.parametrize("stratify", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_author_split_has_no_owner_on_both_sides(stratify, seed):
    f = frame()
    s = make_split(f, "author", seed=seed, stratify=stratify)
    assert owners(f, s.train).isdisjoint(owners(f, s.test))
    assert s.leakage.owner_overlap == 0
    assert s.leakage.test_rows_owner_in_train == 0
    assert s.leakage.test_share_owner_in_train == 0.0


def test_author_split_keeps_each_owner_whole_and_ownerless_rows_alone():
    f = frame()
    s = make_split(f, "author", seed=4)
    side = np.zeros(len(f), dtype=int)
    side[s.test] = 1
    f = f.assign(side=side)
    known = f[f["owner_user_id"] > 0]
    assert (known.groupby(["site", "owner_user_id"])["side"].nunique() == 1).all()
    ownerless = f[f["owner_user_id"].isna() | (f["owner_user_id"] <= 0)]
    assert set(ownerless["side"]) == {0, 1}  # singletons land on both sides


def test_same_user_id_on_two_sites_is_two_authors():
    f = pd.DataFrame(
        {
            "site": ["a", "b"],
            "owner_user_id": [7.0, 7.0],
            "title": ["x", "y"],
            "creation_date": pd.to_datetime(["2020-01-01", "2020-01-02"]),
        }
    )
    rep = leakage_report(f, np.array([0]), np.array([1]))
    assert rep.owner_overlap == 0


# ---------------------------------------------------------------- time
def test_time_split_stratified_cuts_each_site_and_tests_on_the_newest():
    f = frame()
    s = make_split(f, "time")
    for site, g in f.groupby("site"):
        train_dates = f.iloc[np.intersect1d(s.train, g.index)]["creation_date"]
        test_dates = f.iloc[np.intersect1d(s.test, g.index)]["creation_date"]
        assert len(test_dates) == round(len(g) * 0.2)
        assert test_dates.min() > train_dates.max(), site
    assert s.leakage.test_rows_older_than_newest_train_same_site == 0
    assert all(v["older_than_newest_train"] == 0 for v in s.leakage.time_by_site.values())
    # site b is entirely newer, so across sites most test rows of site a predate train rows of b
    assert s.leakage.test_share_older_than_newest_train_any_site > 0.5


def test_time_split_unstratified_uses_one_global_cut():
    f = frame()  # every site-b question is newer than every site-a question
    s = make_split(f, "time", stratify=False)
    assert set(f.iloc[s.test]["site"]) == {"b.stackexchange.com"}
    assert f.iloc[s.test]["creation_date"].min() > f.iloc[s.train]["creation_date"].max()
    assert s.leakage.test_share_older_than_newest_train_any_site == 0.0


def test_time_split_is_deterministic_whatever_the_seed():
    f = frame()
    assert np.array_equal(make_split(f, "time", seed=1).test, make_split(f, "time", seed=99).test)


# ---------------------------------------------------------------- leakage detection
def leaky_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    base = text(rng, 200).split()
    edited = list(base)
    edited[100] = "zzzchanged"  # one word: 5 of 196 shingles differ -> Jaccard 191/201
    return pd.DataFrame(
        {
            "site": ["s"] * 6,
            "question_id": [f"s:{i}" for i in range(6)],
            "title": ["How to seal a cask?", "HOW to seal a cask", "Near one", "Near one",
                      "Unrelated", "Other thing"],
            "body_text": ["It leaks, badly.", "it leaks badly!!", " ".join(base), " ".join(edited),
                          text(rng, 200), text(rng, 200)],
            "owner_user_id": [1.0, 2.0, 3.0, 4.0, 5.0, 5.0],
            "creation_date": pd.to_datetime(
                ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04", "2020-01-06", "2020-01-05"]
            ),
        }
    )


def test_leakage_detects_planted_identical_near_identical_owner_and_time_order():
    f = leaky_frame()
    train, test = np.array([0, 2, 4]), np.array([1, 3, 5])
    rep = leakage_report(f, train, test)
    # owner 5 wrote row 4 (train) and row 5 (test)
    assert (rep.train_owners, rep.test_owners, rep.owner_overlap) == (3, 3, 1)
    assert rep.test_rows_owner_in_train == 1
    assert rep.test_share_owner_in_train == pytest.approx(1 / 3, abs=1e-4)
    # rows 0/1 differ only in case and punctuation; rows 2/3 in one word of 200
    assert rep.identical_test_rows == 1
    assert rep.identical_pairs == 1
    assert rep.near_identical_test_rows == 2
    assert rep.near_identical_pairs == 2
    pairs = {(x["test"], x["train"]): x["jaccard"] for x in rep.near_examples}
    assert pairs[("s:1", "s:0")] == 1.0
    assert pairs[("s:3", "s:2")] == pytest.approx(191 / 201, abs=1e-3)
    # test row 5 (Jan 5) is older than train row 4 (Jan 6); rows 1 and 3 are too
    assert rep.test_rows_older_than_newest_train_same_site == 3
    assert rep.time_by_site["s"]["share"] == 1.0


def test_leakage_is_clean_on_a_clean_split():
    f = leaky_frame()
    rep = leakage_report(f, np.array([0, 1, 2]), np.array([4]))
    assert rep.owner_overlap == 0
    assert rep.identical_test_rows == 0
    assert rep.near_identical_test_rows == 0
    assert rep.test_rows_older_than_newest_train_same_site == 0


def test_near_duplicate_search_finds_a_planted_pair_among_many():
    rng = np.random.default_rng(1)
    texts = [text(rng, 80) for _ in range(800)]
    words = texts[123].split()
    words[-1] = "changed"
    texts.append(" ".join(words))  # row 800 ~ row 123: 75 of 77 shingles shared
    index = TextIndex.from_texts(texts)
    pairs = index.near_duplicate_pairs(0.9)
    assert [(i, j) for i, j, _ in pairs] == [(123, 800)]
    assert index.jaccard(123, 800) == pytest.approx(75 / 77)


def test_short_texts_still_get_fingerprints():
    index = TextIndex.from_texts(["Hi", "hi!", "hello there"])
    assert index.hashes[0] == index.hashes[1] != index.hashes[2]
    assert [(i, j) for i, j, _ in index.near_duplicate_pairs()] == [(0, 1)]


def test_a_text_index_of_a_subset_equals_one_built_on_the_subset():
    f = frame(60)
    rows = np.array([5, 2, 40, 33])
    whole = TextIndex.from_frame(f).take(rows)
    direct = TextIndex.from_frame(f.iloc[rows])
    for name in ("hashes", "shingles", "offsets", "signatures"):
        assert np.array_equal(getattr(whole, name), getattr(direct, name))


# ---------------------------------------------------------------- inputs
def test_unknown_split_names_the_valid_ones():
    with pytest.raises(SplitError) as err:
        make_split(frame(), "by-moon")
    assert isinstance(err.value, AskwellError)
    for name in ("random", "author", "time"):
        assert name in str(err.value)


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.1, 1.5])
def test_test_size_must_be_a_fraction(test_size):
    with pytest.raises(SplitError, match="between 0 and 1"):
        make_split(frame(), "random", test_size=test_size)


def test_missing_column_says_which():
    with pytest.raises(SplitError, match="creation_date"):
        make_split(frame().drop(columns="creation_date"), "time")


def test_frames_without_body_text_use_the_html():
    f = make_questions(60, seed=3)  # body_html only, like a frame built for serving
    s = make_split(f, "author", seed=1)
    assert s.leakage.owner_overlap == 0
    assert s.leakage.identical_test_rows is not None


def test_cv_folds_come_from_the_split_registry_and_survive_tiny_sites() -> None:
    """Folds are made per site by each kind's registered splitter (scikit-learn's
    GroupKFold / TimeSeriesSplit): a site with one author is tested in one fold only, a
    site too small for the time folds is only trained on, and nothing leaks."""
    import numpy as np
    import pandas as pd

    from askwell.data.splits import SPLITS, cv_folds

    assert all(callable(spec.folds) for spec in SPLITS.values())
    big = pd.DataFrame({"site": "a", "owner_user_id": [float(i % 10 + 1) for i in range(40)],
                        "creation_date": pd.date_range("2020-01-01", periods=40, freq="D"),
                        "post_id": range(40)})
    lone = pd.DataFrame({"site": "b", "owner_user_id": [7.0] * 3,
                         "creation_date": pd.date_range("2021-01-01", periods=3, freq="D"),
                         "post_id": range(100, 103)})
    frame = pd.concat([big, lone], ignore_index=True)
    b_rows = set(np.flatnonzero(frame["site"] == "b"))
    author = cv_folds(frame, "author", 4, seed=3)
    tested = [set(te) & b_rows for _, te in author]
    assert sum(bool(t) for t in tested) == 1 and set().union(*tested) == b_rows
    for train, test in author:
        owners = frame["site"] + frame["owner_user_id"].astype(str)
        assert not set(owners.iloc[train]) & set(owners.iloc[test])
    tests = np.concatenate([te for _, te in author])
    assert sorted(tests) == list(range(len(frame)))
    timed = cv_folds(frame, "time", 4, seed=3)
    assert all(not (set(te) & b_rows) and b_rows <= set(tr) for tr, te in timed)
    for train, test in timed:
        a_train, a_test = [frame.loc[[i for i in idx if i not in b_rows], "creation_date"] for idx in (train, test)]
        assert len(a_test) and a_train.max() < a_test.min()
