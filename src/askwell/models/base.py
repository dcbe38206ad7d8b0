"""The ``Model`` protocol every family implements, and the shared machinery behind it.

Like scikit-learn's ``BaseEstimator``: ``__init__`` only stores parameters, ``fit`` does
the work, learned state ends in an underscore. The report, the service, batch scoring and
the recommendation engine talk only to this interface.

Every model carries what is needed to trust a prediction: its label spec, feature spec,
training dataset id, calibration, decision threshold and metrics (``meta``, a typed
:class:`ModelMeta`), saved as plain JSON beside estimator files in pickle-free formats.

Two protocols: :class:`Model` (score, raw score, explain, save) is what every family
implements; :class:`FeatureModel` adds the named feature matrix that the recommendation
engine and the evaluation report use for full suggestions and importance.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from askwell import __version__
from askwell.models.artifacts import (
    MODEL_JSON,
    ArtifactError,
    atomic_folder,
    verify_manifest,
    write_json,
)
from askwell.plain import finite_or_none  # noqa: F401 - re-exported (it used to live here)
from askwell.question import Question, as_questions

if TYPE_CHECKING:
    import scipy.sparse as sp

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
        if hasattr(row, "tocoo"):  # a SciPy sparse row (SciPy is not imported for dense models)
            row = row.tocoo()
            pairs = list(zip(row.col.tolist(), row.data.tolist(), strict=True))
        else:
            pairs = [(j, float(v)) for j, v in enumerate(np.asarray(row).ravel()) if v != 0]
        pairs.sort(key=lambda jv: (-abs(jv[1]), jv[0]))
        return [(self.feature_names[j], v) for j, v in pairs[:k]]


@dataclass
class ModelMeta(MutableMapping[str, Any]):
    """Plain-data facts about a trained model: what ``model.json`` holds, with real fields.

    The common facts are typed fields; what only one family learns (the ``features``
    model's ``reference`` and fault ``prior``, a site table, serving hints) lives in
    ``extra`` and is written at the top level of model.json beside them, so files written
    before this class had fields load unchanged. It is also a ``Mapping`` over all of
    them (``meta["card"]``, ``meta.get("reference")``) because that is how model.json is
    read by readers that only need one entry (``SiteTable.from_meta``, the safeguards).
    """

    family: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str | None = None
    dataset_id: str | None = None
    feature_spec: list[str] = field(default_factory=list)
    threshold: float = 0.5
    calibration: Calibration = field(default_factory=Calibration)
    metrics: dict[str, Any] = field(default_factory=dict)
    card: dict[str, Any] = field(default_factory=dict)
    trained_at: str = ""
    askwell_version: str = __version__
    seed: int = 42
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "extra")

    # --- model.json --------------------------------------------------------
    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> ModelMeta:
        """Read model.json's object: known keys to fields, the rest to ``extra``."""
        known = set(cls.field_names())
        values = {k: v for k, v in payload.items() if k in known}
        if "family" not in values:
            raise ArtifactError(f"{MODEL_JSON} names no model family")
        if isinstance(values.get("calibration"), Mapping):
            values["calibration"] = Calibration(**values["calibration"])
        extra = {k: v for k, v in payload.items() if k not in known}
        return cls(**values, extra=extra)

    def to_json(self) -> dict[str, Any]:
        """The object written to model.json (the same keys as before fields existed)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in self.field_names()}
        out["calibration"] = asdict(self.calibration)
        out.update(self.extra)
        return out

    # --- the Mapping view --------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        if key in self.field_names():
            return getattr(self, key)
        return self.extra[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key == "extra":
            raise KeyError("'extra' is not a model.json entry")
        if key == "calibration" and isinstance(value, Mapping):
            value = Calibration(**value)
        if key in self.field_names():
            setattr(self, key, value)
        else:
            self.extra[key] = value

    def __delitem__(self, key: str) -> None:
        if key in self.field_names():
            raise KeyError(f"{key!r} is a field of ModelMeta and cannot be removed")
        del self.extra[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.field_names()
        yield from self.extra

    def __len__(self) -> int:
        return len(self.field_names()) + len(self.extra)


@runtime_checkable
class Model(Protocol):
    """What the rest of askwell may rely on: every family implements this.

    Probabilities are of a good reception. ``raw_proba`` is the model's own score before
    calibration (ROC AUC and calibration diagnostics are computed on it); ``predict_proba``
    is ``calibrate(raw_proba(...), sites)``: the pooled calibration, then the per-site
    shift of the model's :class:`~askwell.models.sites.SiteTable` when it has one.
    ``meta`` is what model.json holds.
    """

    meta: ModelMeta

    @property
    def family(self) -> str:
        """The family name (``features``, ``linear``...): a class attribute of each family."""
        ...

    def fit(self, questions: QuestionsLike, y: Sequence[float], *,
            calibration: tuple[QuestionsLike, Sequence[float]] | None = None) -> Model: ...

    def predict_proba(self, questions: QuestionsLike) -> np.ndarray: ...

    def raw_proba(self, questions: QuestionsLike) -> np.ndarray: ...

    def calibrate(self, raw: np.ndarray, sites: Sequence[str | None] | None = None) -> np.ndarray: ...

    def explain(self, questions: QuestionsLike) -> Explanation: ...

    def input_names(self) -> list[str]: ...

    def get_params(self) -> dict[str, Any]: ...

    def save(self, path: Path) -> Path: ...

    @property
    def threshold(self) -> float: ...

    @property
    def calibration(self) -> Calibration: ...

    @property
    def card(self) -> dict[str, Any]: ...


@runtime_checkable
class FeatureModel(Model, Protocol):
    """A model on a named feature matrix: what full suggestions need.

    The recommendation engine re-scores candidate edits by changing rows of the matrix
    (no re-parse for edits that only move a feature), ranks features by
    ``contributions_from_matrix`` (additive log-odds that, with the base value, sum to the
    raw log-odds), and the evaluation report runs permutation importance and learning
    curves on the matrix. A family that implements this protocol (most simply by
    subclassing :class:`FeatureModelBase`) gets all of that; one that does not still gets
    a score and the mechanical suggestions, which edit the text and re-score it.
    """

    #: Column names of ``matrix``, in order (registry feature names).
    feature_names_: list[str]

    def matrix(self, questions: Sequence[Question]) -> np.ndarray: ...

    def raw_from_matrix(self, x: np.ndarray) -> np.ndarray: ...

    def proba_from_matrix(self, x: np.ndarray, sites: Sequence[str | None] | None = None) -> np.ndarray: ...

    def contributions_from_matrix(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class BaseModel(ABC):
    """Shared fit/calibrate/save/load logic; families implement ``_fit_raw``, ``raw_proba``
    and ``_explain``.

    scikit-learn's habits: ``__init__`` only stores its keyword parameters (as attributes,
    returned by :meth:`get_params`, so :func:`clone` can make an unfitted copy), ``fit``
    does the work, and learned state ends in an underscore (``booster_``, ``pipeline_``,
    ``feature_names_``) or sits in the typed :class:`ModelMeta` saved as model.json.
    """

    family: ClassVar[str] = "base"
    #: Estimator files this family writes (checked on load).
    estimator_files: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: Any) -> None:
        for name in params:
            if hasattr(type(self), name):
                raise ValueError(f"{type(self).__name__}: parameter {name!r} would hide an attribute")
        self._param_names = tuple(params)
        for name, value in params.items():
            setattr(self, name, value)
        self.meta = ModelMeta(family=self.family, params=dict(params))

    # --- parameters (scikit-learn style) -----------------------------------
    def get_params(self) -> dict[str, Any]:
        """The parameters ``__init__`` was given (current values), by name."""
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params: Any) -> BaseModel:
        unknown = sorted(set(params) - set(self._param_names))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no parameters {unknown}")
        for name, value in params.items():
            setattr(self, name, value)
        self.meta.params = self.get_params()
        return self

    @property
    def params(self) -> dict[str, Any]:
        """Read-only view of :meth:`get_params` (kept for older callers)."""
        return self.get_params()

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
        self.meta.extra.pop("sites", None)  # a refit learns its own site table
        self.meta.params = self.get_params()
        self.meta.trained_at = datetime.now().astimezone().isoformat(timespec="seconds")
        self.meta.feature_spec = self.input_names()
        if calibration is not None:
            cq, cy = as_questions(calibration[0]), np.asarray(calibration[1], dtype=int)
            cal = Calibration.fit(self.raw_proba(cq), cy)
            self.meta.calibration = cal
            self.meta.threshold = best_threshold(cy, cal.apply(self.raw_proba(cq)))
        self._learn_sites(qs, labels, calibration)
        return self

    def _learn_sites(self, qs: list[Question], y: np.ndarray,
                     calibration: tuple[QuestionsLike, Sequence[float]] | None) -> None:
        """Per-site base rates, calibration shifts and score quantiles (see
        :mod:`askwell.models.sites`), learned on every training question; nothing when the
        questions carry no site."""
        from askwell.models.sites import SiteTable

        cq = as_questions(calibration[0]) if calibration is not None else []
        cy = np.asarray(calibration[1], dtype=int) if calibration is not None else np.zeros(0, int)
        train = [*qs, *cq]
        if not any(q.site for q in train):
            return
        pooled = self.calibration.apply(self.raw_proba(train))
        rank = cq or qs
        table = SiteTable.learn([q.site for q in train], np.concatenate([y, cy]), pooled,
                                [q.site for q in rank], pooled[len(qs):] if cq else pooled)
        self.meta.extra["sites"] = table.to_json()

    @property
    def site_table(self) -> Any:
        """The model's :class:`~askwell.models.sites.SiteTable` (None before it had one);
        read from meta once per payload."""
        from askwell.models.sites import SiteTable

        payload = self.meta.extra.get("sites")
        cached = self.__dict__.get("_site_table_cache")
        if cached is None or cached[0] is not payload:
            cached = (payload, SiteTable.from_meta(self.meta) if payload else None)
            self.__dict__["_site_table_cache"] = cached
        return cached[1]

    def calibrate(self, raw: np.ndarray, sites: Sequence[str | None] | None = None) -> np.ndarray:
        """Probabilities from raw scores: the pooled calibration, then each site's shift
        (``sites`` None: pooled only, as for a question with no site context)."""
        p = self.calibration.apply(raw)
        table = self.site_table
        if table is None or sites is None:
            return p
        return np.asarray(table.adjust(sites, p), dtype=float)

    def predict_proba(self, questions: QuestionsLike) -> np.ndarray:
        """Calibrated probability that each question is well received."""
        qs = as_questions(questions)
        if not qs:
            return np.zeros(0)
        return self.calibrate(self.raw_proba(qs), [q.site for q in qs])

    def predict(self, questions: QuestionsLike) -> np.ndarray:
        return (self.predict_proba(questions) >= self.threshold).astype(int)

    def explain(self, questions: QuestionsLike) -> Explanation:
        return self._explain(as_questions(questions))

    @property
    def calibration(self) -> Calibration:
        return self.meta.calibration

    @property
    def threshold(self) -> float:
        return float(self.meta.threshold)

    @property
    def card(self) -> dict[str, Any]:
        return self.meta.card

    def input_names(self) -> list[str]:
        """Names of the model's inputs (features, or a description of text inputs)."""
        return []

    # --- persistence -------------------------------------------------------
    def save(self, path: Path) -> Path:
        """Write the model folder atomically with its sha256 manifest."""
        path = Path(path)
        with atomic_folder(path) as tmp:
            write_json(tmp / MODEL_JSON, self.meta.to_json())
            if self.meta.card:
                from askwell.registry.cards import render_card_markdown

                (tmp / "MODEL_CARD.md").write_text(render_card_markdown(self.meta.card))
            self._save_estimator(tmp)
        return path

    @classmethod
    def _from_meta(cls, meta: ModelMeta, folder: Path) -> BaseModel:
        model = cls(**meta.params)
        model.meta = meta
        model._load_estimator(folder)
        return model

    # --- for families ------------------------------------------------------
    @abstractmethod
    def _fit_raw(self, questions: list[Question], y: np.ndarray) -> None:
        """Learn from the questions (nothing for rule-based families)."""

    @abstractmethod
    def raw_proba(self, questions: QuestionsLike) -> np.ndarray:
        """Uncalibrated probability of a good reception."""

    @abstractmethod
    def _explain(self, questions: list[Question]) -> Explanation:
        """Exact additive contributions to the raw log-odds."""

    def _save_estimator(self, folder: Path) -> None:  # noqa: B027 - optional hook
        """Families with learned state write it here (no pickle); rule-based ones need not."""

    def _load_estimator(self, folder: Path) -> None:  # noqa: B027 - optional hook
        """Families with learned state read it here."""


