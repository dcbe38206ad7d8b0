"""The text a text model reads: title and the body's plain text (code kept, markup gone)."""

from __future__ import annotations

from askwell.data.document import parse_body
from askwell.question import Question


def question_text(question: Question) -> str:
    return f"{question.title}\n{parse_body(question.body).text}"


def question_texts(questions: list[Question]) -> list[str]:
    return [question_text(q) for q in questions]
