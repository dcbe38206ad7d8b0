"""From a calibrated probability to what a writer reads: a verdict band and a confidence."""

from __future__ import annotations

from askwell.explain.schema import Verdict

#: Band edges on the calibrated probability of being well received. "fine" starts at the
#: model's decision threshold; "strong" and "likely_closed" are the outer bands where the
#: calibrated probability itself is far from a coin flip.
STRONG_AT = 0.75
LIKELY_CLOSED_BELOW = 0.25


def verdict(score: float, threshold: float) -> Verdict:
    if score >= max(STRONG_AT, threshold):
        return "strong"
    if score >= threshold:
        return "fine"
    if score < min(LIKELY_CLOSED_BELOW, threshold):
        return "likely_closed"
    return "at_risk"


def confidence(score: float, threshold: float) -> float:
    """How sure the model is of its verdict, 0 (coin flip at the threshold) to 1.

    The distance from the threshold, scaled by the room on that side of it: a score of
    0.9 with a threshold of 0.5 is as confident as 0.1 is on the other side.
    """
    room = (1.0 - threshold) if score >= threshold else threshold
    if room <= 0:
        return 1.0
    return float(min(1.0, abs(score - threshold) / room))
