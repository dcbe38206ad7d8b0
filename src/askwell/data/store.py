"""Versioned datasets on disk: one folder per dataset id, Parquet inside, DuckDB to query.

A dataset folder is written elsewhere and renamed into place in one step, so readers
see either the whole dataset or none of it.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from askwell.errors import AskwellError

QUESTIONS_FILE = "questions.parquet"
META_FILE = "dataset.json"


class DatasetNotFound(AskwellError):
    """No dataset with that id (or no dataset at all) in the store."""


@dataclass(frozen=True)
class Dataset:
    """A versioned question dataset."""

    id: str
    path: Path
    meta: dict[str, Any]

    @property
    def questions_path(self) -> Path:
        return self.path / QUESTIONS_FILE

    @property
    def sites(self) -> list[str]:
        return [s["site"] for s in self.meta.get("sites", [])]

    def to_pandas(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Load the questions (optionally only some columns) into a DataFrame."""
        return pd.read_parquet(self.questions_path, columns=columns)

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL in DuckDB with the questions available as the view ``questions``."""
        import duckdb

        con = duckdb.connect()
        try:
            con.execute(
                f"CREATE VIEW questions AS SELECT * FROM read_parquet('{self.questions_path.as_posix()}')"
            )
            return con.execute(sql).df()
        finally:
            con.close()


class DatasetStore:
    """The folder of datasets: ``<root>/<id>/{questions.parquet,dataset.json}``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def get(self, dataset_id: str) -> Dataset | None:
        path = self.root / dataset_id
        meta_file = path / META_FILE
        if not meta_file.is_file() or not (path / QUESTIONS_FILE).is_file():
            return None
        return Dataset(dataset_id, path, json.loads(meta_file.read_text()))

    def list(self) -> list[Dataset]:
        """All complete datasets, newest first."""
        if not self.root.is_dir():
            return []
        found = [d for p in self.root.iterdir() if p.is_dir() and (d := self.get(p.name))]
        return sorted(found, key=lambda d: d.meta.get("created", ""), reverse=True)

    def latest(self) -> Dataset:
        found = self.list()
        if not found:
            raise DatasetNotFound(
                f"no dataset in {self.root}; run `askwell ingest` first"
            )
        return found[0]

    def resolve(self, ref: str | None) -> Dataset:
        """A dataset by id, by unique id prefix, or the latest when ``ref`` is None."""
        if ref is None or ref == "latest":
            return self.latest()
        exact = self.get(ref)
        if exact:
            return exact
        matches = [d for d in self.list() if d.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise DatasetNotFound(f"no dataset {ref!r} in {self.root}; see `askwell data list`")
        raise DatasetNotFound(f"{ref!r} matches several datasets; give more of the id")

    def commit(self, build: Path, meta: dict[str, Any], replace: bool = False) -> Dataset:
        """Move a fully written build folder into place under its id."""
        (build / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
        target = self.root / meta["id"]
        if target.exists():
            if not replace:
                existing = self.get(meta["id"])
                if existing:
                    return existing
            old = target.with_name(target.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(build, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(build, target)
        dataset = self.get(meta["id"])
        assert dataset is not None
        return dataset
