"""Are the suggestions right? Degrade real questions in known ways and check that the
engine names the fault (recall@3), that applying its fix gives the original back
(restoration), and that no suggestion ever changes existing code (code safety).

The one harness behind ``benchmarks/bench_recommendations.py`` (the full figures) and the
integration tests on the real dumps (a quick run as a regression gate). Each degradation
changes the text only: the author's history and the site stay, so a change of score is the
degradation's own. Analyzers are typed loosely: anything with ``analyze(question)``
returning an :class:`~askwell.explain.schema.Analysis`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from askwell.question import Question

# -- degradations: (name, applies-to?, degrade, suggestion ids that name it, mechanical)
_SENT = re.compile(r"(?<=[.!?])\s+")


def _strip_code(body: str) -> str:
    body = re.sub(r"<pre[^>]*>\s*<code[^>]*>(.*?)</code>\s*</pre>", r"<p>\1</p>", body, flags=re.S)
    return re.sub(r"</?code>", "", body)


def _one_sentence(body: str) -> str:
    from askwell.data.document import parse_body

    text = parse_body(body).text
    first = _SENT.split(text.strip(), maxsplit=1)[0]
    return f"<p>{first}</p>"


def _remove_tried(q: Question) -> str:
    from askwell.data.document import parse_body
    from askwell.features import find_signals

    doc = parse_body(q.body).text
    tried = [s for s in find_signals(q) if s.kind == "tried" and s.field == "body"]
    sentences = _SENT.split(doc)
    kept, pos = [], 0
    for sent in sentences:
        at = doc.find(sent, pos)
        pos = at + len(sent)
        if not any(at <= s.start < pos for s in tried):
            kept.append(sent)
    return "<p>" + " ".join(kept) + "</p>"


def degradations() -> list[tuple[str, Callable, Callable, set[str], bool]]:
    """Each degradation changes the text only: the author's history and the site stay, so
    a change of score is the degradation's own."""

    def has(kind: str) -> Callable[[Question], bool]:
        from askwell.features import find_signals

        return lambda q: any(s.kind == kind for s in find_signals(q))

    return [
        ("drop_title_question_mark", lambda q: q.title.rstrip().endswith("?"),
         lambda q: replace(q, title=q.title.rstrip().rstrip("?")),
         {"title_question"}, True),
        ("strip_code_formatting", lambda q: "<pre" in q.body,
         lambda q: replace(q, body=_strip_code(q.body)),
         {"code_block_error", "add_code"}, True),
        ("lowercase_everything", lambda q: True,
         lambda q: replace(q, title=q.title.lower(), body=q.body.lower()),
         {"capitalize"}, True),
        ("add_urgent_please_help", lambda q: True,
         lambda q: replace(q, body="<p>URGENT please help!!!</p>" + q.body),
         {"remove_urgency", "remove_begging", "calm_punctuation", "lowercase_shouting"}, True),
        ("cut_body_to_one_sentence", lambda q: len(q.body) > 400,
         lambda q: replace(q, body=_one_sentence(q.body)),
         {"add_detail"}, False),
        ("remove_what_i_tried", has("tried"),
         lambda q: replace(q, body=_remove_tried(q)),
         {"add_tried"}, False),
    ]


