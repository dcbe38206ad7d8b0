"""Structure: how long the title and body are and what they contain (code, links, lists)."""

from __future__ import annotations

from collections.abc import Callable

from askwell.features.lexicon import word_set
from askwell.features.signals import LETTER, TextAnalysis
from askwell.features.spec import FeatureSpec, feature

#: A title that opens with one of these is phrased as a question.
QUESTION_OPENERS = word_set("""
    how what why when where which who whom whose whether is are am was were can could
    should would will shall may might must do does did has have had isn't aren't can't
    doesn't don't didn't won't wouldn't shouldn't
    """)


def title_is_question(a: TextAnalysis) -> float:
    """Title ends in (or contains) "?" or opens with a wh-word or an auxiliary verb."""
    if "?" in a.title:
        return 1.0
    return float(bool(a.title_words) and a.title_words[0] in QUESTION_OPENERS)


def _span_count(kind: str) -> Callable[[TextAnalysis], float]:
    def compute(a: TextAnalysis) -> float:
        return float(a.span_counts[kind])

    compute.__name__ = f"count_{kind}"
    return compute


def code_share(a: TextAnalysis) -> float:
    return a.document.code_chars / len(a.body) if a.body else 0.0


def paragraphs(a: TextAnalysis) -> float:
    """Blocks of prose: paragraphs, list items and headings with at least one word."""
    return float(sum(1 for line in a.prose.split("\n") if LETTER.search(line)))


SPECS: tuple[FeatureSpec, ...] = (
    feature("title_chars", "Title length", "structure",
            "Characters in the title (white space at the ends ignored).",
            lambda a: float(len(a.title.strip())), unit="characters"),
    feature("title_words", "Title words", "structure", "Words in the title.",
            lambda a: float(len(a.title_words)), unit="words"),
    feature("title_is_question", "Title asks a question", "structure",
            "The title contains '?' or opens with a question word (how, what, why, ...) or "
            "an auxiliary verb (is, can, does, ...).",
            title_is_question, kind="flag", direction=1),
    feature("title_question_mark", "Title has a question mark", "structure",
            "The title contains '?'.", lambda a: float("?" in a.title), kind="flag", direction=1),
    feature("body_chars", "Body length", "structure",
            "Characters of the body's plain text, code included (the book's text length).",
            lambda a: float(len(a.body)), unit="characters"),
    feature("body_words", "Body words", "structure",
            "Words in the body's prose (code and numbers are not words).",
            lambda a: float(len(a.body_words)), unit="words"),
    feature("body_sentences", "Body sentences", "structure",
            "Sentences in the body's prose (a list item or heading counts as one).",
            lambda a: float(len(a.body_sentences)), unit="sentences"),
    feature("paragraphs", "Paragraphs", "structure",
            "Blocks of prose in the body: paragraphs, list items and headings.",
            paragraphs, unit="blocks"),
    feature("code_blocks", "Code blocks", "structure",
            "Code blocks (<pre>, fenced or indented Markdown code).",
            _span_count("code_block"), direction=1, unit="blocks"),
    feature("inline_code", "Inline code", "structure",
            "Inline code spans (`name`): identifiers, commands, file names.",
            _span_count("inline_code"), direction=1, unit="spans"),
    feature("code_share", "Share of code", "structure",
            "Share of the body's characters that are code (blocks or inline).",
            code_share, kind="ratio"),
    feature("links", "Links", "structure", "Links in the body (documentation, sources, research).",
            _span_count("link"), direction=1, unit="links"),
    feature("images", "Images", "structure", "Images in the body.",
            _span_count("image"), direction=1, unit="images"),
    feature("lists", "Lists", "structure", "Bulleted or numbered lists in the body.",
            _span_count("list"), direction=1, unit="lists"),
    feature("headings", "Headings", "structure", "Headings in the body.",
            _span_count("heading"), unit="headings"),
    feature("blockquotes", "Quotes", "structure", "Quoted blocks (sources, error output, specs).",
            _span_count("blockquote"), direction=1, unit="quotes"),
    feature("tags", "Tags", "structure", "Number of tags.",
            lambda a: float(len(a.question.tags)), unit="tags"),
    feature("question_marks", "Question marks", "structure",
            "Question marks in the body's prose (the book's question-mark feature).",
            lambda a: float(a.prose.count("?")), unit="marks"),
)
