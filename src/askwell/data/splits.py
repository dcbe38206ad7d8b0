"""Train/test splits with leakage checks: ``random``, ``author`` and ``time``.

- ``random``: rows drawn at random.
- ``author``: whole authors on one side; an author is ``(site, owner_user_id)`` because
  user ids are local to a site. Questions without an owner (deleted or anonymous users,
  and the Community user, id <= 0) are singleton groups.
- ``time``: train on older questions, test on newer ones (by ``creation_date``, ties
  broken by ``post_id``).

With ``stratify=True`` (the default) each site is split on its own, so every site keeps
its share of the test side and, for ``time``, the cut is per site: the sites' dumps cover
very different years, and one global cut would put whole sites on one side.

Every split carries a :class:`LeakageReport`, in figures: owners on both sides,
identical and near-identical texts across the sides, and how many test questions are
older than the newest training question of their site. Same frame + same seed = same
split.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from askwell.data.texts import frame_texts
from askwell.errors import AskwellError

DEFAULT_SPLIT = "time"
DEFAULT_TEST_SIZE = 0.2
DEFAULT_SEED = 42
#: Jaccard similarity of word 5-shingles from which two texts count as near-identical.
NEAR_DUPLICATE_THRESHOLD = 0.9
SHINGLE_WORDS = 5


class SplitError(AskwellError):
    """An unknown split kind, a bad test fraction, or a frame lacking a needed column."""


# ---------------------------------------------------------------- text fingerprints
_WORD = re.compile(r"\w+")
_PAD = "\0"  # not a \w word, so never confused with a real one
_PRIMES = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
     0xFF51AFD7ED558CCD],
    dtype=np.uint64,
)
#: MinHash: NUM_BANDS bands of BAND_ROWS rows. A pair at Jaccard 0.9 becomes a candidate
#: with probability 1 - (1 - 0.9**4)**8 > 0.9998; candidates are then checked exactly.
BAND_ROWS = 4
NUM_BANDS = 8
_MINHASH_SEEDS = np.array(
    [(0x5851F42D4C957F2D * (k + 1) + 0x14057B7EF767814F) & 0xFFFFFFFFFFFFFFFF
     for k in range(BAND_ROWS * NUM_BANDS)],
    dtype=np.uint64,
)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised (uint64 arithmetic wraps)."""
    x = x.copy()
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def normalise_text(text: str) -> list[str]:
    """Lower-cased words, punctuation and spacing dropped."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class TextIndex:
    """Exact and near-duplicate fingerprints of a frame's question texts.

    ``hashes`` is a hash of the normalised words (identical texts share it); each row's
    word 5-shingles are kept (hashed, ``shingles[offsets[i]:offsets[i+1]]``)
    for exact Jaccard, and summarised by a MinHash signature for candidate search.
    """

    hashes: np.ndarray
    shingles: np.ndarray
    offsets: np.ndarray
    signatures: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)

    @classmethod
    def from_texts(cls, texts: list[str]) -> TextIndex:
        docs = [normalise_text(t) for t in texts]
        hashes = np.array(
            [int.from_bytes(hashlib.blake2b(" ".join(w).encode(), digest_size=8).digest(), "little")
             for w in docs],
            dtype=np.uint64,
        )
        # short texts: pad to one whole shingle so they still get a fingerprint
        docs = [w if len(w) >= SHINGLE_WORDS else w + [_PAD] * (SHINGLE_WORDS - len(w)) for w in docs]
        lengths = np.array([len(w) for w in docs], dtype=np.int64)
        flat = list(chain.from_iterable(docs))
        vocab = {w: zlib.crc32(w.encode()) for w in dict.fromkeys(flat)}
        word_ids = np.fromiter((vocab[w] for w in flat), dtype=np.uint64, count=len(flat))
        n_words = len(word_ids)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(texts) else np.zeros(0, np.int64)
        n_windows = max(n_words - SHINGLE_WORDS + 1, 0)
        windows = np.zeros(n_windows, dtype=np.uint64)
        for k in range(SHINGLE_WORDS):
            windows += word_ids[k : k + n_windows] * _PRIMES[k]
        doc = np.repeat(np.arange(len(texts)), lengths)[:n_windows]
        pos = np.arange(n_windows) - starts[doc] if n_windows else np.zeros(0, np.int64)
        valid = pos <= (lengths[doc] - SHINGLE_WORDS)
        sh, doc = _mix(windows[valid]), doc[valid]
        counts = np.bincount(doc, minlength=len(texts))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        signatures = np.empty((len(texts), len(_MINHASH_SEEDS)), dtype=np.uint64)
        if len(texts):
            for j, seed in enumerate(_MINHASH_SEEDS):
                signatures[:, j] = np.minimum.reduceat(_mix(sh ^ seed), offsets[:-1])
        return cls(hashes, sh, offsets, signatures)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> TextIndex:
        return cls.from_texts(frame_texts(frame))

    def take(self, rows: np.ndarray) -> TextIndex:
        """The index of a subset of rows (positions), in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        parts = [self.shingles[self.offsets[i] : self.offsets[i + 1]] for i in rows]
        counts = np.array([len(p) for p in parts], dtype=np.int64)
        shingles = np.concatenate(parts) if parts else self.shingles[:0]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return TextIndex(self.hashes[rows], shingles, offsets, self.signatures[rows])

    def jaccard(self, i: int, j: int) -> float:
        a = np.unique(self.shingles[self.offsets[i] : self.offsets[i + 1]])
        b = np.unique(self.shingles[self.offsets[j] : self.offsets[j + 1]])
        inter = len(np.intersect1d(a, b, assume_unique=True))
        union = len(a) + len(b) - inter
        return inter / union if union else 1.0

    def candidate_pairs(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Pairs ``(i, j)``, ``i < j``, sharing at least one MinHash band (among ``rows``)."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64)
        found: set[tuple[int, int]] = set()
        sig = self.signatures[rows]
        for b in range(NUM_BANDS):
            band = sig[:, b * BAND_ROWS : (b + 1) * BAND_ROWS]
            key = band[:, 0].copy()
            for c in range(1, BAND_ROWS):
                key = _mix(key ^ band[:, c])
            order = np.argsort(key, kind="stable")
            sorted_keys = key[order]
            bounds = np.flatnonzero(np.diff(sorted_keys)) + 1
            for group in np.split(order, bounds):
                if len(group) < 2:
                    continue
                members = np.sort(rows[group])
                for x in range(len(members)):
                    for y in range(x + 1, len(members)):
                        found.add((int(members[x]), int(members[y])))
        if not found:
            return np.zeros((0, 2), dtype=np.int64)
        return np.array(sorted(found), dtype=np.int64)

    def near_duplicate_pairs(
        self, threshold: float = NEAR_DUPLICATE_THRESHOLD, rows: np.ndarray | None = None,
        keep: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> list[tuple[int, int, float]]:
        """Pairs with shingle Jaccard >= ``threshold`` (identical texts included).

        ``keep`` filters candidate pairs (an ``(n, 2)`` array -> boolean mask) before the
        exact check, e.g. to keep only pairs across a split.
        """
        pairs = self.candidate_pairs(rows)
        if keep is not None and len(pairs):
            pairs = pairs[keep(pairs)]
        out = []
        for i, j in pairs:
            if self.hashes[i] == self.hashes[j]:
                out.append((int(i), int(j), 1.0))
                continue
            sim = self.jaccard(int(i), int(j))
            if sim >= threshold:
                out.append((int(i), int(j), round(sim, 4)))
        return out


# ---------------------------------------------------------------- leakage report
@dataclass
class LeakageReport:
    """What the test side shares with the training side, in figures."""

    train_rows: int
    test_rows: int
    # authors ((site, owner) pairs)
    train_owners: int | None = None
    test_owners: int | None = None
    owner_overlap: int | None = None
    test_rows_owner_in_train: int | None = None
    test_share_owner_in_train: float | None = None
    # texts
    identical_test_rows: int | None = None
    identical_pairs: int | None = None
    near_identical_test_rows: int | None = None
    near_identical_pairs: int | None = None
    test_share_near_identical: float | None = None
    near_threshold: float = NEAR_DUPLICATE_THRESHOLD
    near_examples: list[dict[str, Any]] = field(default_factory=list)
    # time order
    test_rows_older_than_newest_train_same_site: int | None = None
    test_share_older_than_newest_train_same_site: float | None = None
    test_share_older_than_newest_train_any_site: float | None = None
    time_by_site: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _share(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def owner_keys(frame: pd.DataFrame) -> np.ndarray:
    """``site:owner`` per row; ``None`` where there is no owner (null, or id <= 0)."""
    owner = pd.to_numeric(frame["owner_user_id"], errors="coerce")
    site = frame["site"].astype(str) if "site" in frame else pd.Series("", index=frame.index)
    has = owner.notna() & (owner > 0)
    keys = np.full(len(frame), None, dtype=object)
    keys[has.to_numpy()] = (
        site[has] + ":" + owner[has].astype("int64").astype(str)
    ).to_numpy()
    return keys


def leakage_report(
    frame: pd.DataFrame,
    train: np.ndarray,
    test: np.ndarray,
    *,
    text_index: TextIndex | None = None,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    max_examples: int = 5,
) -> LeakageReport:
    """Owner overlap, identical / near-identical texts across sides, and time order.

    ``train`` and ``test`` are positional indices into ``frame``. A figure is ``None``
    when the frame lacks the columns it needs.
    """
    train = np.asarray(train, dtype=np.int64)
    test = np.asarray(test, dtype=np.int64)
    rep = LeakageReport(train_rows=len(train), test_rows=len(test), near_threshold=threshold)

    if "owner_user_id" in frame:
        keys = owner_keys(frame)
        tr = {k for k in keys[train] if k is not None}
        te_keys = keys[test]
        te = {k for k in te_keys if k is not None}
        rows_in = sum(1 for k in te_keys if k is not None and k in tr)
        rep.train_owners, rep.test_owners = len(tr), len(te)
        rep.owner_overlap = len(tr & te)
        rep.test_rows_owner_in_train = rows_in
        rep.test_share_owner_in_train = _share(rows_in, len(test))

    if "title" in frame or "body_text" in frame or "body_html" in frame:
        index = text_index if text_index is not None else TextIndex.from_frame(frame)
        if len(index) != len(frame):
            raise SplitError("the text index was built on another frame; rebuild it on this one")
        train_hashes = set(index.hashes[train].tolist())
        identical = np.isin(index.hashes[test], list(train_hashes)) if len(train) else np.zeros(len(test), bool)
        rep.identical_test_rows = int(identical.sum())
        side = np.full(len(frame), -1, dtype=np.int8)
        side[train], side[test] = 0, 1

        def across(pairs: np.ndarray) -> np.ndarray:
            return side[pairs[:, 0]] + side[pairs[:, 1]] == 1

        rows = np.concatenate([train, test])
        near = index.near_duplicate_pairs(threshold, rows=rows, keep=across)
        rep.identical_pairs = sum(1 for i, j, _ in near if index.hashes[i] == index.hashes[j])
        test_hit = {i if side[i] == 1 else j for i, j, _ in near}
        rep.near_identical_pairs = len(near)
        rep.near_identical_test_rows = len(test_hit)
        rep.test_share_near_identical = _share(len(test_hit), len(test))
        ids = frame["question_id"].astype(str).to_numpy() if "question_id" in frame else None
        for i, j, sim in sorted(near, key=lambda p: -p[2])[:max_examples]:
            t_row, r_row = (i, j) if side[i] == 1 else (j, i)
            rep.near_examples.append(
                {
                    "test": ids[t_row] if ids is not None else int(t_row),
                    "train": ids[r_row] if ids is not None else int(r_row),
                    "jaccard": sim,
                }
            )

    if "creation_date" in frame:
        dates = pd.to_datetime(frame["creation_date"]).to_numpy()
        sites = frame["site"].astype(str).to_numpy() if "site" in frame else np.full(len(frame), "")
        if len(train):
            newest_any = dates[train].max()
            rep.test_share_older_than_newest_train_any_site = _share(
                int((dates[test] < newest_any).sum()), len(test)
            )
        total_older = 0
        for site in sorted(set(sites[test].tolist())):
            t_idx = test[sites[test] == site]
            r_idx = train[sites[train] == site]
            older = int((dates[t_idx] < dates[r_idx].max()).sum()) if len(r_idx) else 0
            total_older += older
            rep.time_by_site[site] = {
                "test_rows": len(t_idx),
                "train_rows": len(r_idx),
                "older_than_newest_train": older,
                "share": _share(older, len(t_idx)),
            }
        rep.test_rows_older_than_newest_train_same_site = total_older
        rep.test_share_older_than_newest_train_same_site = _share(total_older, len(test))
    return rep


# ---------------------------------------------------------------- splits
@dataclass
class Split:
    """Positional train/test indices into the frame that was split, and its leakage."""

    kind: str
    seed: int
    test_size: float
    stratify: bool
    train: np.ndarray
    test: np.ndarray
    leakage: LeakageReport | None = None

    def leakage_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind, "seed": self.seed, "test_size": self.test_size,
            "stratify": self.stratify,
        }
        if self.leakage is not None:
            out.update(self.leakage.to_dict())
        return out


def _strata(frame: pd.DataFrame, stratify: bool) -> list[np.ndarray]:
    """Positional index arrays, one per site (sorted by name), or one for the whole frame."""
    if not stratify or "site" not in frame:
        return [np.arange(len(frame))]
    groups = frame.reset_index(drop=True).groupby(frame["site"].astype(str).to_numpy(), sort=True).indices
    return [np.asarray(groups[k]) for k in sorted(groups)]


def _n_test(n: int, test_size: float) -> int:
    return int(np.floor(n * test_size + 0.5))


def _random(frame: pd.DataFrame, strata: list[np.ndarray], test_size: float, rng: np.random.Generator) -> np.ndarray:
    test = [rows[rng.permutation(len(rows))[: _n_test(len(rows), test_size)]] for rows in strata]
    return np.concatenate(test) if test else np.zeros(0, np.int64)


def _author(frame: pd.DataFrame, strata: list[np.ndarray], test_size: float, rng: np.random.Generator) -> np.ndarray:
    keys = owner_keys(frame)
    test: list[np.ndarray] = []
    for rows in strata:
        # one group per owner; rows without an owner are groups of their own
        group_of = np.array(
            [k if k is not None else f"\0row{r}" for k, r in zip(keys[rows], rows, strict=True)],
            dtype=object,
        )
        names, inverse = np.unique(group_of, return_inverse=True)
        sizes = np.bincount(inverse, minlength=len(names))
        order = rng.permutation(len(names))
        target = _n_test(len(rows), test_size)
        cum = np.cumsum(sizes[order])
        # cut where the running total comes closest to the target
        cut = int(np.argmin(np.abs(np.concatenate([[0], cum]) - target)))
        chosen = np.zeros(len(names), dtype=bool)
        chosen[order[:cut]] = True
        test.append(rows[chosen[inverse]])
    return np.concatenate(test) if test else np.zeros(0, np.int64)


def _time(frame: pd.DataFrame, strata: list[np.ndarray], test_size: float, rng: np.random.Generator) -> np.ndarray:
    dates = pd.to_datetime(frame["creation_date"]).to_numpy()
    ties = frame["post_id"].to_numpy() if "post_id" in frame else np.arange(len(frame))
    test = []
    for rows in strata:
        order = rows[np.lexsort((ties[rows], dates[rows]))]
        n = _n_test(len(rows), test_size)
        test.append(order[len(order) - n :] if n else order[:0])
    return np.concatenate(test) if test else np.zeros(0, np.int64)


# ---------------------------------------------------------------- k folds
#: (train, test) positional index pairs of one stratum (one site's rows)
Folds = list[tuple[np.ndarray, np.ndarray]]


def _groups_of(frame: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """One group per owner; rows without an owner are groups of their own."""
    keys = owner_keys(frame)
    return np.array([k if k is not None else f"\0row{r}" for k, r in zip(keys[rows], rows, strict=True)],
                    dtype=object)


def _grouped_folds(rows: np.ndarray, groups: np.ndarray, k: int, seed: int) -> Folds:
    """scikit-learn's shuffled ``GroupKFold`` over one stratum: a group never on both
    sides. A stratum with fewer groups than ``k`` fills only as many folds as it has
    groups; with one group it is tested in one fold (chosen by the seed) and trained on
    in the others, so every row is still tested exactly once."""
    from sklearn.model_selection import GroupKFold

    n_groups = len(np.unique(groups))
    empty = rows[:0]
    if n_groups < 2:
        where = seed % k
        return [(empty, rows) if i == where else (rows, empty) for i in range(k)]
    n = min(k, n_groups)
    splitter = GroupKFold(n_splits=n, shuffle=True, random_state=seed)
    pairs = [(rows[tr], rows[te]) for tr, te in splitter.split(rows, groups=groups)]
    return pairs + [(rows, empty)] * (k - n)


def _random_folds(frame: pd.DataFrame, rows: np.ndarray, k: int, seed: int) -> Folds:
    return _grouped_folds(rows, rows.astype(object), k, seed)


def _author_folds(frame: pd.DataFrame, rows: np.ndarray, k: int, seed: int) -> Folds:
    return _grouped_folds(rows, _groups_of(frame, rows), k, seed)


def _time_folds(frame: pd.DataFrame, rows: np.ndarray, k: int, seed: int) -> Folds:
    """scikit-learn's ``TimeSeriesSplit`` over one site's questions in time order: each
    fold tests a later block and trains on everything before it (never on the future).
    A site with too few questions for ``k + 1`` blocks is only trained on."""
    from sklearn.model_selection import TimeSeriesSplit

    dates = pd.to_datetime(frame["creation_date"]).to_numpy()
    ties = frame["post_id"].to_numpy() if "post_id" in frame else np.arange(len(frame))
    order = rows[np.lexsort((ties[rows], dates[rows]))]
    if len(order) <= k:
        return [(order, order[:0])] * k
    return [(order[tr], order[te]) for tr, te in TimeSeriesSplit(n_splits=k).split(order)]


FoldFunction = Callable[[pd.DataFrame, np.ndarray, int, int], Folds]
SplitFunction = Callable[[pd.DataFrame, list[np.ndarray], float, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class SplitSpec:
    """A split kind: its one train/test cut (``function``) and its ``k`` folds for
    cross-validation (``folds``), both within each site."""

    name: str
    description: str
    function: SplitFunction
    folds: FoldFunction
    requires: tuple[str, ...] = ()


SPLITS: dict[str, SplitSpec] = {
    s.name: s
    for s in (
        SplitSpec("random", "rows drawn at random", _random, _random_folds),
        SplitSpec("author", "whole authors (site, owner) on one side", _author, _author_folds,
                  ("owner_user_id",)),
        SplitSpec("time", "older questions train, newer ones test", _time, _time_folds,
                  ("creation_date",)),
    )
}


def get_split(name: str) -> SplitSpec:
    try:
        return SPLITS[name]
    except KeyError:
        raise SplitError(f"unknown split {name!r}; choose one of: {', '.join(sorted(SPLITS))}") from None


def make_split(
    frame: pd.DataFrame,
    kind: str = DEFAULT_SPLIT,
    *,
    seed: int = DEFAULT_SEED,
    test_size: float = DEFAULT_TEST_SIZE,
    stratify: bool = True,
    text_index: TextIndex | None = None,
    check_leakage: bool = True,
) -> Split:
    """Split ``frame`` into positional train/test indices and measure the leakage.

    ``text_index`` (built with :meth:`TextIndex.from_frame` on this same frame) saves
    re-fingerprinting the texts when one frame is split several ways.
    """
    spec = get_split(kind)
    if not 0.0 < test_size < 1.0:
        raise SplitError(f"test_size must be between 0 and 1 (exclusive), got {test_size}")
    missing = [c for c in spec.requires if c not in frame.columns]
    if missing:
        raise SplitError(
            f"the {kind!r} split needs the column(s) {', '.join(missing)}; "
            "pass a frame loaded from an ingested dataset"
        )
    rng = np.random.default_rng(seed)
    test = np.sort(spec.function(frame, _strata(frame, stratify), test_size, rng)).astype(np.int64)
    mask = np.ones(len(frame), dtype=bool)
    mask[test] = False
    train = np.flatnonzero(mask).astype(np.int64)
    split = Split(kind, seed, test_size, stratify, train, test)
    if check_leakage:
        split.leakage = leakage_report(frame, train, test, text_index=text_index)
    return split


def cv_folds(frame: pd.DataFrame, kind: str, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train, test) positional index pairs of split kind ``kind``, made within each
    site (every site appears in every fold it can) by the kind's registered ``folds``."""
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    spec = get_split(kind)
    per_fold: list[tuple[list[np.ndarray], list[np.ndarray]]] = [([], []) for _ in range(k)]
    for rows in _strata(frame.reset_index(drop=True), stratify=True):
        for i, (train, test) in enumerate(spec.folds(frame, rows, k, seed)):
            per_fold[i][0].append(train)
            per_fold[i][1].append(test)
    return [(np.sort(np.concatenate(tr)).astype(np.int64), np.sort(np.concatenate(te)).astype(np.int64))
            for tr, te in per_fold]
