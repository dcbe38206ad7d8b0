"""Tone: greetings, thanks, urgency, begging, shouting and sentiment."""

from __future__ import annotations

from askwell.features.signals import TextAnalysis
from askwell.features.spec import FeatureSpec, feature


def _signals(kind: str):  # type: ignore[no-untyped-def]
    def compute(a: TextAnalysis) -> float:
        return float(a.signal_counts[kind])

    compute.__name__ = f"signals_{kind}"
    return compute


SPECS: tuple[FeatureSpec, ...] = (
    feature("sentiment", "Sentiment", "tone",
            "VADER-lexicon compound sentiment of the title and prose, -1 (negative) to +1 "
            "(positive); simplified rules, see askwell.features.sentiment.",
            lambda a: a.sentiment, kind="score", low=-1.0, high=1.0),
    feature("greetings", "Greetings", "tone", "\"Hi\", \"Hello\", \"Dear all\", \"Good morning\".",
            _signals("greeting"), direction=-1, unit="phrases", signal="greeting"),
    feature("thanks", "Thanks", "tone",
            "\"Thanks\", \"Thanks in advance\", \"Any help is appreciated\".",
            _signals("thanks"), direction=-1, unit="phrases", signal="thanks"),
    feature("urgency", "Urgency", "tone", "\"Urgent\", \"ASAP\", \"deadline\", \"in a hurry\".",
            _signals("urgency"), direction=-1, unit="phrases", signal="urgency"),
    feature("begging", "Begging", "tone",
            "\"Please help\", \"plz\", \"kindly\", \"someone help\", \"help me\", \"desperate\".",
            _signals("begging"), direction=-1, unit="phrases", signal="begging"),
    feature("exclamations", "Exclamation marks", "tone",
            "Exclamation marks in the title and prose.",
            lambda a: float(a.punctuation["!"]), direction=-1, unit="marks"),
    feature("exclamation_runs", "Runs of ! and ?", "tone",
            "Runs such as \"!!\", \"?!\" or \"???\".",
            _signals("exclamation_run"), direction=-1, unit="runs", signal="exclamation_run"),
    feature("all_caps_words", "Shouting in capitals", "tone",
            "Upper-case words that shout: runs of three or more, or emphasis words such as "
            "\"PLEASE\", \"NOT\", \"URGENT\" (acronyms like \"API\" alone do not count).",
            _signals("all_caps"), direction=-1, unit="words", signal="all_caps"),
    feature("lowercase_starts", "Sentences in lower case", "tone",
            "Sentences (and the title) that start with a lower-case letter, plus \"i\" written "
            "in lower case: text typed without care.",
            _signals("lowercase_start"), direction=-1, unit="places", signal="lowercase_start"),
)
