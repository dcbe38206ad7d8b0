"""Edit operators: for each actionable feature, the concrete edit that would move it.

Mechanical operators edit the text itself (add a question mark to the title, cut a
greeting, wrap an error message in a code block...) and say exactly where (offsets into
the field the user sent) and with what (``replacement``), so the editor can apply them in
one click. The others can't write the writer's content for them ("say what you tried"):
they move the feature to the typical value of well-received questions on that site, and
the re-scored gain says what doing so is worth.

Operators are plain data plus a ``propose`` function; the engine decides which ones to
run (only those whose features pull the score down) and keeps only verified gains.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from askwell.explain.schema import Category, FieldName
from askwell.question import Question


@dataclass(frozen=True)
class Candidate:
    """One proposed edit: an edited question (mechanical) or feature overrides."""

    edited: Question | None = None
    overrides: Mapping[str, float] | None = None
    field: FieldName | None = None
    start: int | None = None
    length: int | None = None
    replacement: str | None = None
    detail: str | None = None
    #: The characters the edit really changes, when fewer than its whole span (capitalising
    #: a field's sentence starts replaces one span but changes a letter here and there).
    changes: tuple[tuple[int, int], ...] | None = None
    #: For a code wrap: the snippets as typed, which the new block(s) must hold unchanged.
    code: tuple[str, ...] = ()

    def changed(self) -> tuple[tuple[int, int], ...]:
        """Spans of the field this edit changes (empty when it has no place)."""
        if self.changes is not None:
            return self.changes
        if self.start is None:
            return ()
        return ((self.start, self.start + (self.length or 0)),)


@dataclass
class Reference:
    """Typical feature values of well-received questions (overall ``*`` and per site)."""

    typical: dict[str, dict[str, float | None]] = field(default_factory=dict)

    @classmethod
    def from_meta(cls, reference: Mapping[str, Any] | None) -> Reference:
        return cls(dict((reference or {}).get("typical", {})))

    def value(self, site: str | None, name: str) -> float | None:
        for key in (site or "", "*"):
            got = self.typical.get(key, {}).get(name)
            if got is not None:
                return float(got)
        return None


Propose = Callable[[Question, tuple[Any, ...], Reference, Mapping[str, float]], list[Candidate]]
"""``propose(question, signals, reference, current feature values)``."""


@dataclass(frozen=True)
class EditOperator:
    id: str
    features: tuple[str, ...]
    message: str
    category: Category
    mechanical: bool
    group: str
    propose: Propose


# -- text surgery ------------------------------------------------------------------
def replace(q: Question, field_name: FieldName, start: int, end: int, new: str) -> Question:
    text = q.title if field_name == "title" else q.body
    edited = text[:start] + new + text[end:]
    return dataclasses.replace(q, title=edited) if field_name == "title" \
        else dataclasses.replace(q, body=edited)


def _span(sig: Any) -> tuple[int, int] | None:
    """Offsets of a signal in the field as the user sent it (None if not locatable)."""
    if sig.field == "title":
        return sig.start, sig.end
    if sig.source_start is None or sig.source_end is None:
        return None
    return sig.source_start, sig.source_end


_TRAIL = re.compile(r"(?:\s+(?:all|everyone|everybody|guys|folks|there|team|friends|experts)\b)?[\s,;:.!\-–—]*")
_LEAD_SPACE = re.compile(r"[ \t]+$")


def _removal(q: Question, sig: Any) -> Candidate | None:
    """Cut a phrase with the punctuation and spaces that trail it."""
    span = _span(sig)
    if span is None:
        return None
    text = q.title if sig.field == "title" else q.body
    start, end = span
    trail = _TRAIL.match(text, end)
    end = trail.end() if trail else end
    # keep one line break if we would swallow it, so paragraphs don't merge
    trailing = text[span[1]:end]
    keep = ""
    if "\n" in trailing and start > 0 and text[start - 1] != "\n":
        # keep the line break it would swallow, a paragraph break as a paragraph break (a
        # blank line before a code block is what makes it one), and no space before it
        keep = "\n\n" if trailing.count("\n") >= 2 else "\n"
        lead = _LEAD_SPACE.search(text, 0, start)
        start = lead.start() if lead else start
    if not keep and start > 0 and end < len(text) and text[start - 1] not in " \n" and text[end] not in " \n":
        keep = " "
    lead = _LEAD_SPACE.search(text, 0, start)
    if end >= len(text.rstrip()) and lead:
        start = lead.start()
    return Candidate(
        edited=replace(q, sig.field, start, end, keep), field=sig.field, start=start,
        length=end - start, replacement=keep, detail=f"“{text[span[0]:span[1]]}”",
    )


@functools.cache
def signal_of(feature: str) -> str:
    """The kind of located signal a registry feature counts (``FeatureSpec.signal``): the
    one place that says which phrases an operator on that feature edits."""
    from askwell.features.registry import get_spec

    kind = get_spec(feature).signal
    if kind is None:
        raise ValueError(f"feature {feature!r} counts no located signal")
    return kind


def remove_phrases(feature: str) -> Propose:
    """Remove the phrases the registry feature ``feature`` counts (at most three edits)."""

    def propose(q: Question, signals: tuple[Any, ...], ref: Reference,
                current: Mapping[str, float]) -> list[Candidate]:
        kind = signal_of(feature)
        found = [s for s in signals if s.kind == kind]
        if kind == "greeting":  # "Why does hello repeat?" greets no one
            found = [s for s in found if _opens_sentence(q, s)]
        return [c for s in found if (c := _removal(q, s)) is not None][:3]

    return propose


def _opens_sentence(q: Question, sig: Any) -> bool:
    """The signal starts its field, a line or a sentence (only spaces before it since)."""
    span = _span(sig)
    if span is None:
        return False
    text = (q.title if sig.field == "title" else q.body)[: span[0]].rstrip(" \t")
    return not text or text[-1] in ".!?:;\n>" or text.endswith(("<p>", "<br>", "<br/>"))


def propose_title_question(q: Question, signals: tuple[Any, ...], ref: Reference,
                current: Mapping[str, float]) -> list[Candidate]:
    core = q.title.rstrip()
    if not core or core.endswith("?"):
        return []
    stripped = core.rstrip(".!:;,- ")
    start = len(stripped)
    return [Candidate(
        edited=replace(q, "title", start, len(q.title), "?"), field="title", start=start,
        length=len(q.title) - start, replacement="?",
    )]


def propose_calm_punctuation(q: Question, signals: tuple[Any, ...], ref: Reference,
                current: Mapping[str, float]) -> list[Candidate]:
    out = []
    for s in [x for x in signals if x.kind == signal_of("exclamation_runs")][:3]:
        span = _span(s)
        if span is None:
            continue
        run = (q.title if s.field == "title" else q.body)[span[0]:span[1]]
        new = "?" if "?" in run else "."
        out.append(Candidate(edited=replace(q, s.field, span[0], span[1], new), field=s.field,
                             start=span[0], length=span[1] - span[0], replacement=new, detail=f"“{run}”"))
    return out


def propose_lowercase(q: Question, signals: tuple[Any, ...], ref: Reference,
                current: Mapping[str, float]) -> list[Candidate]:
    out = []
    for s in [x for x in signals if x.kind == signal_of("all_caps_words")][:3]:
        span = _span(s)
        if span is None:
            continue
        text = q.title if s.field == "title" else q.body
        shout = text[span[0]:span[1]]
        before = text[: span[0]].rstrip()
        new = shout.lower()
        if not before or before[-1] in ".!?\n":
            new = new[:1].upper() + new[1:]
        out.append(Candidate(edited=replace(q, s.field, span[0], span[1], new), field=s.field,
                             start=span[0], length=span[1] - span[0], replacement=new, detail=f"“{shout}”"))
    return out


def code_seeds(signals: tuple[Any, ...]) -> tuple[tuple[int, int], ...]:
    """Source spans of the body's pasted code and error lines (the wraps' seeds)."""
    return tuple(sorted({span for x in signals
                         if x.kind in (signal_of("error_outside_code"), signal_of("code_outside_block")) and x.field == "body"
                         if (span := _span(x)) is not None}))


def propose_code_for_errors(q: Question, signals: tuple[Any, ...], ref: Reference,
                            current: Mapping[str, float]) -> list[Candidate]:
    """Wrap pasted code and error messages in a code block, each whole snippet in one block
    with its lines as typed (see :mod:`askwell.explain.snippets`): each of the first two
    places alone, and, when there are more, all of them in one edit (one span from the first
    to the last, the text between unchanged), since leaving some unwrapped may gain nothing."""
    from askwell.explain.snippets import wrap_places

    places = wrap_places(q.body, code_seeds(signals))
    out = []
    for p in places[:2]:
        out.append(Candidate(edited=replace(q, "body", p.start, p.end, p.replacement), field="body",
                             start=p.start, length=p.end - p.start, replacement=p.replacement,
                             detail=f"“{p.code[0][:80]}”", code=p.code))
    if len(places) > 1:
        start, end = places[0].start, places[-1].end
        pieces, last = [], start
        for p in places:
            pieces += [q.body[last:p.start], p.replacement]
            last = p.end
        new = "".join(pieces)
        out.append(Candidate(edited=replace(q, "body", start, end, new), field="body",
                             start=start, length=end - start, replacement=new,
                             detail=f"{len(places)} places",
                             changes=tuple((p.start, p.end) for p in places),
                             code=tuple(c for p in places for c in p.code)))
    return out


#: A word a capital may start: letters (an apostrophe inside), then at most punctuation.
#: "pandas.read_csv", "x_1" or "http://..." are code or addresses, not a sentence's word.
_PLAIN_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*[,;:!?.)\]\"”’]*")


#: A full stop that ends one of these ends no sentence ("e.g. it fails").
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|approx|incl|esp|resp|al|fig|eq|no|ca|ver|viz)"
                           r"|\b[a-z]\.[a-z])\.$", re.I)
#: A word with a capital or a digit after its first letter is a name, written as its owner
#: writes it: iOS, eBay, jQuery.
_MIXED_CASE = re.compile(r"[a-z]+[A-Z0-9]")
_PRONOUN_I = re.compile(r"i(?:['’](?:m|d|ll|ve))?\b")


def _plain_word_at(text: str, at: int) -> bool:
    end = at
    while end < len(text) and not text[end].isspace():
        end += 1
    return _PLAIN_WORD.fullmatch(text, at, end) is not None and not _MIXED_CASE.match(text, at)


def _starts_sentence_or_is_i(text: str, at: int) -> bool:
    """A lower-case sentence start that really starts one (not after "e.g."), or "i"."""
    return _PRONOUN_I.match(text, at) is not None or not _ABBREVIATION.search(text[:at].rstrip())


def propose_capitalize(q: Question, signals: tuple[Any, ...], ref: Reference,
                       current: Mapping[str, float]) -> list[Candidate]:
    """Capitalise every lower-case sentence start (and "i") in a field: one span from the
    first to the last place, so the edit applies in one click. Never in code: places in a
    snippet the code edit would wrap, and words that aren't plain words, are left alone."""
    from askwell.explain.snippets import code_regions

    out = []
    for field_name in ("title", "body"):
        text = q.title if field_name == "title" else q.body
        code = code_regions(q.body, code_seeds(signals)) if field_name == "body" else []
        spots = [sp for s in signals if s.kind == signal_of("lowercase_starts") and s.field == field_name
                 if (sp := _span(s)) is not None and _plain_word_at(text, sp[0])
                 and _starts_sentence_or_is_i(text, sp[0])
                 and not any(a <= sp[0] < b for a, b in code)]
        if not spots:
            continue
        start, end = spots[0][0], spots[-1][1]
        chars = list(text[start:end])
        for a, _ in spots:
            chars[a - start] = chars[a - start].upper()
        new = "".join(chars)
        out.append(Candidate(edited=replace(q, field_name, start, end, new), field=field_name,
                             start=start, length=end - start, replacement=new,
                             detail=f"{len(spots)} place(s)", changes=tuple(spots)))
    return out


