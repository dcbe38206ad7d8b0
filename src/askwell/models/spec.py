"""How models are named: :class:`ModelSpec` (what a user asks for) and :class:`ModelRef`
(which model produced an analysis).

One grammar everywhere (``askwell analyze --model``, ``askwell evaluate MODEL``,
``askwell serve --model``, the service's reload events, batch scoring):

- nothing, or ``default``: the model packaged with askwell;
- a folder holding ``model.json`` (``./runs/m``, ``~/m``, ``/abs/m``, or ``path:DIR``);
- a registered model ``NAME[:VERSION|ALIAS]`` (``registry:NAME[:...]`` also works);
  a bare name means its ``champion``.

Parsing is pure (no file is read beyond "is this a folder"); loading is
:func:`askwell.registry.resolve.resolve_model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from askwell.errors import AskwellError

SpecKind = Literal["default", "path", "registry"]

DEFAULT_ALIAS = "champion"
DEFAULT_SPEC = "default"


class ModelSpecError(AskwellError):
    """A model reference that names nothing askwell can load."""


@dataclass(frozen=True)
class ModelRef:
    """Which model produced an analysis (logged with every prediction)."""

    family: str
    name: str
    version: str
    dataset_id: str | None


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model reference: the packaged default, a folder, or a registry version."""

    kind: SpecKind
    name: str | None = None  # registry: the registered model's name
    ref: str | None = None  # registry: a version number, an alias or ``latest``
    path: Path | None = None  # path: the model folder
    alias_defaulted: bool = False  # registry: no ``:REF`` was given (so ``champion``)

    @classmethod
    def default(cls) -> ModelSpec:
        return cls("default")

    @classmethod
    def folder(cls, path: Path | str) -> ModelSpec:
        return cls("path", path=Path(path).expanduser())

    @classmethod
    def registered(cls, name: str, ref: str | None = None) -> ModelSpec:
        name = name.strip()
        if not name or "/" in name:
            raise ModelSpecError(f"{name!r} is not a registered model name; use NAME[:VERSION|ALIAS]")
        ref = (ref or "").strip()
        return cls("registry", name=name, ref=ref or DEFAULT_ALIAS, alias_defaulted=not ref)

    @classmethod
    def parse(cls, text: str | ModelSpec | None, *, path: Path | str | None = None) -> ModelSpec:
        """Parse what a user (or a reload event) wrote. ``path`` (``--model-path``) wins
        over ``text`` only when ``text`` is empty; giving both is an error."""
        if isinstance(text, ModelSpec):
            return text
        text = (text or "").strip()
        if path is not None:
            if text:
                raise ModelSpecError("give a model name or a model folder, not both")
            return cls.folder(path)
        if not text or text == DEFAULT_SPEC:
            return cls.default()
        kind, sep, rest = text.partition(":")
        if sep and kind == "path":
            return cls.folder(rest)
        if sep and kind == "registry":
            name, _, ref = rest.partition(":")
            return cls.registered(name, ref)
        if _looks_like_path(text):
            return cls.folder(text)
        name, _, ref = text.partition(":")
        if not name.strip():
            raise ModelSpecError(f"{text!r} is not a model reference; use NAME[:VERSION|ALIAS], "
                                 "a model folder, or 'default'")
        return cls.registered(name, ref)

    def __str__(self) -> str:
        if self.kind == "path":
            return f"path:{self.path}"
        if self.kind == "registry":
            return f"registry:{self.name}" + ("" if self.alias_defaulted else f":{self.ref}")
        return DEFAULT_SPEC


def _looks_like_path(text: str) -> bool:
    """A folder: written like a path, or an existing folder holding a model."""
    if text.startswith((".", "~", "/")) or "/" in text or "\\" in text:
        return True
    return (Path(text) / "model.json").is_file()


__all__ = ["DEFAULT_ALIAS", "ModelRef", "ModelSpec", "ModelSpecError"]