def degradation_test(analyzer: Any, questions: Sequence[Question], limit: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, applies, degrade, expected, mechanical in degradations():
        chosen = [q for q in questions if applies(q)][:limit]
        drops = hits = 0
        for q in chosen:
            before = analyzer.analyze(q).score
            after = analyzer.analyze(degrade(q))
            drops += after.score < before
            hits += bool(expected & {s.id for s in after.suggestions[:3]})
        n = max(len(chosen), 1)
        out[name] = {"n": len(chosen), "score_drops": drops / n, "recall_at_3": hits / n,
                     "mechanical": mechanical}
    return out


# -- restoration: does applying the suggestion give the writer back the original? ------
_WS_RUN = re.compile(r"\s+")


def _strip_code_blocks(body: str) -> str:
    """Code blocks made paragraphs (inline code kept): the fault the code edit fixes."""
    return re.sub(r"<pre[^>]*>\s*<code[^>]*>(.*?)</code>\s*</pre>", r"<p>\1</p>", body, flags=re.S)


def apply_suggestion(q: Question, s: Any) -> Question:
    """The question with one suggestion applied, as the editor applies it."""
    text = q.title if s.field == "title" else q.body
    edited = text[: s.start] + s.replacement + text[s.start + s.length:]
    return replace(q, title=edited) if s.field == "title" else replace(q, body=edited)


def code_texts(body: str) -> list[tuple[str, str]]:
    """(kind, text) of each code block and inline code of a body, in order."""
    from askwell.data.document import parse_body

    doc = parse_body(body)
    return [(s.kind, doc.text[s.start:s.end]) for s in doc.spans
            if s.kind in ("code_block", "inline_code")]


def same_text(a: Question, b: Question) -> bool:
    """Equal as a reader sees them: the same title, the same code blocks character for
    character, the same text with white space runs counted as one."""
    from askwell.data.document import parse_body

    da, db = parse_body(a.body), parse_body(b.body)
    blocks = [[d.text[s.start:s.end] for s in d.spans if s.kind == "code_block"] for d in (da, db)]
    return (a.title == b.title and blocks[0] == blocks[1]
            and _WS_RUN.sub(" ", da.text).strip() == _WS_RUN.sub(" ", db.text).strip())


def code_kept(original: list[tuple[str, str]], now: list[tuple[str, str]]) -> bool:
    """Every piece of the original's code is still there, in order, unchanged (inline code
    may have been taken into a new code block)."""
    j = 0
    for _kind, text in original:
        while j < len(now) and not (now[j][1] == text or (now[j][0] == "code_block" and text in now[j][1])):
            j += 1
        if j == len(now):
            return False
        j += 1
    return True


def restorations() -> list[tuple[str, Callable[[Question], bool], Callable[[Question], Question], set[str]]]:
    """(name, applies-to?, degrade, the suggestions that undo it)."""
    return [
        ("strip_code_blocks", lambda q: "<pre" in q.body,
         lambda q: replace(q, body=_strip_code_blocks(q.body)), {"code_block_error"}),
        ("strip_code_formatting", lambda q: "<pre" in q.body,
         lambda q: replace(q, body=_strip_code(q.body)), {"code_block_error"}),
        ("drop_title_question_mark", lambda q: q.title.rstrip().endswith("?"),
         lambda q: replace(q, title=q.title.rstrip().rstrip("?")), {"title_question"}),
        ("lowercase_everything", lambda q: True,
         lambda q: replace(q, title=q.title.lower(), body=q.body.lower()), {"capitalize"}),
        ("add_urgent_please_help", lambda q: True,
         lambda q: replace(q, body="<p>URGENT please help!!!</p>" + q.body),
         {"remove_urgency", "remove_begging", "calm_punctuation", "lowercase_shouting"}),
    ]


def restoration_test(analyzer: Any, questions: Sequence[Question], limit: int, steps: int = 4) -> dict[str, dict[str, float]]:
    """Degrade, apply the top suggestion that names the fault (again, re-analysing, while
    one is offered, up to ``steps``), and compare with the original (:func:`same_text`)."""
    out = {}
    for name, applies, degrade, fixes in restorations():
        chosen = [q for q in questions if applies(q)][:limit]
        named = restored = restored_once = 0
        for q in chosen:
            now = degrade(q)
            first = True
            for _ in range(steps):
                fix = next((s for s in analyzer.analyze(now).suggestions
                            if s.id in fixes and s.replacement is not None), None)
                if fix is None:
                    break
                named += first
                now = apply_suggestion(now, fix)
                if first:
                    restored_once += same_text(q, now)
                first = False
            restored += (not first) and same_text(q, now)
        out[name] = {"n": len(chosen), "named": named,
                     "restored_when_named": restored / named if named else float("nan"),
                     "restored_by_one_edit": restored_once / named if named else float("nan"),
                     "restored_of_all": restored / max(len(chosen), 1)}
    return out


def code_safety(analyzer: Any, questions: Sequence[Question], steps: int = 6) -> dict[str, object]:
    """Apply the mechanical suggestions one after another, re-analysing between them, as
    the editor does; count questions whose existing code (blocks, inline code) changed."""
    changed: list[str] = []
    applied = 0
    for q in questions:
        original = code_texts(q.body)
        now = q
        for _ in range(steps):
            fix = next((s for s in analyzer.analyze(now).suggestions if s.replacement is not None), None)
            if fix is None:
                break
            now = apply_suggestion(now, fix)
            applied += 1
            if not code_kept(original, code_texts(now.body)):
                changed.append(f"{q.site}: {q.title[:60]}")
                break
    return {"questions": len(questions), "edits_applied": applied,
            "code_changed": len(changed), "examples": changed[:10]}


def determinism(analyzer: Any, questions: Sequence[Question]) -> bool:
    return all(analyzer.analyze(q) == analyzer.analyze(q) for q in questions)
