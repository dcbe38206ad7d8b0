"""Site tables (base rates, per-site calibration, percentiles) and leave-one-site-out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from askwell.evaluation.sites import leave_one_site_out
from askwell.models.base import load_model, make_model
from askwell.models.sites import SHRINK_QUESTIONS, SiteTable, matching_shift
from tests.worlds import make_questions


def _two_sites(n: int = 400, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Site a: 95% good; site b: 70% good; the model's pooled scores say 85% for both."""
    rng = np.random.default_rng(seed)
    sites = ["a.stackexchange.com"] * n + ["b.stackexchange.com"] * n
    y = np.concatenate([rng.random(n) < 0.95, rng.random(n) < 0.70]).astype(float)
    p = np.clip(0.85 + rng.normal(0, 0.05, 2 * n), 0.01, 0.99)
    return sites, y, p


def test_matching_shift_hits_the_target_mean() -> None:
    p = np.array([0.2, 0.5, 0.9, 0.95])
    d = matching_shift(p, 0.8)
    z = np.log(p / (1 - p)) + d
    assert float(np.mean(1 / (1 + np.exp(-z)))) == pytest.approx(0.8, abs=1e-6)


def test_per_site_calibration_moves_each_site_toward_its_base_rate() -> None:
    sites, y, p = _two_sites()
    table = SiteTable.learn(sites, y, p)
    a = table.adjust(sites[:400], p[:400])
    b = table.adjust(sites[400:], p[400:])
    # shrunk toward the kind: most of the way, not all of it (n=400, K=100 -> 80%)
    assert 0.85 < a.mean() < y[:400].mean() + 0.005
    assert y[400:].mean() - 0.005 < b.mean() < 0.85
    # the Brier score of each site beats the pooled calibration's
    for mask in (slice(0, 400), slice(400, 800)):
        adjusted = table.adjust(sites[mask], p[mask])
        assert np.mean((adjusted - y[mask]) ** 2) < np.mean((p[mask] - y[mask]) ** 2)
    # ranking within a site never changes (a shift is monotone)
    assert np.array_equal(np.argsort(a, kind="stable"), np.argsort(p[:400], kind="stable"))


def test_small_sites_are_shrunk_toward_their_kind() -> None:
    sites, y, p = _two_sites()
    sites = sites[:400] + ["c.stackexchange.com"] * 10
    y = np.concatenate([y[:400], np.zeros(10)])  # ten bad questions on a tiny site
    p = np.concatenate([p[:400], np.full(10, 0.85)])
    table = SiteTable.learn(sites, y, p)
    own = matching_shift(np.full(10, 0.85), 0.0)
    kind = table.kinds["main"].shift
    w = 10 / (10 + SHRINK_QUESTIONS)
    assert table.shift("c.stackexchange.com") == pytest.approx(w * own + (1 - w) * kind)


def test_unknown_sites_get_their_kinds_numbers_and_say_so() -> None:
    sites, y, p = _two_sites()
    sites = [s if i % 4 else "a.meta.stackexchange.com" for i, s in enumerate(sites)]
    table = SiteTable.learn(sites, y, p, sites, p)
    new = table.context("new.stackexchange.com")
    assert not new.known and new.kind == "main" and new.questions == 0
    assert new.base_rate == pytest.approx(table.kinds["main"].base_rate)
    assert table.shift("new.meta.stackexchange.com") == table.kinds["meta"].shift
    assert table.context(None).base_rate == pytest.approx(float(y.mean()))
    known = table.context("a.stackexchange.com")
    assert known.known and known.questions == sites.count("a.stackexchange.com")
    assert next(c.name for c in table.sites()) in {"a.stackexchange.com", "b.stackexchange.com"}


def test_percentiles_rank_among_the_sites_own_questions() -> None:
    sites, y, p = _two_sites()
    table = SiteTable.learn(sites, y, p, sites, p)
    a = table.adjust(sites[:400], p[:400])
    median = float(np.median(a))
    assert table.percentile("a.stackexchange.com", median) == pytest.approx(50, abs=2)
    assert table.percentile("a.stackexchange.com", 0.0) == 0.0
    assert table.percentile("a.stackexchange.com", 1.0) == 100.0
    # the same probability ranks lower on the site where questions score higher
    assert table.percentile("a.stackexchange.com", 0.85) < table.percentile("b.stackexchange.com", 0.85)


def test_a_tie_counts_half_below() -> None:
    table = SiteTable.learn(["a.stackexchange.com"] * 100, np.ones(100) * (np.arange(100) % 2),
                            np.full(100, 0.5), ["a.stackexchange.com"] * 100, np.full(100, 0.5))
    assert table.percentile("a.stackexchange.com", float(table.adjust(["a.stackexchange.com"], np.array([0.5]))[0])) == 50.0


def test_table_round_trips_through_json() -> None:
    sites, y, p = _two_sites()
    table = SiteTable.learn(sites, y, p, sites, p)
    again = SiteTable.from_json(table.to_json())
    assert np.allclose(again.adjust(sites, p), table.adjust(sites, p), atol=1e-5)
    assert again.percentile("b.stackexchange.com", 0.8) == table.percentile("b.stackexchange.com", 0.8)
    assert SiteTable.from_meta({"family": "x"}) is None