class FeatureModelBase(BaseModel):
    """A :class:`FeatureModel` from three methods: ``matrix``, ``raw_from_matrix`` and
    ``contributions_from_matrix`` (plus ``_fit_raw`` setting ``feature_names_``).

    Scoring, calibration and explanations all go through the matrix, so the engine's
    re-scoring of an edited row and ``predict_proba`` of the edited question agree.
    """

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.feature_names_: list[str] = []

    @abstractmethod
    def matrix(self, questions: Sequence[Question]) -> np.ndarray:
        """The model's input matrix (columns in ``feature_names_`` order)."""

    @abstractmethod
    def raw_from_matrix(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated probability from a ready matrix."""

    @abstractmethod
    def contributions_from_matrix(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-row additive contributions (log-odds) and the base value per row."""

    def proba_from_matrix(self, x: np.ndarray, sites: Sequence[str | None] | None = None) -> np.ndarray:
        return self.calibrate(self.raw_from_matrix(x), sites)

    def predict_proba(self, questions: QuestionsLike) -> np.ndarray:
        qs = as_questions(questions)
        if not qs:
            return np.zeros(0)
        return self.proba_from_matrix(self.matrix(qs), [q.site for q in qs])

    def raw_proba(self, questions: QuestionsLike) -> np.ndarray:
        return self.raw_from_matrix(self.matrix(as_questions(questions)))

    def input_names(self) -> list[str]:
        return list(self.feature_names_)

    def _explain(self, questions: list[Question]) -> Explanation:
        x = self.matrix(questions)
        contrib, base = self.contributions_from_matrix(x)
        return Explanation(list(self.feature_names_), contrib, base, x)


#: Family name -> "module:Class", imported only when used (no model code runs at import).
FAMILIES: dict[str, str] = {
    "heuristic": "askwell.models.heuristic:HeuristicModel",
    "linear": "askwell.models.linear:LinearModel",
    "features": "askwell.models.features_lgbm:FeaturesModel",
    "book-v1": "askwell.models.book_v1:BookV1Model",
    "stacked": "askwell.models.stacked:StackedModel",
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


def clone(model: Model) -> BaseModel:
    """An unfitted model of the same family with the same parameters (like
    ``sklearn.base.clone``): what learning curves and cross-validation re-fit."""
    return make_model(model.family, **model.get_params())


def load_model(path: Path) -> BaseModel:
    """Verify the folder's manifest, then load the model it holds."""
    path = Path(path)
    verify_manifest(path)
    try:
        payload = json.loads((path / MODEL_JSON).read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: unreadable {MODEL_JSON} ({exc})") from exc
    family = payload.get("family") if isinstance(payload, dict) else None
    if family not in FAMILIES:
        raise ArtifactError(f"{path}: unknown model family {family!r}")
    try:
        meta = ModelMeta.from_json(payload)
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"{path}: malformed {MODEL_JSON} ({exc})") from exc
    try:
        return family_class(family)._from_meta(meta, path)
    except ArtifactError:
        raise
    except Exception as exc:
        raise ArtifactError(f"{path}: could not load the {family} model ({exc})") from exc

