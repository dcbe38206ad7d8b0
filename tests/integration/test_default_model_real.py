"""The packaged default model: verified on load, and rebuilt identically from the dumps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from askwell.models.default import build_default_model, default_model_dir, load_default_model
from askwell.question import questions_from_frame

pytestmark = pytest.mark.integration


def test_packaged_model_loads_and_carries_its_card() -> None:
    model = load_default_model()
    card = model.card
    assert card["data"]["license"].startswith("Stack Exchange data dump, CC BY-SA")
    assert len(card["data"]["sites"]) == 33  # both shared folders
    assert card["sites_out"]["macro"]["sites"] >= 10  # the leave-one-site-out table is on the card
    assert card["metrics"]["test"]["roc_auc"] > 0.55
    assert (default_model_dir() / "MODEL_CARD.md").is_file()


def test_rebuilding_from_the_shared_dumps_gives_the_same_model(real_dataset, tmp_path: Path) -> None:
    packaged = load_default_model()
    assert packaged.meta["dataset_id"] == real_dataset.id, "the packaged model was built from other data"
    result = build_default_model(real_dataset, tmp_path / "rebuilt")
    sample = questions_from_frame(real_dataset.to_pandas().head(300))
    np.testing.assert_allclose(result.model.predict_proba(sample), packaged.predict_proba(sample), atol=1e-9)
    assert result.metrics["roc_auc"] == pytest.approx(packaged.meta["metrics"]["test"]["roc_auc"], abs=1e-12)