def test_a_trained_model_carries_its_site_table_and_uses_it(tmp_path) -> None:
    frame = make_questions(240, seed=3)
    fit, cal = frame.iloc[:180], frame.iloc[180:]
    model = make_model("features", seed=1, n_estimators=30, min_child_samples=5)
    model.fit(fit, fit["label"].to_numpy(), calibration=(cal, cal["label"].to_numpy()))
    table = model.site_table
    assert table is not None and set(table.by_site) == set(frame["site"])
    raw = model.raw_proba(frame)
    pooled = model.calibrate(raw)
    site = model.predict_proba(frame)
    assert np.allclose(site, table.adjust(list(frame["site"]), pooled))
    assert not np.allclose(site, pooled)  # the two sites' shifts differ
    loaded = load_model(model.save(tmp_path / "m"))
    assert np.allclose(loaded.predict_proba(frame), site)
    assert loaded.site_table.percentile("beer.stackexchange.com", 0.5) is not None


def _sites_world() -> pd.DataFrame:
    """Four main sites (and a meta) of the synthetic world, so each can be held out."""
    frames = []
    for i, name in enumerate(["a", "b", "c", "d"]):
        f = make_questions(120, seed=10 + i)
        f["site"], f["site_kind"] = f"{name}.stackexchange.com", "main"
        frames.append(f)
    meta = make_questions(60, seed=20)
    meta["site"], meta["site_kind"] = "a.meta.stackexchange.com", "meta"
    frames.append(meta)
    out = pd.concat(frames, ignore_index=True)
    out["question_id"] = [f"q{i}" for i in range(len(out))]
    return out


def test_leave_one_site_out_holds_out_each_main_site() -> None:
    world = _sites_world()
    model = make_model("features", seed=1, n_estimators=30, min_child_samples=5)
    section = leave_one_site_out(model, world, split="random", seed=0, n_boot=50)
    assert [r["site"] for r in section["sites"]] == [f"{s}.stackexchange.com" for s in "abcd"]
    for r in section["sites"]:
        assert r["n"] == 120 and 0 <= r["bad"] < r["n"]
        assert r["roc_auc"] > 0.7  # the synthetic world's signal carries across its sites
        assert r["brier_base_rate"] == pytest.approx(r["base_rate"] * (1 - r["base_rate"]))
        assert r["beats_base_rate"] == (r["brier"] < r["brier_base_rate"])
    m = section["macro"]
    assert m["sites"] == 4
    assert m["roc_auc"] == pytest.approx(np.mean([r["roc_auc"] for r in section["sites"]]))
    assert "held-out main sites" in section["verdict"]


def test_a_held_out_site_is_really_unseen(monkeypatch) -> None:
    """The re-fit never sees the held-out site's questions (a leak would make it 'known')."""
    world = _sites_world()
    seen: list[set[str]] = []
    import askwell.evaluation.curves as curves

    real = curves.refit

    def spy(model, fit, calibration):
        seen.append(set(fit["site"]) | set(calibration["site"]))
        return real(model, fit, calibration)

    monkeypatch.setattr(curves, "refit", spy)
    model = make_model("features", seed=1, n_estimators=20, min_child_samples=5)
    section = leave_one_site_out(model, world, split="random", seed=0, n_boot=20)
    for row, sites in zip(section["sites"], seen, strict=True):
        assert row["site"] not in sites


def test_sites_too_small_to_score_are_listed_not_dropped() -> None:
    world = _sites_world()
    tiny = make_questions(12, seed=5)
    tiny["site"], tiny["site_kind"] = "tiny.stackexchange.com", "main"
    tiny["label"] = 1.0
    tiny["question_id"] = [f"t{i}" for i in range(len(tiny))]
    world = pd.concat([world, tiny], ignore_index=True)
    model = make_model("features", seed=1, n_estimators=20, min_child_samples=5)
    section = leave_one_site_out(model, world, split="random", seed=0, n_boot=20)
    assert [s["site"] for s in section["skipped"]] == ["tiny.stackexchange.com"]
    assert "tiny.stackexchange.com" not in [r["site"] for r in section["sites"]]


@pytest.mark.parametrize(("percentile", "expected"), [
    (0.0, "in the bottom 1% of questions there"), (0.7, "in the bottom 1% of questions there"),
    (1.0, "better received than 1% of questions there"),
    (70.4, "better received than 70% of questions there"),
    (98.9, "better received than 99% of questions there"),
    (99.0, "in the top 1% of questions there"), (100.0, "in the top 1% of questions there"),
    (-5.0, "in the bottom 1% of questions there"), (250.0, "in the top 1% of questions there"),
])
def test_the_percentile_never_reads_better_than_0_or_100_percent(percentile: float, expected: str) -> None:
    from askwell.explain.verdict import percentile_phrase

    assert percentile_phrase(percentile, "there") == expected
