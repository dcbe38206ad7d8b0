"""``heuristic``: the book's "be the algorithm" baseline — hand rules, no training.

Each rule is a piece of Stack Exchange folk wisdom about what gets a question answered,
worth a fixed number of *points* on the log-odds scale. The raw score is
``sigmoid(sum of points)``: 0.5 means "the rules see no evidence either way", each point
multiplies the odds of a good reception by e (2.7). The points were set by hand from the
community's own guidance (How to Ask), not fitted; a calibration fold may then map the
raw score to a probability like any other model's. It needs no artifact beyond JSON, so
it is also the service's fallback when a trained model can't be trusted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from askwell.models.base import BaseModel, Explanation, QuestionsLike, sigmoid
from askwell.models.faults import FAULT_PRIORS
from askwell.question import Question, as_questions


@dataclass(frozen=True)
class Rule:
    feature: str
    points: float
    when: Callable[[float], bool]
    why: str


#: What each fault is, as the heuristic explains it; its cost comes from the one table,
#: :data:`askwell.models.faults.FAULT_PRIORS` (the cost the ``features`` model starts from).
FAULT_WHY: dict[str, str] = {
    "error_outside_code": "error text pasted outside code",
    "code_outside_block": "code pasted outside a code block",
    "urgency": "urgency",
    "begging": "begging",
    "greetings": "greeting",
    "thanks": "thanks in advance",
    "not_working": "says only that it doesn't work",
    "exclamation_runs": "runs of !!! or ???",
    "all_caps_words": "shouting in capitals",
    "lowercase_starts": "sentences that start in lower case",
}


def _fault_rule(name: str) -> Rule:
    prior = FAULT_PRIORS[name]
    at, below = prior.threshold, prior.below

    def present(v: float) -> bool:
        return v < at if below else v >= at

    return Rule(name, prior.expert, present, FAULT_WHY[name])


RULES: tuple[Rule, ...] = (
    Rule("title_is_question", 0.5, lambda v: v >= 1, "the title asks a question"),
    Rule("tried", 0.4, lambda v: v >= 1, "says what was tried"),
    Rule("expected_actual", 0.3, lambda v: v >= 1, "says what was expected and what happened"),
    Rule("goal", 0.2, lambda v: v >= 1, "states the goal"),
    Rule("code_blocks", 0.2, lambda v: v >= 1, "shows code or data in a block"),
    # the title-not-a-question fault is the other side of title_is_question: not counted twice
    *(_fault_rule(name) for name in FAULT_WHY),
    Rule("body_words", -0.7, lambda v: v < 20, "a body too short to answer"),
    Rule("body_words", 0.3, lambda v: 50 <= v <= 400, "a body of a readable length"),
    Rule("body_words", -0.3, lambda v: v > 800, "a wall of text"),
    Rule("title_words", -0.3, lambda v: v < 4, "a title too short to say the problem"),
    Rule("tags", 0.2, lambda v: v >= 2, "two or more tags"),
)


class HeuristicModel(BaseModel):
    family = "heuristic"

    def __init__(self, seed: int = 42, **extra: object) -> None:
        super().__init__(seed=seed, **extra)
        self.feature_names_ = sorted({r.feature for r in RULES})

    def _points(self, questions: list[Question]) -> np.ndarray:
        from askwell.features import compute_features

        frame = compute_features(questions, names=self.feature_names_)
        points = np.zeros((len(questions), len(self.feature_names_)))
        index = {n: j for j, n in enumerate(self.feature_names_)}
        for rule in RULES:
            hit = frame[rule.feature].map(lambda v, r=rule: bool(r.when(float(v)))).to_numpy()
            points[:, index[rule.feature]] += np.where(hit, rule.points, 0.0)
        return points

    def _fit_raw(self, questions: list[Question], y: np.ndarray) -> None:
        """Nothing to learn: the rules are fixed."""

    def raw_proba(self, questions: QuestionsLike) -> np.ndarray:
        return sigmoid(self._points(as_questions(questions)).sum(axis=1))

    def input_names(self) -> list[str]:
        return list(self.feature_names_)

    def _explain(self, questions: list[Question]) -> Explanation:
        points = self._points(questions)
        return Explanation(list(self.feature_names_), points, np.zeros(len(questions)))