# -- moving a feature to what works on the site --------------------------------------
def present(feature: str) -> Propose:
    """A presence the writer can add: set the count to at least one."""

    def propose(q: Question, signals: tuple[Any, ...], ref: Reference,
                current: Mapping[str, float]) -> list[Candidate]:
        kind = signal_of(feature)
        if any(s.kind == kind for s in signals):
            return []
        return [Candidate(overrides={feature: 1.0})]

    return propose


def toward_typical(features: tuple[str, ...], when: str, factor: float = 1.0) -> Propose:
    """Move length-like features to the site's typical value when below (``when='below'``)
    or far above (``'above'``, more than ``factor`` times typical) it."""

    def propose(q: Question, signals: tuple[Any, ...], ref: Reference,
                current: Mapping[str, float]) -> list[Candidate]:
        lead = features[0]
        typical = ref.value(q.site, lead)
        now = current.get(lead)
        if typical is None or now is None:
            return []
        if when == "below" and not now < typical:
            return []
        if when == "above" and not now > typical * factor:
            return []
        overrides = {f: v for f in features if (v := ref.value(q.site, f)) is not None}
        return [Candidate(overrides=overrides, detail=f"{_fmt(now)} now, typically {_fmt(typical)} on this site")]

    return propose


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:.2f}"


