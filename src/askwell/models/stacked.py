"""``stacked``: the text model's out-of-fold score as one more input of the feature model.

The tf-idf model reads what the features can't (the topic, the words a community
rewards); the feature model reads how the question is written and says which edit would
help. Stacking gives the trees the text model's log-odds as a column ``text_model``:

- the column is learned **out of fold** on the training side (k-fold, each fold's text
  model fit on the other folds), so the trees see text scores as noisy as they will be on
  new questions, not the training fit's over-confident ones;
- the text model used at serving time is then fit on the whole training side;
- the column is monotone (a higher text score never lowers the score), and LightGBM's
  TreeSHAP gives it one exact contribution beside each feature's, so suggestions keep
  exact contributions: the writer sees "the wording itself" as one term.

It is a :class:`~askwell.models.base.FeatureModel`: the recommendation engine re-scores
an edited question through :meth:`matrix`, which re-reads the edited text with the text
model, so a suggestion's gain includes what the edit does to the text score. The
registry features alone cannot be taken from the engine's analysis (``registry_matrix``
is False): the matrix needs the text too.

Saved as LightGBM's text format plus the text pipeline in skops (no pickle).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from askwell.models.artifacts import load_skops, save_skops
from askwell.models.base import logit
from askwell.models.features_lgbm import FeaturesModel
from askwell.models.textinput import question_texts
from askwell.question import Question

TEXT_COLUMN = "text_model"
_TEXT_FILE = "text_pipeline.skops"


class StackedModel(FeaturesModel):
    family = "stacked"
    estimator_files: ClassVar[tuple[str, ...]] = ("booster.txt", _TEXT_FILE)
    registry_matrix = False

    def __init__(
        self,
        text_C: float | Sequence[float] = (0.1, 0.25, 0.5, 1.0, 2.0),
        text_folds: int = 5,
        text_max_features: int = 50_000,
        **params: Any,
    ) -> None:
        """The text model's parameters; the trees' are :class:`FeaturesModel`'s."""
        grid = list(text_C) if isinstance(text_C, Sequence) else text_C  # JSON-safe in model.json
        super().__init__(text_C=grid, text_folds=text_folds, text_max_features=text_max_features,
                         **params)
        self.text_pipeline_: Any = None

    # -- the text model ---------------------------------------------------
    def _text_model(self, C: float) -> Any:
        from askwell.models.linear import LinearModel

        p = self.params
        return LinearModel(C=C, max_features=p["text_max_features"], seed=p["seed"])._build()

    def _out_of_fold(self, texts: list[str], y: np.ndarray) -> tuple[float, np.ndarray]:
        """The text model's regularisation chosen on the training side, and each training
        question's text log-odds from a text model that never saw it.

        Per fold the tf-idf vectorizers are fit once and a logistic regression per ``C``
        of ``text_C`` on them; the ``C`` with the best out-of-fold ROC AUC wins (measured
        on the book task: the text model alone overfits at the ``linear`` family's C=2).
        """
        from sklearn.base import clone as sk_clone
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold

        p = self.params
        grid = [float(c) for c in (p["text_C"] if isinstance(p["text_C"], list | tuple) else [p["text_C"]])]
        folds = StratifiedKFold(n_splits=int(p["text_folds"]), shuffle=True, random_state=p["seed"])
        oof = np.zeros((len(grid), len(texts)))
        for fit_idx, score_idx in folds.split(np.zeros(len(y)), y):
            pipeline = self._text_model(grid[0])
            union, clf = pipeline.named_steps["tfidf"], pipeline.named_steps["clf"]
            x_fit = union.fit_transform([texts[i] for i in fit_idx])
            x_score = union.transform([texts[i] for i in score_idx])
            for g, c in enumerate(grid):
                model = sk_clone(clf).set_params(C=c).fit(x_fit, y[fit_idx])
                oof[g, score_idx] = logit(model.predict_proba(x_score)[:, 1])
        best = int(np.argmax([roc_auc_score(y, row) for row in oof]))
        return grid[best], oof[best]

    def _text_logit(self, questions: Sequence[Question]) -> np.ndarray:
        if not questions:
            return np.zeros(0)
        return logit(self.text_pipeline_.predict_proba(question_texts(list(questions)))[:, 1])

    # -- FeatureModel -----------------------------------------------------
    def _fit_raw(self, questions: list[Question], y: np.ndarray) -> None:
        texts = question_texts(questions)
        chosen, oof = self._out_of_fold(texts, y)
        self.meta.extra["text_C_chosen"] = chosen
        self.text_pipeline_ = self._text_model(chosen).fit(texts, y)
        self._fit_trees(questions, y, extra={TEXT_COLUMN: oof})

    def matrix(self, questions: Sequence[Question]) -> np.ndarray:
        """The registry features, then the text model's log-odds (``text_model``)."""
        from askwell.features.registry import feature_array

        registry = [n for n in self.feature_names_ if n != TEXT_COLUMN]
        x = feature_array(questions, registry)
        if not len(x):
            return x.reshape(0, len(self.feature_names_))
        return np.column_stack([x, self._text_logit(questions)])

    def input_names(self) -> list[str]:
        return list(self.feature_names_)

    def _save_estimator(self, folder: Path) -> None:
        super()._save_estimator(folder)
        save_skops(self.text_pipeline_, folder / _TEXT_FILE)

    def _load_estimator(self, folder: Path) -> None:
        super()._load_estimator(folder)
        self.text_pipeline_ = load_skops(folder / _TEXT_FILE)


__all__ = ["TEXT_COLUMN", "StackedModel"]
