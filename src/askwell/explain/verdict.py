"""From a calibrated probability to what a writer reads: a verdict band and a confidence."""

from __future__ import annotations

from askwell.explain.schema import Verdict

#: Band edges on the calibrated probability of being well received, relative to the
#: model's decision threshold so every band exists whatever it is: "fine" from the
#: threshold, "strong" from halfway between it and 1 (0.75 at least); "at risk" below the
#: threshold, "likely_closed" below halfway between 0 and it (and never above 0.5: more
#: likely than not to be poorly received). On a label that is 93% good the threshold sits
#: near 0.92, and fixed edges at 0.75 and 0.25 left no room for "fine".
STRONG_AT_LEAST = 0.75
LIKELY_CLOSED_AT_MOST = 0.5


def strong_at(threshold: float) -> float:
    """Where "strong" starts for a model with this decision threshold."""
    return max(STRONG_AT_LEAST, (threshold + 1.0) / 2.0)


def likely_closed_below(threshold: float) -> float:
    """Where "likely_closed" ends for a model with this decision threshold."""
    return min(LIKELY_CLOSED_AT_MOST, threshold / 2.0)


def verdict(score: float, threshold: float) -> Verdict:
    if score >= strong_at(threshold):
        return "strong"
    if score >= threshold:
        return "fine"
    if score < likely_closed_below(threshold):
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


def percentile_phrase(percentile: float, where: str) -> str:
    """The site percentile as a writer reads it (``where``: "there", "on beer.stackexchange.com").

    At the ends a rounded share reads wrong ("better received than 0% of questions"), so
    below 1 it is the bottom 1% and from 99 the top 1%; the editor's ``app.js`` says the same.
    """
    p = max(0.0, min(100.0, float(percentile)))
    if p < 1:
        return f"in the bottom 1% of questions {where}"
    if p >= 99:
        return f"in the top 1% of questions {where}"
    return f"better received than {p:.0f}% of questions {where}"
