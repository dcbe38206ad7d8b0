"""Sentiment from VADER's lexicon and its main rules, over words we already have.

``vaderSentiment``'s ``polarity_scores`` costs about 340 µs on a typical question (125 µs
on its first 500 characters), which alone would take the whole feature budget. Most of
that is VADER re-tokenising and re-checking every word. Here the lexicon (shipped with
the package, loaded once on first use) is applied to the analysis' own lower-case word
list with VADER's main rules: booster and dampener words up to three words before, the
negation words up to three words before (scaled by -0.74), and the "but" rule (before
x0.5, after x1.5). Left out: ALL-CAPS emphasis, emoji, emoticons, idioms and
punctuation amplifiers. The compound score uses VADER's normalisation
``s / sqrt(s^2 + 15)``, so it lies in [-1, 1] like VADER's. Agreement with the real
VADER on the real dumps is printed by ``benchmarks/bench_features.py``.
"""

from __future__ import annotations

import math
from functools import lru_cache

_NEGATION_SCALAR = -0.74
_ALPHA = 15.0


@lru_cache(maxsize=1)
def _resources() -> tuple[dict[str, float], dict[str, float], frozenset[str]]:
    """(lexicon, boosters, negations), loaded from vaderSentiment on first use."""
    from vaderSentiment import vaderSentiment as vs

    lexicon = dict(vs.SentimentIntensityAnalyzer().lexicon)
    boosters = {k: float(v) for k, v in vs.BOOSTER_DICT.items() if " " not in k}
    negations = frozenset(vs.NEGATE)
    # Boosters and negations carry no valence of their own (as in VADER).
    return lexicon, boosters, negations


def warm_up() -> None:
    _resources()


def compound(words: list[str]) -> float:
    """VADER-style compound sentiment of lower-case words, in [-1, 1] (0.0 when neutral)."""
    lexicon, boosters, negations = _resources()
    total = 0.0
    but_at = -1
    scored: list[tuple[int, float]] = []
    for i, word in enumerate(words):
        if word == "but":
            if but_at < 0:
                but_at = i  # VADER applies the rule around the first "but"
            continue
        valence = lexicon.get(word)
        if valence is None or word in boosters:
            continue
        for back in (1, 2, 3):
            j = i - back
            if j < 0:
                break
            prev = words[j]
            boost = boosters.get(prev)
            if boost is not None and prev not in lexicon:
                scale = 1.0 if back == 1 else 0.95 if back == 2 else 0.9
                valence += (boost if valence > 0 else -boost) * scale
            if prev in negations or prev.endswith("n't"):
                valence *= _NEGATION_SCALAR
        scored.append((i, valence))
    if not scored:
        return 0.0
    for i, valence in scored:
        if but_at >= 0:
            valence *= 0.5 if i < but_at else 1.5
        total += valence
    return total / math.sqrt(total * total + _ALPHA)
