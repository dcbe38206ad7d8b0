"""Shared fixtures: the real-data gate and small worlds the tests build themselves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from askwell.config import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED_DUMPS = REPO.parent / "shared" / "data" / "stackexchange"


def require_real_data() -> Path:
    """The shared dumps folder, or skip (fail when ASKWELL_REQUIRE_REAL_DATA=1)."""
    if (SHARED_DUMPS / "manifest.json").is_file():
        return SHARED_DUMPS
    reason = f"real Stack Exchange dumps not found at {SHARED_DUMPS}"
    if os.environ.get("ASKWELL_REQUIRE_REAL_DATA") == "1":
        pytest.fail(f"{reason} and ASKWELL_REQUIRE_REAL_DATA=1")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dumps() -> Path:
    return require_real_data()


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    """Settings whose state lives in the test's own temporary folder."""
    return Settings(home=tmp_path / "askwell-home", shared_data=SHARED_DUMPS)


@pytest.fixture(scope="session")
def real_dataset(tmp_path_factory: pytest.TempPathFactory, shared_dumps: Path):
    """Both shared folders (33 sites) ingested once per test session."""
    from askwell.data.commands import default_inputs
    from askwell.data.ingest import ingest
    from askwell.data.store import DatasetStore

    home = tmp_path_factory.mktemp("real-home")
    s = Settings(home=home, shared_data=shared_dumps)
    return ingest(default_inputs(s), DatasetStore(s.datasets_dir)).dataset
