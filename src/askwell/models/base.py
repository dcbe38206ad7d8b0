"""The ``Model`` protocol every family implements, and the shared machinery behind it.

Like scikit-learn's ``BaseEstimator``: ``__init__`` only stores parameters, ``fit`` does
the work, learned state ends in an underscore. The report, the service, batch scoring and
the recommendation engine talk only to this interface.

Every model carries what is needed to trust a prediction: its label spec, feature spec,
training dataset id, calibration, decision threshold and metrics (``meta``), saved as
plain JSON beside estimator files in pickle-free formats.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp

from askwell import __version__
from askwell.models.artifacts import (
    MODEL_JSON,
    ArtifactError,
    atomic_folder,
    verify_manifest,
    write_json,
)
from askwell.question import Question, as_questions

QuestionsLike = Iterable[Question | Mapping[str, Any]]

_EPS = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


@dataclass
class Calibration:
    """Platt scaling on the raw score's log-odds: ``p = sigmoid(a * logit(raw) + b)``.

    Two numbers, fit on a held-out calibration fold; JSON-safe and monotone, so it never
    changes a model's ranking (ROC AUC), only how far its numbers can be trusted.
    """

    a: float = 1.0
    b: float = 0.0
    method: str = "none"
    fitted_on: int = 0

    def apply(self, raw: np.ndarray) -> np.ndarray:
        if self.method == "none":
            return np.clip(np.asarray(raw, dtype=float), 0.0, 1.0)
        return sigmoid(self.a * logit(raw) + self.b)

    @classmethod
    def fit(cls, raw: np.ndarray, y: np.ndarray) -> Calibration:
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(y, dtype=int)
        if len(np.unique(y)) < 2:
            return cls(method="none", fitted_on=len(y))
        lr = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
        lr.fit(logit(raw).reshape(-1, 1), y)
        return cls(float(lr.coef_[0, 0]), float(lr.intercept_[0]), "platt", len(y))


def best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The threshold maximising Youden's J (TPR - FPR) on a held-out fold.

    A balanced default; ``askwell evaluate`` lets you pick one for a target precision.
    """
    from sklearn.metrics import roc_curve

    y = np.asarray(y, dtype=int)
    if len(np.unique(y)) < 2:
        return 0.5
    fpr, tpr, thr = roc_curve(y, p)
    best = int(np.argmax(tpr - fpr))
    return float(np.clip(thr[best], 0.0, 1.0))


