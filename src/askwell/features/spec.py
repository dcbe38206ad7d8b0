"""What a feature is: a name, how to show it, whether a writer can move it, how to compute it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from askwell.features.signals import TextAnalysis

Group = Literal["structure", "context", "readability", "tone", "vocabulary", "author"]
Kind = Literal["count", "ratio", "rate", "flag", "score"]

#: Feature groups, in registry order.
GROUPS: tuple[str, ...] = ("structure", "context", "readability", "tone", "vocabulary", "author")
#: - ``count``: a whole number of things (words, links, greetings); moves in steps of 1.
#: - ``ratio``: a share in [0, 1].
#: - ``rate``: occurrences per 1,000 characters of prose.
#: - ``flag``: 0.0 or 1.0.
#: - ``score``: a formula's value (reading ease, grade), see its range.
KINDS: tuple[str, ...] = ("count", "ratio", "rate", "flag", "score")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class FeatureSpec:
    """One feature of the registry.

    ``direction`` is the writer-facing prior: +1 when more of it makes a better question,
    -1 when less does, 0 when it depends (length) or when the writer can't act on it.
    The recommendation engine only proposes edits for ``actionable`` features and only in
    their ``direction`` (when non-zero). ``low``/``high`` document the range every value
    lies in; author features are NaN when the author is unknown (``missing_ok``).
    ``signal`` names the :class:`~askwell.features.signals.Signal` kind whose located text
    the feature counts, so a suggestion can point at it.
    """

    name: str
    display: str
    group: Group
    unit: str
    kind: Kind
    actionable: bool
    direction: int
    description: str
    compute: Callable[[TextAnalysis], float] = field(repr=False, compare=False)
    low: float = 0.0
    high: float = math.inf
    signal: str | None = None
    missing_ok: bool = False

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"feature name {self.name!r} must be snake_case")
        if self.group not in GROUPS:
            raise ValueError(f"feature {self.name!r}: group must be one of {GROUPS}")
        if self.kind not in KINDS:
            raise ValueError(f"feature {self.name!r}: kind must be one of {KINDS}")
        if self.direction not in (-1, 0, 1):
            raise ValueError(f"feature {self.name!r}: direction must be -1, 0 or +1")
        if not self.actionable and self.direction != 0:
            raise ValueError(f"feature {self.name!r}: a feature a writer can't act on has direction 0")
        if not self.low <= self.high:
            raise ValueError(f"feature {self.name!r}: low must not exceed high")
        if self.kind == "flag" and (self.low, self.high) != (0.0, 1.0):
            raise ValueError(f"feature {self.name!r}: a flag lies in [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metadata (everything but the function)."""
        return {
            "name": self.name,
            "display": self.display,
            "group": self.group,
            "unit": self.unit,
            "kind": self.kind,
            "actionable": self.actionable,
            "direction": self.direction,
            "description": self.description,
            "low": self.low,
            "high": None if math.isinf(self.high) else self.high,
            "signal": self.signal,
            "missing_ok": self.missing_ok,
        }


def feature(
    name: str,
    display: str,
    group: Group,
    description: str,
    compute: Callable[[TextAnalysis], float],
    *,
    kind: Kind = "count",
    unit: str = "",
    actionable: bool = True,
    direction: int = 0,
    low: float = 0.0,
    high: float | None = None,
    signal: str | None = None,
    missing_ok: bool = False,
) -> FeatureSpec:
    """Build a spec with the defaults each kind implies (ratios and flags lie in [0, 1])."""
    if high is None:
        high = 1.0 if kind in ("ratio", "flag") else 1000.0 if kind == "rate" else math.inf
    if not unit:
        unit = {"count": "count", "ratio": "share", "rate": "per 1,000 characters",
                "flag": "yes/no", "score": "score"}[kind]
    return FeatureSpec(
        name=name, display=display, group=group, unit=unit, kind=kind, actionable=actionable,
        direction=direction, description=description, compute=compute, low=low, high=high,
        signal=signal, missing_ok=missing_ok,
    )


def signal_count(kind: str) -> Callable[[TextAnalysis], float]:
    """A feature function counting the located signals of ``kind``."""

    def compute(a: TextAnalysis) -> float:
        return float(a.signal_counts[kind])

    compute.__name__ = f"signals_{kind}"
    return compute
