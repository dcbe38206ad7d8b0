"""``linear``: tf-idf over word and character n-grams + logistic regression.

The simplest learned model worth having: fast, strong on text, and exactly explainable
(a term's contribution is its tf-idf weight times its coefficient). The vectorizers are
fit on the training split only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from askwell.models.artifacts import load_skops, save_skops
from askwell.models.base import BaseModel, Explanation, QuestionsLike, sigmoid
from askwell.models.textinput import question_texts
from askwell.question import Question, as_questions

_FILE = "pipeline.skops"


class LinearModel(BaseModel):
    family = "linear"
    estimator_files = (_FILE,)

    def __init__(
        self,
        C: float = 2.0,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (3, 5),
        max_features: int = 50_000,
        min_df: int = 2,
        seed: int = 42,
        **extra: Any,
    ) -> None:
        super().__init__(
            C=C,
            word_ngrams=list(word_ngrams),
            char_ngrams=list(char_ngrams),
            max_features=max_features,
            min_df=min_df,
            seed=seed,
            **extra,
        )
        self.pipeline_: Any = None

    def _build(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline

        p = self.params
        union = FeatureUnion(
            [
                (
                    "word",
                    TfidfVectorizer(
                        ngram_range=tuple(p["word_ngrams"]),
                        min_df=p["min_df"],
                        max_features=p["max_features"],
                        sublinear_tf=True,
                        lowercase=True,
                        dtype=np.float64,
                    ),
                ),
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=tuple(p["char_ngrams"]),
                        min_df=p["min_df"],
                        max_features=p["max_features"],
                        sublinear_tf=True,
                        dtype=np.float64,
                    ),
                ),
            ]
        )
        clf = LogisticRegression(
            C=p["C"], solver="liblinear", max_iter=2000, random_state=p["seed"]
        )
        return Pipeline([("tfidf", union), ("clf", clf)])

    def _fit_raw(self, questions: list[Question], y: np.ndarray) -> None:
        self.pipeline_ = self._build().fit(question_texts(questions), y)

    def raw_proba(self, questions: QuestionsLike) -> np.ndarray:
        return self.pipeline_.predict_proba(question_texts(as_questions(questions)))[:, 1]

    def input_names(self) -> list[str]:
        return ["tfidf(word 1-2 grams + char 3-5 grams) of title + body text"]

    def _explain(self, questions: list[Question]) -> Explanation:
        union, clf = self.pipeline_.named_steps["tfidf"], self.pipeline_.named_steps["clf"]
        x = sp.csr_matrix(union.transform(question_texts(questions)))
        contrib = sp.csr_matrix(x.multiply(clf.coef_[0]))
        names = [str(n) for n in union.get_feature_names_out()]
        base = np.full(len(questions), float(clf.intercept_[0]))
        return Explanation(names, contrib, base, x)

    def _save_estimator(self, folder: Path) -> None:
        save_skops(self.pipeline_, folder / _FILE)

    def _load_estimator(self, folder: Path) -> None:
        self.pipeline_ = load_skops(folder / _FILE)


__all__ = ["LinearModel", "sigmoid"]
