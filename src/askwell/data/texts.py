"""The text a text reader sees: the title and the body's plain text (code kept, markup
gone). One module for both shapes, a list of questions and a dataset frame."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from askwell.data.document import parse_body
from askwell.question import Question

if TYPE_CHECKING:
    import pandas as pd


def question_text(question: Question) -> str:
    return f"{question.title}\n{parse_body(question.body).text}"


def question_texts(questions: Sequence[Question]) -> list[str]:
    return [question_text(q) for q in questions]


def frame_texts(frame: pd.DataFrame) -> list[str]:
    """``title`` + body text of each row (body text derived from ``body_html`` if absent)."""
    n = len(frame)
    titles = frame["title"].fillna("").astype(str).tolist() if "title" in frame else [""] * n
    if "body_text" in frame:
        bodies = frame["body_text"].fillna("").astype(str).tolist()
    elif "body_html" in frame:
        from askwell.data.document import parse_html

        bodies = [parse_html(b or "").text for b in frame["body_html"].fillna("").astype(str)]
    else:
        bodies = [""] * n
    return [f"{t}\n{b}" for t, b in zip(titles, bodies, strict=True)]
