"""One settings object for the whole tool (env prefix ``ASKWELL_``).

Settings are built explicitly (``Settings()``) by the CLI and by the app factory, never
at import time, so tests can build their own with their own paths.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_shared_data() -> Path:
    """The shared dumps live beside the checkout: ``../shared/data/stackexchange``."""
    return Path.cwd().parent / "shared" / "data" / "stackexchange"


class Settings(BaseSettings):
    """Where askwell keeps its state and where it finds its inputs."""

    model_config = SettingsConfigDict(env_prefix="ASKWELL_", extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path.cwd() / ".askwell",
        description="Root folder for datasets, runs, models and logs.",
    )
    shared_data: Path = Field(
        default_factory=_default_shared_data,
        description="Folder holding one sub-folder (or .7z archive) per Stack Exchange site.",
    )
    shared_data_extra: Path | None = Field(
        default=None,
        description="A second dump folder ingested by default (default: "
                    "``stackexchange-extra`` beside ``shared_data``, when it exists).",
    )
    seed: int = 42
    duckdb_memory_limit: str = Field(
        default="256MB", description="Upper bound for DuckDB during ingest joins."
    )
    ingest_batch_rows: int = Field(default=5000, ge=100, le=1_000_000)
    question_filter: str = Field(
        default="default",
        description="The filtering model in front of the main model: 'default' (the packaged "
                    "one), 'off', or a filter folder (askwell filter train --out).",
    )

    @property
    def dump_folders(self) -> list[Path]:
        """The folders the default ingest reads: the shared dumps and the extra ones."""
        extra = self.shared_data_extra or self.shared_data.parent / "stackexchange-extra"
        return [self.shared_data, *([extra] if extra.is_dir() and extra != self.shared_data else [])]

    @property
    def datasets_dir(self) -> Path:
        return self.home / "datasets"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"
