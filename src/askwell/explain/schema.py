"""The analysis a writer gets back: plain dataclasses shared by the CLI, API and batch.

No HTML here: the web editor renders these fields itself (escaping all user text).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from askwell.models.spec import ModelRef  # re-exported: it used to live here

Category = Literal["context", "expected_outcome", "formatting", "clarity", "tone"]
Severity = Literal["high", "medium", "low"]
Verdict = Literal["strong", "fine", "at_risk", "likely_closed", "not_ready"]
FieldName = Literal["title", "body", "tags"]
FilterOutcomeName = Literal["pass", "unsure", "reject"]
Action = Literal["decline", "not_ready", "abstain", "warn"]


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


@dataclass(frozen=True)
class FilterResult:
    """What the filter in front of the model decided ("is this a real, answerable question?").

    ``model`` is ``"rules"`` when one of Stack Exchange's own posting rules decided (an
    empty body, a title under 15 characters, ...; ``p_question`` is then 0), else the
    filtering model's name and version.
    """

    outcome: FilterOutcomeName
    p_question: float
    reason: str | None = None
    message: str | None = None
    advice: str | None = None
    model: str = "rules"


@dataclass(frozen=True)
class SiteInfo:
    """The site a score is relative to, as the model knows it from its training data."""

    name: str | None
    known: bool
    kind: str | None
    base_rate: float | None
    questions: int = 0


@dataclass(frozen=True)
class Notice:
    """One input-check finding as the writer sees it; ``action`` is what it led to."""

    code: str
    action: Action
    message: str
    advice: str | None = None


@dataclass
class Analysis:
    """Score, verdict, confidence, writing statistics and ranked suggestions.

    ``score`` is the calibrated probability of a good reception (``None`` when the verdict
    is ``not_ready``: the filter found no question to score, ``filter`` says why);
    ``site.base_rate`` is that probability for an average question of the site and
    ``percentile`` the share of the site's questions the model was not fit on that scored lower.
    ``confidence`` is how far the score is from the model's decision threshold, relative
    to the room on that side of it (0 = at the threshold, 1 = at 0 or 1).
    """

    score: float | None
    verdict: Verdict
    confidence: float | None
    threshold: float
    stats: dict[str, float]
    suggestions: list[Suggestion]
    model: ModelRef
    warnings: list[str] = field(default_factory=list)
    low_confidence: bool = False
    fallback: bool = False
    abstained: bool = False
    site: SiteInfo | None = None
    percentile: float | None = None
    filter: FilterResult | None = None
    findings: list[Notice] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
