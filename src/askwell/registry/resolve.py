"""Load the model a :class:`~askwell.models.spec.ModelSpec` names: the one resolver used
by ``askwell analyze``, ``askwell evaluate``, ``askwell serve`` (and its reloads) and batch.

Registry versions are downloaded once into one cache, ``$ASKWELL_HOME/cache/models/NAME/
VERSION`` (versions are immutable, so a cached folder never goes stale; its manifest is
verified on every load). The result says what was loaded in a pinned form (``source``):
``registry:NAME:VERSION`` even when an alias was asked for, so a reload event or a report
names exactly the model that answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from askwell.config import Settings
from askwell.models.spec import DEFAULT_ALIAS, ModelRef, ModelSpec, ModelSpecError

if TYPE_CHECKING:
    from askwell.models.base import Model
    from askwell.registry.mlflow_registry import VersionInfo


@dataclass(frozen=True)
class ResolvedModel:
    """A loaded model, the reference logged with its predictions, and where it came from."""

    model: Model
    ref: ModelRef
    spec: ModelSpec  # as asked
    source: str  # pinned: "default", "path:/abs/folder" or "registry:NAME:VERSION"
    path: Path  # the folder it was loaded from
    info: VersionInfo | None = None  # registry versions: run id, aliases


def model_cache_dir(home: Path) -> Path:
    """The one download cache for registry versions."""
    return Path(home) / "cache" / "models"


def ref_for(model: Model, name: str, version: str) -> ModelRef:
    return ModelRef(family=model.family, name=name, version=str(version),
                    dataset_id=model.meta.dataset_id)


def resolve_model(settings: Settings, spec: ModelSpec | str | None = None,
                  tracking_uri: str | None = None) -> ResolvedModel:
    """Load what ``spec`` names (see :mod:`askwell.models.spec` for the grammar)."""
    spec = ModelSpec.parse(spec)
    if spec.kind == "path":
        return _from_folder(spec)
    if spec.kind == "registry":
        return _from_registry(settings, spec, tracking_uri)
    return _packaged(spec)


def _from_folder(spec: ModelSpec) -> ResolvedModel:
    from askwell.models.base import load_model

    assert spec.path is not None  # a path spec always has one
    folder = spec.path
    if not folder.is_dir():
        raise ModelSpecError(f"no model folder at {folder}; give a folder holding model.json, "
                             "a registered model NAME[:VERSION|ALIAS], or 'default'")
    model = load_model(folder)
    ref = ref_for(model, folder.name, model.meta.trained_at or "local")
    return ResolvedModel(model, ref, spec, f"path:{folder.resolve()}", folder)


def _from_registry(settings: Settings, spec: ModelSpec, tracking_uri: str | None) -> ResolvedModel:
    from askwell.registry.mlflow_registry import MODEL_ARTIFACT_DIR, Registry, RegistryError

    assert spec.name is not None and spec.ref is not None  # a registry spec always has both
    registry = Registry.for_home(settings.home, tracking_uri)
    try:
        model, info = registry.load(spec.name, spec.ref, model_cache_dir(settings.home))
    except RegistryError as exc:
        if not spec.alias_defaulted:
            raise
        raise RegistryError(
            f"{spec.name} has no {DEFAULT_ALIAS!r} version; give NAME:VERSION (e.g. {spec.name}:latest) "
            f"or promote one with `askwell models promote {spec.name} N` ({exc})"
        ) from exc
    folder = model_cache_dir(settings.home) / info.name / info.version / MODEL_ARTIFACT_DIR
    return ResolvedModel(model, ref_for(model, info.name, info.version), spec,
                         f"registry:{info.name}:{info.version}", folder, info)


def _packaged(spec: ModelSpec) -> ResolvedModel:
    from askwell.models.default import DEFAULT_NAME, default_model_dir, load_default_model

    model = load_default_model()
    ref = ref_for(model, DEFAULT_NAME, model.card.get("version", "packaged"))
    return ResolvedModel(model, ref, spec, "default", default_model_dir())


def load_for_use(settings: Settings, spec: str | None = None, path: Path | None = None,
                 tracking_uri: str | None = None) -> tuple[Model, ModelRef]:
    """(model, ref) for a registry ``spec`` or a folder ``path`` (kept for older callers;
    new code calls :func:`resolve_model`). ``path`` wins when both are given."""
    wanted = ModelSpec.folder(path) if path is not None else ModelSpec.parse(spec)
    resolved = resolve_model(settings, wanted, tracking_uri)
    return resolved.model, resolved.ref


__all__ = ["ResolvedModel", "load_for_use", "model_cache_dir", "ref_for", "resolve_model"]
