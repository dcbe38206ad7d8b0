"""Checking a LightGBM text model before LightGBM reads it.

LightGBM's C++ loader trusts its input: a truncated or edited ``booster.txt`` makes it
abort (SIGABRT) or segfault, which kills the whole process (the service with it) without
a line saying why. The sha256 manifest only proves the file is the one that was written;
a manifest rewritten to match a damaged file passes it. So, before any in-process load:

1. :func:`check_booster_text` parses the text model's structure in Python (header, the
   ``tree_sizes`` offsets LightGBM seeks by, every tree's arrays, their lengths, child
   indices and feature indices, "end of trees"). Cheap (a few ms) and always on. It
   catches truncation and the usual edits with a clear :class:`ArtifactError`.
2. Inside :func:`isolated_loads` (the service's loader uses it), the booster is also
   loaded and run once in a child process first (:func:`probe_in_child`): whatever the
   text check missed can only kill the child. The file's sha256 is remembered once it
   passed, so a reload of the same file does not spawn again.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from askwell.models.artifacts import ArtifactError, sha256_file

_ISOLATED: contextvars.ContextVar[bool] = contextvars.ContextVar("askwell_isolated_loads",
                                                                 default=False)
_PROBED: set[str] = set()
_PROBED_LOCK = threading.Lock()
#: How long the child may take to load and run a booster.
PROBE_TIMEOUT_SECONDS = 120.0

_SPLIT_ARRAYS = ("split_feature", "split_gain", "threshold", "decision_type", "left_child",
                 "right_child", "internal_value", "internal_weight", "internal_count")
_LEAF_ARRAYS = ("leaf_value", "leaf_weight", "leaf_count")


@contextlib.contextmanager
def isolated_loads() -> Iterator[None]:
    """Within this block (this thread), boosters are probed in a child process first."""
    token = _ISOLATED.set(True)
    try:
        yield
    finally:
        _ISOLATED.reset(token)


def _numbers(path: Path, where: str, key: str, raw: str, count: int) -> list[float]:
    parts = raw.split()
    if len(parts) != count:
        raise ArtifactError(f"{path}: {where}: {key} has {len(parts)} values, expected {count}")
    try:
        values = [float(p) for p in parts]
    except ValueError as exc:
        raise ArtifactError(f"{path}: {where}: {key} is not a list of numbers") from exc
    if key != "threshold" and not all(math.isfinite(v) for v in values):
        raise ArtifactError(f"{path}: {where}: {key} holds a non-finite number")
    return values


def _check_tree(path: Path, index: int, block: str, n_features: int) -> None:
    where = f"tree {index}"
    fields: dict[str, str] = {}
    for line in block.splitlines()[1:]:
        if line.strip():
            key, sep, value = line.partition("=")
            if not sep:
                raise ArtifactError(f"{path}: {where}: unreadable line {line[:40]!r}")
            fields[key] = value
    try:
        leaves = int(fields["num_leaves"])
        cats = int(fields.get("num_cat", "0"))
    except (KeyError, ValueError) as exc:
        raise ArtifactError(f"{path}: {where}: no valid num_leaves/num_cat") from exc
    if leaves < 1 or cats < 0:
        raise ArtifactError(f"{path}: {where}: {leaves} leaves, {cats} categorical splits")
    for key in _LEAF_ARRAYS[:1] + (_LEAF_ARRAYS[1:] if leaves > 1 else ()):
        if key not in fields:
            raise ArtifactError(f"{path}: {where}: {key} is missing")
        _numbers(path, where, key, fields[key], leaves)
    if leaves == 1:
        return
    arrays = {}
    for key in _SPLIT_ARRAYS:
        if key not in fields:
            raise ArtifactError(f"{path}: {where}: {key} is missing")
        arrays[key] = _numbers(path, where, key, fields[key], leaves - 1)
    if any(not 0 <= f < n_features or f != int(f) for f in arrays["split_feature"]):
        raise ArtifactError(f"{path}: {where}: a split uses a feature the model does not have")
    for key in ("left_child", "right_child"):
        if any(not -leaves <= c <= leaves - 2 or c != int(c) for c in arrays[key]):
            raise ArtifactError(f"{path}: {where}: {key} points outside the tree")
    if cats:
        bounds = _numbers(path, where, "cat_boundaries", fields.get("cat_boundaries", ""), cats + 1)
        if bounds[0] != 0 or any(b > a for a, b in zip(bounds[1:], bounds, strict=False)):
            raise ArtifactError(f"{path}: {where}: cat_boundaries is not increasing from 0")
        _numbers(path, where, "cat_threshold", fields.get("cat_threshold", ""), int(bounds[-1]))


def check_booster_text(path: Path) -> None:
    """Raise :class:`ArtifactError` unless ``path`` is a structurally sound LightGBM model."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: not a LightGBM text model ({exc})") from exc
    head, sep, _rest = text.partition("\nTree=0\n")
    if not text.startswith("tree\n") or not sep:
        raise ArtifactError(f"{path}: not a LightGBM text model (no header or no trees)")
    header = dict(line.partition("=")[::2] for line in head.splitlines()[1:] if "=" in line)
    try:
        n_features = int(header["max_feature_idx"]) + 1
        sizes = [int(s) for s in header["tree_sizes"].split()]
    except (KeyError, ValueError) as exc:
        raise ArtifactError(f"{path}: the header has no valid max_feature_idx/tree_sizes") from exc
    if len(header.get("feature_names", "").split()) != n_features:
        raise ArtifactError(f"{path}: the header names {len(header.get('feature_names', '').split())} "
                            f"features, max_feature_idx says {n_features}")
    offset = len(head) + 1  # where LightGBM starts reading tree 0
    for i, size in enumerate(sizes):
        block = text[offset:offset + size]
        if size <= 0 or len(block) != size or not block.startswith(f"Tree={i}\n"):
            raise ArtifactError(f"{path}: tree {i} is not where tree_sizes says "
                                "(truncated or edited)")
        _check_tree(path, i, block, n_features)
        offset += size
    if not text[offset:].lstrip("\n").startswith("end of trees"):
        raise ArtifactError(f"{path}: no 'end of trees' after the {len(sizes)} trees "
                            "(truncated or edited)")


