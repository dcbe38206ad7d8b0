"""Runs and registered model versions in MLflow (local SQLite by default).

Each training run logs its params, metrics, dataset id and the model folder (with its
sha256 manifest and model card) as artifacts, and registers a new version of a named
model. Aliases (``champion``, ``challenger``) say which version serves. Loading a version
downloads its folder and verifies the manifest before anything is read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from askwell.errors import AskwellError

if TYPE_CHECKING:
    from askwell.models.base import BaseModel

EXPERIMENT = "askwell"
MODEL_ARTIFACT_DIR = "model"


class RegistryError(AskwellError):
    """The registry cannot do what was asked (unknown model, version or alias...)."""


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    run_id: str
    aliases: tuple[str, ...]
    source: str
    tags: dict[str, str]


def default_tracking_uri(home: Path) -> str:
    return f"sqlite:///{(Path(home) / 'mlflow.db').resolve().as_posix()}"


class Registry:
    """A thin, typed wrapper over MLflow's tracking and model-registry clients."""

    def __init__(self, tracking_uri: str, artifact_root: Path) -> None:
        self.tracking_uri = tracking_uri
        self.artifact_root = Path(artifact_root)
        self._client: Any = None

    @classmethod
    def for_home(cls, home: Path, tracking_uri: str | None = None) -> Registry:
        home = Path(home)
        home.mkdir(parents=True, exist_ok=True)
        return cls(tracking_uri or default_tracking_uri(home), home / "mlartifacts")

    @property
    def client(self) -> Any:
        if self._client is None:
            os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
            for noisy in ("mlflow", "alembic"):
                logging.getLogger(noisy).setLevel(logging.WARNING)
            from mlflow import MlflowClient

            for noisy in ("mlflow", "alembic"):  # mlflow resets its level on import
                logging.getLogger(noisy).setLevel(logging.WARNING)
            self._client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        return self._client

    def _experiment_id(self) -> str:
        exp = self.client.get_experiment_by_name(EXPERIMENT)
        if exp is not None:
            return exp.experiment_id
        self.artifact_root.mkdir(parents=True, exist_ok=True)
        return self.client.create_experiment(
            EXPERIMENT, artifact_location=self.artifact_root.resolve().as_uri()
        )

    def log_model(
        self,
        name: str,
        model_dir: Path,
        *,
        params: dict[str, Any],
        metrics: dict[str, float],
        tags: dict[str, str],
        extra_artifacts: Sequence[Path] = (),
    ) -> VersionInfo:
        """Log one training run and register its model folder as a new version of ``name``."""
        client = self.client
        run = client.create_run(self._experiment_id(), tags=tags, run_name=tags.get("family"))
        run_id = run.info.run_id
        try:
            for key, value in sorted(params.items()):
                client.log_param(run_id, key, str(value)[:500])
            for key, value in sorted(metrics.items()):
                if value is not None:
                    client.log_metric(run_id, key, float(value))
            client.log_artifacts(run_id, str(model_dir), MODEL_ARTIFACT_DIR)
            for path in extra_artifacts:
                client.log_artifact(run_id, str(path))
            client.set_terminated(run_id, "FINISHED")
        except Exception:
            client.set_terminated(run_id, "FAILED")
            raise
        try:
            client.get_registered_model(name)
        except Exception:
            client.create_registered_model(name)
        source = f"{run.info.artifact_uri}/{MODEL_ARTIFACT_DIR}"
        mv = client.create_model_version(name, source=source, run_id=run_id, tags=tags)
        return self._info(mv)

    def log_artifact(self, run_id: str, path: Path, subdir: str | None = None) -> None:
        self.client.log_artifact(run_id, str(path), subdir)

    def _info(self, mv: Any) -> VersionInfo:
        return VersionInfo(
            mv.name, str(mv.version), mv.run_id, tuple(getattr(mv, "aliases", []) or []),
            mv.source, dict(mv.tags or {}),
        )

    def versions(self, name: str) -> list[VersionInfo]:
        found = self.client.search_model_versions(f"name='{name}'")
        return sorted((self._info(v) for v in found), key=lambda v: int(v.version))

    def models(self) -> list[str]:
        return sorted(m.name for m in self.client.search_registered_models())

    def resolve(self, name: str, ref: str = "champion") -> VersionInfo:
        """A version by number, by alias, or ``latest``."""
        try:
            if ref == "latest":
                found = self.versions(name)
                if not found:
                    raise RegistryError(f"model {name!r} has no versions")
                return found[-1]
            if ref.isdigit():
                return self._info(self.client.get_model_version(name, ref))
            return self._info(self.client.get_model_version_by_alias(name, ref))
        except RegistryError:
            raise
        except Exception as exc:
            raise RegistryError(
                f"no version {ref!r} of model {name!r} in the registry "
                f"({type(exc).__name__}); see `askwell models list`"
            ) from exc

    def promote(self, name: str, version: str, alias: str = "champion") -> VersionInfo:
        info = self.resolve(name, version)
        self.client.set_registered_model_alias(name, alias, info.version)
        return self.resolve(name, info.version)

    def download(self, info: VersionInfo, dest: Path) -> Path:
        from mlflow.artifacts import download_artifacts

        dest.mkdir(parents=True, exist_ok=True)
        local = download_artifacts(
            artifact_uri=info.source, dst_path=str(dest), tracking_uri=self.tracking_uri
        )
        return Path(local)

    def load(self, name: str, ref: str, cache_dir: Path) -> tuple[BaseModel, VersionInfo]:
        """Download a version (once) and load it after verifying its manifest."""
        from askwell.models.base import load_model

        info = self.resolve(name, ref)
        target = cache_dir / name / info.version
        if not (target / MODEL_ARTIFACT_DIR).is_dir():
            self.download(info, target)
        return load_model(target / MODEL_ARTIFACT_DIR), info
