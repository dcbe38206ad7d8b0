"""What the filter can say about an input: the classes it learns, their reason codes,
the message for a person and the advice on what to do.

The model is multiclass: ``question`` (a real, answerable question) against one class
per kind of non-question. The reason a rejected input gets is the most likely
non-question class. Classes learnt from *closed* questions (``off_topic``, ``unclear``,
``opinion``) are real questions a site's moderators closed: the filter may warn about them
(``unsure``) but never rejects on their account alone, because whether a question is on
topic is the site's call, not a text classifier's.
"""

from __future__ import annotations

from dataclasses import dataclass

QUESTION = "question"


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    advice: str
    source: str  # "generated", "real" or "closed": where its training examples come from


REASONS: dict[str, Reason] = {r.code: r for r in (
    Reason("empty_body", "The question has a title but no body.",
           "Add a body that says what you are trying to do, what you tried and what went "
           "wrong.", "generated"),
    Reason("title_only", "The body only repeats the title.",
           "Add a body that says what you tried, what you expected and what happened.",
           "generated"),
    Reason("greeting", "The body is only a greeting or a thank-you.",
           "Replace the pleasantries with the question itself: what you want to do, what "
           "you tried, and where you are stuck.", "generated"),
    Reason("comment_like", "This reads like a comment or a reply, not a question.",
           "If you have the same problem, describe your own case in full (what you tried, "
           "the exact error); to react to a post, comment on it instead.", "real"),
    Reason("answer_like", "This reads like an answer, not a question.",
           "If this answers a question, post it as an answer to that question; if you are "
           "asking, say what you want to know.", "real"),
    Reason("spam", "This looks like an advertisement.",
           "Questions must ask something answerable; promotion is removed.", "generated"),
    Reason("gibberish", "The text does not read as sentences.",
           "Write the question in plain sentences: what you want to do and what goes wrong.",
           "generated"),
    Reason("all_caps", "The question is written in capitals.",
           "Write in normal sentence case; capitals read as shouting and are hard to read.",
           "generated"),
    Reason("url_only", "The body is only a link.",
           "Put the question in the post itself; a link alone can rot and says nothing "
           "about what you want to know.", "generated"),
    Reason("code_only", "The body is only code, with no words.",
           "Say what the code should do, what it does instead (the exact error) and what "
           "you tried.", "generated"),
    Reason("other_script", "Most of the text is not in the Latin alphabet.",
           "askwell's models read English questions; scores of other languages are not "
           "reliable. Ask on a site in your language, or write the question in English.",
           "generated"),
    Reason("off_topic", "This resembles questions closed as off-topic.",
           "Check the site's help center for what is on topic, and say how your question "
           "fits it.", "closed"),
    Reason("unclear", "This resembles questions closed as unclear or too broad.",
           "Narrow it down to one problem, and add the details needed to answer it.",
           "closed"),
    Reason("opinion", "This resembles questions closed as opinion-based.",
           "Ask for facts, references or experience that can be judged, not for opinions "
           "or a poll.", "closed"),
)}

#: Model classes in a fixed order: index 0 is the real question.
CLASSES: tuple[str, ...] = (QUESTION, *REASONS)
#: Reasons that may warn but never reject on their own (see module docstring).
SOFT_REASONS: frozenset[str] = frozenset(c for c, r in REASONS.items() if r.source == "closed")

#: PostHistory close-reason ids (``Comment`` of type-10 rows) -> class. Old numbering
#: (before 2013): 2 off topic, 3 subjective, 4 not a real question, 7 too localized,
#: 10 general reference, 20 noise; new: 102 off-topic, 103 unclear / needs details,
#: 104 too broad / needs focus, 105 opinion-based. Duplicates (1, 101) are real
#: questions and stay positives.
CLOSE_REASONS: dict[str, str] = {
    "2": "off_topic", "7": "off_topic", "10": "off_topic", "102": "off_topic",
    "4": "unclear", "20": "unclear", "103": "unclear", "104": "unclear",
    "3": "opinion", "105": "opinion",
}
