"""Context: does the question say what was tried, what was expected and what happened?"""

from __future__ import annotations

import math

from askwell.data.sitekind import is_meta_site
from askwell.features.signals import TextAnalysis
from askwell.features.spec import FeatureSpec, feature, signal_count


def _site_is_meta(a: TextAnalysis) -> float:
    site = a.question.site
    if not site:
        return math.nan
    return 1.0 if is_meta_site(site) else 0.0


SPECS: tuple[FeatureSpec, ...] = (
    feature("tried", "What I tried", "context",
            "Phrases that report research or an attempt: \"I tried\", \"I've searched\", "
            "\"what I have done\", \"my attempt\", \"according to\".",
            signal_count("tried"), direction=1, unit="phrases", signal="tried"),
    feature("expected_actual", "Expected vs actual", "context",
            "Phrases that contrast expected and actual results: \"expected output\", "
            "\"instead\", \"but it returns\", \"I get this error\".",
            signal_count("expected_actual"), direction=1, unit="phrases", signal="expected_actual"),
    feature("goal", "Goal stated", "context",
            "Phrases that state the goal: \"I'm trying to\", \"I want to\", \"is there a way\".",
            signal_count("goal"), direction=1, unit="phrases", signal="goal"),
    feature("not_working", "\"Doesn't work\"", "context",
            "Vague failure reports (\"doesn't work\", \"not working\") that say nothing about "
            "what happened.",
            signal_count("not_working"), direction=-1, unit="phrases", signal="not_working"),
    feature("error_outside_code", "Error text outside code", "context",
            "Lines of prose that look like an error message (\"TypeError\", \"error:\", "
            "\"Traceback\") but are not formatted as code.",
            signal_count("error_outside_code"), direction=-1, unit="lines",
            signal="error_outside_code"),
    feature("code_outside_block", "Code outside a code block", "context",
            "Lines of prose that read like code (statements, calls, assignments, braces) but "
            "are not formatted as code.",
            signal_count("code_outside_block"), direction=-1, unit="lines",
            signal="code_outside_block"),
    feature("site_is_meta", "Meta site", "context",
            "1 when the question is on a site's meta (questions about the site itself, which "
            "votes differently), 0 on a main site, NaN when the site is unknown. Context the "
            "writer can't change.",
            _site_is_meta, kind="flag", actionable=False, missing_ok=True),
)
