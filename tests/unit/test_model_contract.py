"""The model contract: protocols, parameters, typed meta, and the one model-spec grammar."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from askwell.models.base import FeatureModel, Model, ModelMeta, clone, load_model, make_model
from askwell.models.spec import ModelSpec, ModelSpecError
from tests.worlds import make_questions


# ---------------------------------------------------------------- ModelSpec.parse
@pytest.mark.parametrize(("text", "kind", "name", "ref"), [
    (None, "default", None, None),
    ("", "default", None, None),
    ("default", "default", None, None),
    ("beer", "registry", "beer", "champion"),
    ("beer:3", "registry", "beer", "3"),
    ("beer:challenger", "registry", "beer", "challenger"),
    ("registry:beer:7", "registry", "beer", "7"),
    ("registry:beer", "registry", "beer", "champion"),
])
def test_model_specs_parse_one_way(text, kind, name, ref):
    spec = ModelSpec.parse(text)
    assert (spec.kind, spec.name, spec.ref) == (kind, name, ref)
    assert ModelSpec.parse(str(spec)) == spec  # the canonical form parses back to itself


def test_folders_are_paths_and_a_path_option_wins_over_nothing(tmp_path: Path):
    assert ModelSpec.parse("./runs/m") == ModelSpec.folder("runs/m")
    assert ModelSpec.parse(f"path:{tmp_path}").path == tmp_path
    assert ModelSpec.parse(None, path=tmp_path) == ModelSpec.folder(tmp_path)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.json").write_text("{}")
    assert ModelSpec.parse(str(tmp_path / "m")).kind == "path"
    with pytest.raises(ModelSpecError, match="not both"):
        ModelSpec.parse("beer", path=tmp_path)
    with pytest.raises(ModelSpecError, match="not a model reference"):
        ModelSpec.parse(":3")


def test_a_registry_name_without_alias_is_marked_as_defaulted():
    assert ModelSpec.parse("beer").alias_defaulted
    assert not ModelSpec.parse("beer:champion").alias_defaulted


# ---------------------------------------------------------------- parameters, meta
def test_parameters_are_stored_by_init_and_clone_gives_an_unfitted_twin():
    model = make_model("features", n_estimators=20, num_leaves=3)
    assert model.get_params()["n_estimators"] == 20 and model.n_estimators == 20  # type: ignore[attr-defined]
    frame = make_questions(120, seed=3)
    model.fit(frame, frame["label"])
    twin = clone(model)
    assert type(twin) is type(model) and twin.get_params() == model.get_params()
    assert twin.booster_ is None and twin.feature_names_ == []  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="no parameters"):
        model.set_params(leaves=4)


def test_model_meta_round_trips_model_json_and_keeps_family_state(tmp_path: Path):
    frame = make_questions(120, seed=5)
    model = make_model("features", n_estimators=20).fit(
        frame, frame["label"], calibration=(frame, frame["label"]))
    assert isinstance(model.meta, ModelMeta) and model.meta.calibration.method == "platt"
    assert "reference" in model.meta and model.meta["reference"] is model.meta.extra["reference"]
    model.meta["sites"] = {"beer": 1}  # a family/helper entry goes to extra, top level in model.json
    folder = model.save(tmp_path / "m")
    payload = json.loads((folder / "model.json").read_text())
    assert payload["sites"] == {"beer": 1} and payload["calibration"]["method"] == "platt"
    assert "extra" not in payload
    again = load_model(folder)
    assert again.meta.to_json() == payload
    np.testing.assert_allclose(again.predict_proba(frame), model.predict_proba(frame))


def test_the_families_implement_the_protocols_they_claim():
    for family in ("features", "stacked"):
        feature = make_model(family)
        assert isinstance(feature, FeatureModel) and isinstance(feature, Model), family
    for family in ("heuristic", "linear", "book-v1"):
        model = make_model(family)
        assert isinstance(model, Model) and not isinstance(model, FeatureModel), family


# ---------------------------------------------------------------- plain data
def test_json_safe_is_strict_json_and_rounds_only_when_asked():
    import math

    import pandas as pd

    from askwell.plain import finite_or_none, json_safe

    raw = {1: (np.int64(3), np.bool_(True)), "x": np.float64("nan"), "f": 1.23456789,
           "arr": np.array([1.5, np.inf]), "t": pd.Timestamp("2020-01-02"), "nat": pd.NaT}
    assert json_safe(raw, 6) == {"1": [3, True], "x": None, "f": 1.234568, "arr": [1.5, None],
                                 "t": "2020-01-02T00:00:00", "nat": None}
    assert json_safe({"f": 1.23456789})["f"] == 1.23456789
    json.dumps(json_safe(raw), allow_nan=False)
    assert [finite_or_none(v) for v in (None, math.nan, math.inf, "1", True, np.float32(2.5), 3)] == \
        [None, None, None, None, None, 2.5, 3.0]
