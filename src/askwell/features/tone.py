"""Tone: greetings, thanks, urgency, begging and shouting."""

from __future__ import annotations

from askwell.features.spec import FeatureSpec, feature, signal_count

SPECS: tuple[FeatureSpec, ...] = (
    feature("greetings", "Greetings", "tone", "\"Hi\", \"Hello\", \"Dear all\", \"Good morning\".",
            signal_count("greeting"), direction=-1, unit="phrases", signal="greeting"),
    feature("thanks", "Thanks", "tone",
            "\"Thanks\", \"Thanks in advance\", \"Any help is appreciated\".",
            signal_count("thanks"), direction=-1, unit="phrases", signal="thanks"),
    feature("urgency", "Urgency", "tone", "\"Urgent\", \"ASAP\", \"deadline\", \"in a hurry\".",
            signal_count("urgency"), direction=-1, unit="phrases", signal="urgency"),
    feature("begging", "Begging", "tone",
            "\"Please help\", \"plz\", \"kindly\", \"someone help\", \"help me\", \"desperate\".",
            signal_count("begging"), direction=-1, unit="phrases", signal="begging"),
    feature("exclamations", "Exclamation marks", "tone",
            "Exclamation marks in the title and prose.",
            lambda a: float(a.punctuation["!"]), direction=-1, unit="marks"),
    feature("exclamation_runs", "Runs of ! and ?", "tone",
            "Runs such as \"!!\", \"?!\" or \"???\".",
            signal_count("exclamation_run"), direction=-1, unit="runs", signal="exclamation_run"),
    feature("all_caps_words", "Shouting in capitals", "tone",
            "Upper-case words that shout: runs of three or more, or emphasis words such as "
            "\"PLEASE\", \"NOT\", \"URGENT\" (acronyms like \"API\" alone do not count).",
            signal_count("all_caps"), direction=-1, unit="words", signal="all_caps"),
    feature("lowercase_starts", "Sentences in lower case", "tone",
            "Sentences (and the title) that start with a lower-case letter, plus \"i\" written "
            "in lower case: text typed without care.",
            signal_count("lowercase_start"), direction=-1, unit="places", signal="lowercase_start"),
)
