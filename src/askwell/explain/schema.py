"""The analysis a writer gets back: plain dataclasses shared by the CLI, API and batch.

No HTML here: the web editor renders these fields itself (escaping all user text).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from askwell.models.spec import ModelRef  # re-exported: it used to live here

Category = Literal["context", "expected_outcome", "formatting", "clarity", "tone"]
Severity = Literal["high", "medium", "low"]
Verdict = Literal["strong", "fine", "at_risk", "likely_closed"]
FieldName = Literal["title", "body", "tags"]


@dataclass(frozen=True)
class Suggestion:
    """One concrete edit, checked by re-scoring the edited question.

    ``start``/``length`` locate the text it is about in the ``field`` the user sent
    (character offsets, Python ``str`` indexing); ``replacement`` is set when the fix is
    mechanical and can be applied with one click. ``gain`` is the rise in score (a
    probability difference) measured by re-scoring the edited question.
    """

    id: str
    feature: str
    message: str
    category: Category
    severity: Severity
    gain: float
    mechanical: bool
    field: FieldName | None = None
    start: int | None = None
    length: int | None = None
    replacement: str | None = None
    detail: str | None = None


@dataclass
class Analysis:
    """Score, verdict, confidence, writing statistics and ranked suggestions."""

    score: float
    verdict: Verdict
    confidence: float
    threshold: float
    stats: dict[str, float]
    suggestions: list[Suggestion]
    model: ModelRef
    warnings: list[str] = field(default_factory=list)
    low_confidence: bool = False
    fallback: bool = False
    abstained: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
