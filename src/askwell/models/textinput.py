"""The text a text model reads (kept here for the models; the code is in
:mod:`askwell.data.texts`)."""

from askwell.data.texts import question_text, question_texts

__all__ = ["question_text", "question_texts"]
