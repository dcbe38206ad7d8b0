"""Saving and loading model artifacts without pickle.

A model folder holds ``model.json`` (everything about the model that is plain data) and
estimator files in safe formats: skops (loaded only with an explicit list of trusted
types), LightGBM's text model, or JSON. ``MANIFEST.json`` lists each file's sha256 and is
checked before anything is read, so a tampered or truncated artifact is refused with a
clear message instead of being half-loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from askwell.errors import AskwellError

MANIFEST = "MANIFEST.json"
MODEL_JSON = "model.json"

#: The only types a skops artifact may contain. Anything else is refused.
TRUSTED_SKOPS_TYPES: tuple[str, ...] = (
    "builtins.slice",
    "collections.OrderedDict",
    "collections.defaultdict",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "numpy.random._mt19937.MT19937",
    "numpy.random.mtrand.RandomState",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
)


class ArtifactError(AskwellError):
    """A model artifact is missing, tampered with, truncated or of an unknown kind."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path) -> dict[str, str]:
    files = {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    (folder / MANIFEST).write_text(json.dumps({"sha256": files}, indent=2, sort_keys=True))
    return files


def verify_manifest(folder: Path) -> dict[str, str]:
    """Check every file against the manifest; raise :class:`ArtifactError` on any mismatch."""
    folder = Path(folder)
    manifest_file = folder / MANIFEST
    if not folder.is_dir():
        raise ArtifactError(f"{folder}: no such model folder")
    if not manifest_file.is_file():
        raise ArtifactError(f"{folder}: no {MANIFEST}; not an askwell model artifact")
    try:
        expected: dict[str, str] = json.loads(manifest_file.read_text())["sha256"]
    except (ValueError, KeyError) as exc:
        raise ArtifactError(f"{manifest_file}: unreadable manifest ({exc})") from exc
    for name, sha in expected.items():
        path = folder / name
        if not path.is_file():
            raise ArtifactError(f"{folder}: {name} is missing (artifact incomplete)")
        if sha256_file(path) != sha:
            raise ArtifactError(
                f"{folder}: {name} does not match its sha256 in {MANIFEST} "
                "(tampered with or truncated); rebuild or re-download the model"
            )
    return expected


def save_skops(obj: Any, path: Path) -> None:
    import skops.io as sio

    sio.dump(obj, path, compression=8)  # zipfile.ZIP_DEFLATED


def load_skops(path: Path) -> Any:
    """Load a skops file, refusing any type not in :data:`TRUSTED_SKOPS_TYPES`."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    unexpected = sorted(set(untrusted) - set(TRUSTED_SKOPS_TYPES))
    if unexpected:
        raise ArtifactError(f"{path}: refusing to load untrusted types {unexpected}")
    return sio.load(path, trusted=list(untrusted))


def write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=_json_default))


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def atomic_folder(target: Path) -> _AtomicFolder:
    """Write a folder elsewhere, then move it into place (replacing any old one)."""
    return _AtomicFolder(Path(target))


class _AtomicFolder:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.target.parent))
        return self.tmp

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        write_manifest(self.tmp)
        if self.target.exists():
            old = self.target.with_name(self.target.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.target, old)
            os.replace(self.tmp, self.target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, self.target)
