"""Find the model to use from what a user names: a folder, ``name[:version|alias]`` in the
registry, or (nothing named) the packaged default. Always returns the model and the
:class:`~askwell.explain.schema.ModelRef` logged with its predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from askwell.config import Settings
from askwell.explain.schema import ModelRef


def ref_for(model: Any, name: str, version: str) -> ModelRef:
    return ModelRef(
        family=model.family, name=name, version=str(version),
        dataset_id=model.meta.get("dataset_id"),
    )


def load_for_use(settings: Settings, spec: str | None = None, path: Path | None = None,
                 tracking_uri: str | None = None) -> tuple[Any, ModelRef]:
    """``path`` wins, then a registry ``spec`` (``name``, ``name:3``, ``name:champion``),
    then the packaged default model."""
    if path is not None:
        from askwell.models.base import load_model

        model = load_model(Path(path))
        return model, ref_for(model, Path(path).name, model.meta.get("trained_at", "local"))
    if spec:
        from askwell.registry.mlflow_registry import Registry

        name, _, ref = spec.partition(":")
        registry = Registry.for_home(settings.home, tracking_uri)
        model, info = registry.load(name, ref or "champion", settings.home / "model-cache")
        return model, ref_for(model, info.name, info.version)
    from askwell.models.default import DEFAULT_NAME, load_default_model

    model = load_default_model()
    return model, ref_for(model, DEFAULT_NAME, model.meta.get("card", {}).get("version", "packaged"))
