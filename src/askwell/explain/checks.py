"""Input checks before a question reaches the model (the book's chapter 10).

Each finding is a clear, specific message. Most keep the analysis running, flagged
low-confidence; only input that cannot be a question at all (nothing written, binary
data, far over any size limit) is declined. The CLI and the service share these checks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from askwell.features.signals import analyze_text
from askwell.question import Question

#: Stack Exchange's own limits: title 150 characters, body 30,000 characters.
MAX_TITLE_CHARS = 300
MAX_BODY_CHARS = 30_000
#: Beyond this, the input is declined rather than truncated.
HARD_LIMIT_CHARS = 1_000_000
MIN_WORDS = 5

_WORD = re.compile(r"[^\W\d_]+")
_SCRIPT = re.compile(r"<\s*(script|style|iframe|object)\b", re.I)


@dataclass
class CheckResult:
    """What the checks found and the question to analyse (possibly truncated)."""

    question: Question
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    code: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _junk_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(
        1 for ch in text
        if ch == "\ufffd" or (unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in "\n\r\t")
    )
    return bad / len(text)


def english_likelihood(text: str) -> tuple[float, float]:
    """(share of letters that are Latin, share of words that are English stop words)."""
    from askwell.features.lexicon import STOP_WORDS

    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(1 for ch in letters if ch.isascii() or "LATIN" in unicodedata.name(ch, ""))
    words = [w.lower() for w in _WORD.findall(text)]
    stops = sum(1 for w in words if w in STOP_WORDS)
    return (latin / len(letters) if letters else 1.0, stops / len(words) if words else 0.0)


def check_question(q: Question) -> CheckResult:
    """Run every input check; see the module docstring for what each outcome means."""
    title, body = q.title or "", q.body or ""
    total = len(title) + len(body)
    if total > HARD_LIMIT_CHARS:
        return CheckResult(q, error=f"The question is {total:,} characters; askwell reads at most "
                           f"{HARD_LIMIT_CHARS:,}. Paste one question at a time.", code="too_large")
    if not title.strip() and not body.strip():
        return CheckResult(q, error="The question is empty: write a title and a body.", code="empty")
    if _junk_share(title + body) > 0.05:
        return CheckResult(q, error="This looks like binary data, not text: paste the question as "
                           "plain text or Markdown.", code="binary")
    warnings: list[str] = []
    if len(body) > MAX_BODY_CHARS:
        warnings.append(f"The body is {len(body):,} characters; Stack Exchange allows {MAX_BODY_CHARS:,}. "
                        f"Only the first {MAX_BODY_CHARS:,} were analysed.")
        body = body[:MAX_BODY_CHARS]
    if len(title) > MAX_TITLE_CHARS:
        warnings.append(f"The title is {len(title):,} characters; a title should be one line "
                        "(Stack Exchange allows 150). Only the first 300 were analysed.")
        title = title[:MAX_TITLE_CHARS]
    if not title.strip():
        warnings.append("There is no title: a title that states the problem is what people see first.")
    if not body.strip():
        warnings.append("There is no body: say what you are trying to do, what you tried and what happened.")
    if _SCRIPT.search(body) or _SCRIPT.search(title):
        warnings.append("Scripts, styles and embedded objects are ignored; only the text was analysed.")
    # the same analysis the features use: its prose leaves out code, pasted code included
    analysis = analyze_text(Question(title, body)) if body.strip() else None
    body_prose = analysis.prose if analysis else ""
    prose = title + " " + body_prose
    words = _WORD.findall(prose)
    if analysis is not None and len(_WORD.findall(body_prose)) < 3 and (
        analysis.document.code_chars > 0 or analysis.pasted
    ):
        warnings.append("The body is only code: say in words what the code should do and what goes wrong.")
    if len(words) < MIN_WORDS:
        warnings.append(f"Only {len(words)} word(s) of text: too little for a reliable score.")
    latin, stops = english_likelihood(prose)
    if latin < 0.5 or (len(words) >= 8 and stops < 0.1):
        warnings.append("This does not look like English. askwell was trained on English questions, "
                        "so the score and suggestions are unreliable.")
    edited = replace(q, title=title, body=body)
    return CheckResult(edited, warnings)