@dataclass
class Explanation:
    """Per-question contributions to the raw log-odds, from the model itself.

    ``contributions[i, j]`` is how much input ``feature_names[j]`` moved question ``i``'s
    log-odds away from ``base_value[i]``; rows add up exactly to the raw log-odds. Dense
    for feature models, sparse (n-gram terms) for text models.
    """

    feature_names: list[str]
    contributions: np.ndarray | sp.csr_matrix
    base_value: np.ndarray
    values: np.ndarray | sp.csr_matrix | None = None

    def top(self, i: int, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` inputs that moved question ``i`` most, largest magnitude first."""
        row = self.contributions[i]
        if sp.issparse(row):
            row = row.tocoo()
            pairs = list(zip(row.col.tolist(), row.data.tolist(), strict=True))
        else:
            pairs = [(j, float(v)) for j, v in enumerate(np.asarray(row).ravel()) if v != 0]
        pairs.sort(key=lambda jv: (-abs(jv[1]), jv[0]))
        return [(self.feature_names[j], v) for j, v in pairs[:k]]


@runtime_checkable
class Model(Protocol):
    """What the rest of askwell may rely on."""

    family: ClassVar[str]
    meta: dict[str, Any]

    def fit(self, questions: QuestionsLike, y: Sequence[float]) -> Model: ...

    def predict_proba(self, questions: QuestionsLike) -> np.ndarray: ...

    def explain(self, questions: QuestionsLike) -> Explanation: ...

    def save(self, path: Path) -> Path: ...

    @property
    def card(self) -> dict[str, Any]: ...


@dataclass
class ModelMeta:
    """Plain-data facts about a trained model (saved as model.json)."""

    family: str
    params: dict[str, Any]
    label: str | None = None
    dataset_id: str | None = None
    feature_spec: list[str] = field(default_factory=list)
    threshold: float = 0.5
    calibration: dict[str, Any] = field(default_factory=lambda: asdict(Calibration()))
    metrics: dict[str, Any] = field(default_factory=dict)
    card: dict[str, Any] = field(default_factory=dict)
    trained_at: str = ""
    askwell_version: str = __version__
    seed: int = 42


class BaseModel(ABC):
    """Shared fit/calibrate/save/load logic; families fill in the ``_raw`` methods."""

    family: ClassVar[str] = "base"
    #: Estimator files this family writes (checked on load).
    estimator_files: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.meta: dict[str, Any] = asdict(ModelMeta(family=self.family, params=dict(params)))

    # --- the protocol ------------------------------------------------------
    def fit(
        self,
        questions: QuestionsLike,
        y: Sequence[float],
        *,
        calibration: tuple[QuestionsLike, Sequence[float]] | None = None,
    ) -> BaseModel:
        """Fit on ``questions``; calibrate and pick a threshold on the ``calibration`` fold."""
        qs = as_questions(questions)
        labels = np.asarray(y, dtype=int)
        if len(qs) != len(labels):
            raise ValueError(f"{len(qs)} questions but {len(labels)} labels")
        if len(np.unique(labels)) < 2:
            raise ValueError("training needs both classes (good and bad questions)")
        self._fit_raw(qs, labels)
        self.meta["trained_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
        self.meta["feature_spec"] = self.input_names()
        if calibration is not None:
            cq, cy = as_questions(calibration[0]), np.asarray(calibration[1], dtype=int)
            cal = Calibration.fit(self._raw_proba(cq), cy)
            self.meta["calibration"] = asdict(cal)
            self.meta["threshold"] = best_threshold(cy, cal.apply(self._raw_proba(cq)))
        return self

    def predict_proba(self, questions: QuestionsLike) -> np.ndarray:
        """Calibrated probability that each question is well received."""
        qs = as_questions(questions)
        if not qs:
            return np.zeros(0)
        return self.calibration.apply(self._raw_proba(qs))

    def predict(self, questions: QuestionsLike) -> np.ndarray:
        return (self.predict_proba(questions) >= self.threshold).astype(int)

    def explain(self, questions: QuestionsLike) -> Explanation:
        return self._explain(as_questions(questions))

    @property
    def calibration(self) -> Calibration:
        return Calibration(**self.meta["calibration"])

    @property
    def threshold(self) -> float:
        return float(self.meta["threshold"])

    @property
    def card(self) -> dict[str, Any]:
        return self.meta.get("card", {})

    def input_names(self) -> list[str]:
        """Names of the model's inputs (features, or a description of text inputs)."""
        return []

    # --- persistence -------------------------------------------------------
    def save(self, path: Path) -> Path:
        """Write the model folder atomically with its sha256 manifest."""
        path = Path(path)
        with atomic_folder(path) as tmp:
            write_json(tmp / MODEL_JSON, self.meta)
            if self.meta.get("card"):
                from askwell.registry.cards import render_card_markdown

                (tmp / "MODEL_CARD.md").write_text(render_card_markdown(self.meta["card"]))
            self._save_estimator(tmp)
        return path

    @classmethod
    def _from_meta(cls, meta: dict[str, Any], folder: Path) -> BaseModel:
        model = cls(**meta.get("params", {}))
        model.meta = meta
        model._load_estimator(folder)
        return model

    # --- for families ------------------------------------------------------
    @abstractmethod
    def _fit_raw(self, questions: list[Question], y: np.ndarray) -> None:
        """Learn from the questions (nothing for rule-based families)."""

    @abstractmethod
    def _raw_proba(self, questions: list[Question]) -> np.ndarray:
        """Uncalibrated probability of a good reception."""

    @abstractmethod
    def _explain(self, questions: list[Question]) -> Explanation:
        """Exact additive contributions to the raw log-odds."""

    def _save_estimator(self, folder: Path) -> None:  # noqa: B027 - optional hook
        """Families with learned state write it here (no pickle); rule-based ones need not."""

    def _load_estimator(self, folder: Path) -> None:  # noqa: B027 - optional hook
        """Families with learned state read it here."""


#: Family name -> "module:Class", imported only when used (no model code runs at import).
FAMILIES: dict[str, str] = {
    "heuristic": "askwell.models.heuristic:HeuristicModel",
    "linear": "askwell.models.linear:LinearModel",
    "features": "askwell.models.features_lgbm:FeaturesModel",
    "book-v1": "askwell.models.book_v1:BookV1Model",
}


def family_class(family: str) -> type[BaseModel]:
    import importlib

    from askwell.errors import AskwellError

    if family not in FAMILIES:
        raise AskwellError(f"unknown model {family!r}; choose one of: {', '.join(FAMILIES)}")
    module, name = FAMILIES[family].split(":")
    return getattr(importlib.import_module(module), name)


def make_model(family: str, **params: Any) -> BaseModel:
    return family_class(family)(**params)


def load_model(path: Path) -> BaseModel:
    """Verify the folder's manifest, then load the model it holds."""
    path = Path(path)
    verify_manifest(path)
    try:
        meta = json.loads((path / MODEL_JSON).read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: unreadable {MODEL_JSON} ({exc})") from exc
    family = meta.get("family")
    if family not in FAMILIES:
        raise ArtifactError(f"{path}: unknown model family {family!r}")
    try:
        return family_class(family)._from_meta(meta, path)
    except ArtifactError:
        raise
    except Exception as exc:
        raise ArtifactError(f"{path}: could not load the {family} model ({exc})") from exc


def finite_or_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