LENGTH = ("body_words", "body_sentences", "body_chars", "paragraphs")

OPERATORS: tuple[EditOperator, ...] = (
    EditOperator("title_question", ("title_question_mark", "title_is_question"),
                 "Phrase the title as a question", "clarity", True, "title_question",
                 propose_title_question),
    EditOperator("code_block_error", ("error_outside_code", "code_outside_block", "code_blocks"),
                 "Put code and error messages in a code block", "formatting", True, "code",
                 propose_code_for_errors),
    EditOperator("capitalize", ("lowercase_starts",),
                 "Start sentences with a capital letter (and write \"I\", not \"i\")", "clarity",
                 True, "case", propose_capitalize),
    EditOperator("remove_urgency", ("urgency",), "Remove the urgency: it does not get answers faster",
                 "tone", True, "urgency", remove_phrases("urgency")),
    EditOperator("remove_begging", ("begging",), "Drop the pleading and ask the question directly",
                 "tone", True, "begging", remove_phrases("begging")),
    EditOperator("remove_greeting", ("greetings",), "Cut the greeting", "tone", True, "greeting",
                 remove_phrases("greetings")),
    EditOperator("remove_thanks", ("thanks",), "Cut the thanks: votes and accepts say thank you here",
                 "tone", True, "thanks", remove_phrases("thanks")),
    EditOperator("calm_punctuation", ("exclamation_runs", "exclamations"),
                 "Use one punctuation mark, not a run of them", "tone", True, "punctuation",
                 propose_calm_punctuation),
    EditOperator("lowercase_shouting", ("all_caps_words",), "Don't shout: write in normal case",
                 "tone", True, "caps", propose_lowercase),
    EditOperator("add_tried", ("tried",), "Say what you have already tried and what happened",
                 "context", False, "tried", present("tried")),
    EditOperator("add_expected_actual", ("expected_actual",),
                 "Say what you expected and what happened instead", "expected_outcome", False,
                 "expected", present("expected_actual")),
    EditOperator("add_goal", ("goal",), "Say what you are trying to achieve", "context", False,
                 "goal", present("goal")),
    EditOperator("add_detail", LENGTH, "Add detail: the context someone needs to answer",
                 "context", False, "length", toward_typical(LENGTH, "below")),
    EditOperator("tighten", LENGTH, "Cut it down to what matters for the question",
                 "clarity", False, "length", toward_typical(LENGTH, "above", factor=2.5)),
    EditOperator("specific_title", ("title_words", "title_chars"),
                 "Make the title specific: name the problem, not just the topic", "clarity",
                 False, "title_length", toward_typical(("title_words", "title_chars"), "below")),
    EditOperator("add_tags", ("tags",), "Add tags so the right people see it", "context", False,
                 "tags", toward_typical(("tags",), "below")),
    EditOperator("add_code", ("code_blocks", "code_share"),
                 "Show the relevant code, data or output in a code block", "formatting", False,
                 "code", toward_typical(("code_blocks", "code_share", "inline_code"), "below")),
    EditOperator("add_links", ("links",), "Link to what you read or used", "context", False,
                 "links", toward_typical(("links",), "below")),
)
