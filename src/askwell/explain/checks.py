"""Input checks before a question reaches the model (the book's chapter 10), in one pass.

:func:`check_question` reads the question once: it truncates what is over Stack
Exchange's limits, builds the one :class:`~askwell.features.TextAnalysis` that the
features, the filtering model and the recommendation engine then reuse, and returns
*findings*: a code, a message for the writer and, where there is one, what to do.

What a finding leads to is not decided here but in one table, :data:`POLICY`, read by the
analysis pipeline (:mod:`askwell.explain.pipeline`) for the CLI, the service and batch
scoring alike:

==================  ===================================================================
action              meaning
==================  ===================================================================
``decline``         the input can't be analysed at all (binary data, far over any size
                    limit): an error (HTTP 413/422), nothing is scored
``not_ready``       the input is not yet a question the site would take (empty, a title
                    under 15 characters, no body, no words, one word repeated, not
                    English): no score, the reason and what to do instead
``abstain``         scored, but no verdict to act on (far from the training data)
``warn``            scored, with a warning and ``low_confidence``
==================  ===================================================================

The ``not_ready`` rules are Stack Exchange's own posting rules (a title of at least 15
characters, a body of at least 30), which no question in the shared dumps breaks: a
question the site would refuse is not one the model has ever seen, so it gets no score.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from askwell.features.signals import TextAnalysis, analyze_text
from askwell.question import Question

Action = Literal["decline", "not_ready", "abstain", "warn"]

#: Stack Exchange's limits: title 150 characters (300 kept), body 30,000 characters.
MAX_TITLE_CHARS = 300
MAX_BODY_CHARS = 30_000
#: Beyond this, the input is declined rather than truncated.
HARD_LIMIT_CHARS = 1_000_000
#: Stack Exchange refuses a title under 15 characters or a body under 30.
MIN_TITLE_CHARS = 15
MIN_BODY_CHARS = 30
MIN_WORDS = 5
#: Not English: under half the letters Latin, or at least this many words of prose of
#: which under :data:`MIN_STOP_SHARE` are English stop words (English prose has ~40%).
ENGLISH_MIN_WORDS = 12
MIN_STOP_SHARE = 0.08
#: Repetition: at least this many words of which under this share are distinct (real
#: questions in the dumps: the lowest share is far above it).
REPETITIVE_MIN_WORDS = 40
REPETITIVE_SHARE = 0.02
#: A "word" this long is not a word (30,000 letters of one character). The longest in the
#: 12,040 questions of the shared dumps is 102 letters (an IOTA seed), then DNA at 50.
MAX_WORD_LETTERS = 200
#: A body of prose with this many words and not one of the small words sentences are made
#: of (the, is, my...) is a list of keys or keyboard mash, not sentences: 4 of the 12,040
#: questions of the dumps (3 of them French, which is not English anyway).
NO_SENTENCE_MIN_WORDS = 8

#: What each finding's code leads to (the one place this is decided).
POLICY: Mapping[str, Action] = {
    "too_large": "decline",
    "binary": "decline",
    "empty": "not_ready",
    "not_text": "not_ready",
    "no_title": "not_ready",
    "title_too_short": "not_ready",
    "no_body": "not_ready",
    "body_too_short": "not_ready",
    "not_english": "not_ready",
    "repetitive": "not_ready",
    "no_sentences": "not_ready",
    "filter_reject": "not_ready",
    "out_of_distribution": "abstain",
    "low_confidence": "abstain",
    "filter_unsure": "warn",
    "truncated": "warn",
    "too_short": "warn",
    "scripts_ignored": "warn",
    "only_code": "warn",
}
#: Which action wins when several findings apply.
_RANK: dict[Action, int] = {"decline": 3, "not_ready": 2, "abstain": 1, "warn": 0}

_WORD = re.compile(r"[^\W\d_]+")
_SCRIPT = re.compile(r"<\s*(script|style|iframe|object)\b", re.I)


@dataclass(frozen=True)
class Finding:
    """One thing the checks found. ``code`` is stable (see :data:`POLICY`); ``message`` says
    what is wrong in plain words and ``advice`` what to do about it."""

    code: str
    message: str
    advice: str | None = None

    @property
    def action(self) -> Action:
        return POLICY.get(self.code, "warn")


@dataclass
class CheckedInput:
    """The question the model will see (possibly truncated), its one text analysis, and
    what the checks found, most serious first."""

    question: Question
    text: TextAnalysis | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def action(self) -> Action | None:
        """The most serious action any finding asks for (None: nothing found)."""
        return max((f.action for f in self.findings), key=_RANK.__getitem__, default=None)

    def first(self, action: Action) -> Finding | None:
        return next((f for f in self.findings if f.action == action), None)

    @property
    def warnings(self) -> list[str]:
        """The messages of the findings that let the model run (shown with the score)."""
        return [f.message for f in self.findings if f.action in ("warn", "abstain")]

    @property
    def ok(self) -> bool:
        """False when the input is declined or not ready (nothing to score)."""
        return self.action not in ("decline", "not_ready")

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]


def _junk_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(
        1 for ch in text
        if ch == "\ufffd" or (unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in "\n\r\t")
    )
    return bad / len(text)


def _letters_share(text: str) -> float:
    if not text:
        return 1.0
    return sum(1 for ch in text if ch.isalpha() or ch.isspace()) / len(text)


def english_likelihood(text: str) -> tuple[float, float]:
    """(share of letters that are Latin, share of words that are English stop words)."""
    from askwell.features.lexicon import STOP_WORDS

    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(1 for ch in letters if ch.isascii() or "LATIN" in unicodedata.name(ch, ""))
    words = [w.lower() for w in _WORD.findall(text)]
    stops = sum(1 for w in words if w in STOP_WORDS)
    return (latin / len(letters) if letters else 1.0, stops / len(words) if words else 0.0)


def _stop_words() -> frozenset[str]:
    from askwell.features.lexicon import STOP_WORDS

    return frozenset(STOP_WORDS)


def _declined(q: Question) -> Finding | None:
    title, body = q.title or "", q.body or ""
    total = len(title) + len(body)
    if total > HARD_LIMIT_CHARS:
        return Finding("too_large", f"The question is {total:,} characters; askwell reads at most "
                       f"{HARD_LIMIT_CHARS:,}.", "Paste one question at a time.")
    if _junk_share(title + body) > 0.05:
        return Finding("binary", "This looks like binary data, not text.",
                       "Paste the question as plain text or Markdown.")
    return None


def _truncate(q: Question) -> tuple[Question, list[Finding]]:
    out: list[Finding] = []
    title, body = q.title or "", q.body or ""
    if len(body) > MAX_BODY_CHARS:
        out.append(Finding("truncated", f"The body is {len(body):,} characters; Stack Exchange allows "
                           f"{MAX_BODY_CHARS:,}. Only the first {MAX_BODY_CHARS:,} were analysed.",
                           "Cut the body to what someone needs to answer it."))
        body = body[:MAX_BODY_CHARS]
    if len(title) > MAX_TITLE_CHARS:
        out.append(Finding("truncated", f"The title is {len(title):,} characters; a title should be "
                           f"one line (Stack Exchange allows 150). Only the first {MAX_TITLE_CHARS} "
                           "were analysed.", "State the problem in one line."))
        title = title[:MAX_TITLE_CHARS]
    if title == q.title and body == q.body:
        return q, out
    return dataclasses.replace(q, title=title, body=body), out


def _not_ready(q: Question, text: TextAnalysis | None) -> list[Finding]:
    """What Stack Exchange itself would refuse: nothing to score yet."""
    title, body = q.title.strip(), q.body.strip()
    if not title and not body:
        return [Finding("empty", "The question is empty.",
                        "Write a title that states the problem and a body that explains it.")]
    everything = q.title + "\n" + q.body
    if not any(ch.isalpha() for ch in everything):
        return [Finding("not_text", "There are no words to analyse.",
                        "Write the question in sentences: a title that states the problem, a body "
                        "that explains it.")]
    if len(everything) >= 40 and _letters_share(everything) < 0.25:
        return [Finding("not_text", "This is mostly symbols, not text.",
                        "Paste the question as plain text or Markdown, with any data or code in "
                        "a code block.")]
    out: list[Finding] = []
    if not title:
        out.append(Finding("no_title", "There is no title.",
                           "Add a title that states the problem: it is what people see first."))
    elif len(title) < MIN_TITLE_CHARS:
        out.append(Finding("title_too_short", f"The title is {len(title)} character(s); Stack Exchange "
                           f"asks for at least {MIN_TITLE_CHARS}.",
                           "Make the title a specific question, e.g. \"Why does my beer go flat "
                           "after bottling?\""))
    body_chars = len(text.body.strip()) if text is not None else 0
    if body and not any(ch.isalpha() for ch in body):
        return [*out, Finding("not_text", "The body has no words, only symbols.",
                              "Say in sentences what you are trying to do, what you tried and "
                              "what happened.")]
    if not body:
        out.append(Finding("no_body", "There is no body.",
                           "Add a body that says what you are trying to do, what you tried and what "
                           "happened."))
    elif body_chars < MIN_BODY_CHARS:
        out.append(Finding("body_too_short", f"The body is {body_chars} character(s) of text; Stack "
                           f"Exchange asks for at least {MIN_BODY_CHARS}.",
                           "Say what you are trying to do, what you tried and what happened."))
    return out


def _text_findings(q: Question, text: TextAnalysis | None) -> list[Finding]:
    out: list[Finding] = []
    if _SCRIPT.search(q.body) or _SCRIPT.search(q.title):
        out.append(Finding("scripts_ignored", "Scripts, styles and embedded objects are ignored; only "
                           "the text was analysed."))
    body_prose = text.prose if text is not None else ""
    prose = q.title + " " + body_prose
    words = _WORD.findall(prose)
    if len(words) >= REPETITIVE_MIN_WORDS and len({w.lower() for w in words}) < len(words) * REPETITIVE_SHARE:
        out.append(Finding("repetitive", "The text repeats the same few words over and over.",
                           "Write the question in your own sentences: what you are trying to do, "
                           "what you tried and what happened."))
        return out
    longest = max(words, key=len, default="")
    if len(longest) > MAX_WORD_LETTERS:
        out.append(Finding("not_text", f"This holds a 'word' of {len(longest):,} letters: that is not "
                           "text.", "Write the question in sentences, with any data or code in a "
                           "code block."))
        return out
    latin, stops = english_likelihood(prose)
    if latin < 0.5 or (len(words) >= ENGLISH_MIN_WORDS and stops < MIN_STOP_SHARE):
        out.append(Finding("not_english", "This does not look like English, and askwell was trained "
                           "on English questions only, so it has no score for it.",
                           "Write the question in English, or ask it on a site in your language."))
        return out
    body_words = [w.lower() for w in _WORD.findall(body_prose)]
    if len(body_words) >= NO_SENTENCE_MIN_WORDS and not any(w in _stop_words() for w in body_words):
        out.append(Finding("no_sentences", f"The body's {len(body_words)} words make no sentence (not one "
                           "of the small words sentences are made of).",
                           "Write the body in sentences: what you are trying to do, what you "
                           "tried and what happened."))
        return out
    if text is not None and len(_WORD.findall(body_prose)) < 3 and (
        text.document.code_chars > 0 or text.pasted
    ):
        out.append(Finding("only_code", "The body is only code.",
                           "Say in words what the code should do and what goes wrong."))
    if len(words) < MIN_WORDS:
        out.append(Finding("too_short", f"Only {len(words)} word(s) of text: too little for a "
                           "reliable score.", "Say what you are trying to do and what happened."))
    return out


def check_question(q: Question) -> CheckedInput:
    """Every input check, on one analysis of the text; see the module docstring."""
    declined = _declined(q)
    if declined is not None:
        return CheckedInput(q, None, [declined])
    q, findings = _truncate(q)
    text = analyze_text(q) if q.body.strip() or q.title.strip() else None
    not_ready = _not_ready(q, text)
    if any(f.code in ("empty", "not_text") for f in not_ready):
        return CheckedInput(q, text, not_ready + findings)
    return CheckedInput(q, text, [*not_ready, *_text_findings(q, text), *findings])


# ---------------------------------------------------------------------- outliers
#: A feature is "far out" when it lies beyond its training 1-99 % range by more than
#: that range's width.
FAR_OUT = 1.0


@dataclass(frozen=True)
class OutlierReference:
    """Per-feature training ranges (1st/99th percentile) kept with the model.

    ``score(x)`` is the share of features that lie further outside their range than the
    range is wide: about 0 for questions like the training ones, larger the stranger the
    input. Cheap (one vectorised comparison) and plain JSON, so no extra artifact. Features
    a writer can't change (author history, site) are left out: an editor user has none.
    """

    names: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray
    width: np.ndarray

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any] | None) -> OutlierReference | None:
        from askwell.features import feature_names

        # what the writer wrote, not who they are or where (the registry's non-actionable ones)
        not_text = set(feature_names(actionable=False, include_optional=True))
        quantiles = ((meta or {}).get("reference") or {}).get("quantiles") or {}
        rows = [(n, q) for n, q in sorted(quantiles.items())
                if n not in not_text and q and len(q) == 3
                and q[0] is not None and q[2] is not None]
        if not rows:
            return None
        lo = np.array([float(q[0]) for _, q in rows])
        hi = np.array([float(q[2]) for _, q in rows])
        # a feature that is constant on 98 % of training rows (e.g. 0 capital words) gets a
        # width of max(|value|, 1): one occurrence is not "far", ten are
        width = np.where(hi > lo, hi - lo, np.maximum(np.abs(hi), 1.0))
        return cls(tuple(n for n, _ in rows), lo, hi, width)

    def distances(self, values: Mapping[str, float]) -> np.ndarray:
        x = np.array([float(values.get(n, math.nan)) for n in self.names])
        out = np.maximum(np.maximum(self.lo - x, x - self.hi), 0.0) / self.width
        return np.where(np.isfinite(out), out, 0.0)

    def score(self, values: Mapping[str, float]) -> tuple[float, list[str]]:
        """(share of features far out, the names of the furthest ones, furthest first)."""
        d = self.distances(values)
        far = np.flatnonzero(d > FAR_OUT)
        worst = sorted(far.tolist(), key=lambda j: (-d[j], self.names[j]))[:3]
        return float(len(far) / len(self.names)), [self.names[j] for j in worst]

    def finding(self, values: Mapping[str, float], threshold: float) -> Finding | None:
        """An ``out_of_distribution`` finding when the share far out is over ``threshold``."""
        score, worst = self.score(values)
        if score <= threshold:
            return None
        detail = "unusual " + ", ".join(w.replace("_", " ") for w in worst)
        return Finding("out_of_distribution", f"This question is unlike the questions the model "
                       f"learned from ({detail}), so it gives no verdict; only sure-fire fixes are "
                       "shown.")