_PROBE = """
import sys
from pathlib import Path
import numpy as np
from askwell.models.lgbm_native import NativeBooster
b = NativeBooster.from_file(Path(sys.argv[1]))
x = np.zeros((2, b.num_feature()))
b.predict(x, raw_score=True, num_threads=1)
b.predict(x, pred_contrib=True, num_threads=1)
print("ok")
"""


def probe_in_child(path: Path) -> None:
    """Load and run the booster in a child process; raise if that child fails or dies."""
    path = Path(path)
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True,
                              text=True, timeout=PROBE_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ArtifactError(f"{path}: LightGBM did not load it within "
                            f"{PROBE_TIMEOUT_SECONDS:.0f} s in a test process") from exc
    if done.returncode == 0 and done.stdout.strip().endswith("ok"):
        return
    if done.returncode < 0:
        try:
            how = f"was killed by {signal.Signals(-done.returncode).name}"
        except ValueError:
            how = f"was killed by signal {-done.returncode}"
    else:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        how = f"failed ({last[:200]})"
    raise ArtifactError(f"{path}: LightGBM {how} loading this model in a test process; "
                        "the file is damaged (it was not loaded here)")


def verify_booster(path: Path) -> None:
    """The checks to run before ``lgb.Booster(model_file=path)`` in this process."""
    check_booster_text(path)
    if not _ISOLATED.get():
        return
    digest = sha256_file(Path(path))
    with _PROBED_LOCK:
        if digest in _PROBED:
            return
    probe_in_child(path)
    with _PROBED_LOCK:
        _PROBED.add(digest)
