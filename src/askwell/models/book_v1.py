"""``book-v1``: the book's first ML Editor model, re-created as a reference anchor.

From *Building Machine Learning Powered Applications*, chapter 5: tf-idf of the full text
(``min_df=5, max_df=0.5``, at most 10,000 terms, accents stripped) plus four simple
features (contains an action verb ("can", "What", "should"), contains "?", text length,
asks about language ("punctuate", "capitalize", "abbreviate")), a random forest of 100
trees with balanced class weights, trained on the ``book`` label with an author split.
Kept as it was described, not improved, so askwell's models are compared to it honestly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from askwell.models.artifacts import load_skops, save_skops
from askwell.models.base import BaseModel, Explanation, QuestionsLike, logit
from askwell.models.textinput import question_texts
from askwell.question import Question, as_questions

SIMPLE_FEATURES = ("action_verb_full", "question_mark_full", "text_len", "language_question")
_VEC, _RF = "vectorizer.skops", "forest.skops"


def simple_features(texts: list[str]) -> np.ndarray:
    """The book's four v1 features, computed as its ``add_v1_features`` did."""
    rows = [
        (
            float("can" in t or "What" in t or "should" in t),
            float("?" in t),
            float(len(t)),
            float("punctuate" in t or "capitalize" in t or "abbreviate" in t),
        )
        for t in texts
    ]
    return np.asarray(rows, dtype=float).reshape(len(texts), 4)


class BookV1Model(BaseModel):
    family = "book-v1"
    estimator_files = (_VEC, _RF)

    def __init__(self, n_estimators: int = 100, seed: int = 42, **extra: Any) -> None:
        super().__init__(n_estimators=n_estimators, seed=seed, **extra)
        self.vectorizer_: Any = None
        self.forest_: Any = None

    def _matrix(self, questions: list[Question]) -> sp.csr_matrix:
        texts = question_texts(questions)
        return sp.hstack(
            [self.vectorizer_.transform(texts), sp.csr_matrix(simple_features(texts))]
        ).tocsr()

    def _fit_raw(self, questions: list[Question], y: np.ndarray) -> None:
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer_ = TfidfVectorizer(
            strip_accents="ascii", min_df=5, max_df=0.5, max_features=10_000
        ).fit(question_texts(questions))
        self.forest_ = RandomForestClassifier(
            n_estimators=self.params["n_estimators"],
            class_weight="balanced",
            random_state=self.params["seed"],
            n_jobs=1,
        ).fit(self._matrix(questions), y)

    def raw_proba(self, questions: QuestionsLike) -> np.ndarray:
        return self.forest_.predict_proba(self._matrix(as_questions(questions)))[:, 1]

    def input_names(self) -> list[str]:
        return ["tfidf(min_df=5, max_df=0.5, 10k terms) of title + body text", *SIMPLE_FEATURES]

    def _names(self) -> list[str]:
        return [*map(str, self.vectorizer_.get_feature_names_out()), *SIMPLE_FEATURES]

    def _explain(self, questions: list[Question]) -> Explanation:
        # A forest has no exact additive contributions that are cheap; report impurity
        # importance x presence as a rough, clearly-labelled attribution.
        x = self._matrix(questions)
        weights = self.forest_.feature_importances_
        contrib = sp.csr_matrix((x != 0).multiply(weights))
        base = logit(np.full(len(questions), 0.5))
        return Explanation(self._names(), contrib, base, x)

    def _save_estimator(self, folder: Path) -> None:
        save_skops(self.vectorizer_, folder / _VEC)
        save_skops(self.forest_, folder / _RF)

    def _load_estimator(self, folder: Path) -> None:
        self.vectorizer_ = load_skops(folder / _VEC)
        self.forest_ = load_skops(folder / _RF)
