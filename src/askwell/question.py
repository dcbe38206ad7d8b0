"""The one input type everything scores: a question as a writer gives it."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class Question:
    """A question: title, body (HTML or Markdown), tags, optional site and author context.

    The author fields are known for dump rows (computed from what existed before the
    question was posted) and usually unknown (None) for a person typing into the editor.
    """

    title: str
    body: str
    tags: tuple[str, ...] = ()
    site: str | None = None
    author_prior_questions: int | None = None
    author_prior_answers: int | None = None
    author_account_age_days: float | None = None

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> Question:
        """Build from a dataset row (``body_html``) or a request dict (``body``)."""
        body = row.get("body")
        if body is None:
            body = row.get("body_html")
        tags = row.get("tags")
        return cls(
            title=str(row.get("title") or ""),
            body=str(body or ""),
            tags=tuple(str(t) for t in (tags if tags is not None else ())),
            site=row.get("site") or None,
            author_prior_questions=_opt_int(row.get("author_prior_questions")),
            author_prior_answers=_opt_int(row.get("author_prior_answers")),
            author_account_age_days=_opt_float(row.get("author_account_age_days")),
        )


def is_frame(obj: Any) -> TypeGuard[pd.DataFrame]:
    """Whether ``obj`` is a pandas DataFrame, without importing pandas (a process that has
    not imported it holds no frame): the CLI's cold start stays free of pandas."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(obj, pandas.DataFrame)


#: The most tags a question may carry (Stack Exchange allows 5; room for other sites).
MAX_TAGS = 10
MAX_TAG_CHARS = 64
#: What separates tags as people write them: commas, semicolons, spaces (a tag never holds
#: a space on Stack Exchange: they use hyphens), and the dumps' ``<a><b>`` / ``|a|b|``.
_TAG_SEPARATORS = re.compile(r"[\s,;<>|]+")


class TagError(ValueError):
    """Tags that cannot belong to one question (too many, or one too long)."""


def clean_tags(raw: str | Sequence[str] | None) -> tuple[str, ...]:
    """The one tag rule for the CLI, the API and batch: split, lower-case, capped.

    ``raw`` is one string (``"stout, bottling"``, ``"stout bottling"``, ``"<stout><bottling>"``)
    or a list of them (each split the same way). Raises :class:`TagError` past
    :data:`MAX_TAGS` tags or :data:`MAX_TAG_CHARS` characters in one tag.
    """
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else list(raw)
    tags = tuple(t for item in items for t in _TAG_SEPARATORS.split(str(item).lower()) if t)
    if len(tags) > MAX_TAGS:
        raise TagError(f"at most {MAX_TAGS} tags ({len(tags)} given)")
    if any(len(t) > MAX_TAG_CHARS for t in tags):
        raise TagError(f"a tag is at most {MAX_TAG_CHARS} characters")
    return tags


def questions_from_frame(frame: pd.DataFrame) -> list[Question]:
    """One :class:`Question` per dataset row."""
    return [Question.from_mapping(r) for r in frame.to_dict("records")]


def as_questions(items: Iterable[Question | Mapping[str, Any]] | pd.DataFrame) -> list[Question]:
    """Accept questions, dicts or a dataset frame, and return questions."""
    if is_frame(items):
        return questions_from_frame(items)
    return [q if isinstance(q, Question) else Question.from_mapping(q) for q in items]


def _opt_float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _opt_int(value: Any) -> int | None:
    out = _opt_float(value)
    return None if out is None else int(out)
