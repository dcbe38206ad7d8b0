"""What applying a suggestion may never do to the writer's text, checked on every edit.

The engine offers a mechanical edit only when :func:`violations` finds nothing:

1. **Code, addresses and error messages are untouched.** Every code block and inline code
   of the body keeps its text (a wrap may take inline code into the new block); a case,
   punctuation or wording edit changes no character of a snippet the code edit would wrap,
   of an error message or of a URL; link and image targets are the same; every error
   message written outside code is still there, character for character.
2. **Nothing renders differently outside the span the edit names.** The body is rendered
   before and after (the same :func:`~askwell.data.document.parse_body` the features use:
   text plus located structure); the text before and after the span's rendering is the
   same, and every piece of structure outside it (code, links, images, lists, quotes,
   headings) is still there, in its place.
3. **A wrap holds the snippet whole.** Each snippet the code edit names is one new code
   block whose text is the snippet exactly as typed (indentation, blank lines), and no
   other block appears.
4. **A title edit touches no code-like token** (``read_csv()``, ``a.b``, a path).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from askwell.data.document import (
    Document,
    looks_like_html,
    markdown_to_html,
    parse_body,
    parse_html,
)

_CODE_KINDS = frozenset(("code_block", "inline_code"))
_ATOMIC = frozenset(("code_block", "inline_code", "link", "image"))
_URL = re.compile(r"(?:https?|ftp)://[^\s<>\"')\]]+|www\.[^\s<>\"')\]]+", re.I)
_TARGET = re.compile(r"""\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
#: Sentinels marking the edited span in a rendering (private-use characters).
_OPEN, _CLOSE = "\ue000", "\ue001"
_CODE_TOKEN_CHARS = re.compile(r"[_()\[\]{}=<>/\\`#$@]|\w[.:]\w")


def code_like_tokens(text: str) -> list[str]:
    """Words of a title that read as code or an address (``read_csv``, ``a.b``, ``f()``)."""
    words = (t.strip(".,;:!?\"'") for t in text.split())
    return [t for t in words if _CODE_TOKEN_CHARS.search(t)]


def _targets(body: str) -> Counter[str]:
    html = body if looks_like_html(body) else markdown_to_html(body)
    return Counter(a or b for a, b in _TARGET.findall(html))


_EDGE = re.compile(r"(?:\s+|<[^<>]*>)+")


def _image(body: str, start: int, end: int) -> tuple[int, int] | None:
    """Where ``body[start:end]`` lands in the rendered text (None if it can't be placed).
    The marks go inside the tags and white space at the span's edges, next to its text."""
    lead = _EDGE.match(body, start, end)
    if lead:
        start = lead.end()
    while end > start:
        tail = re.search(r"(?:\s+|<[^<>]*>)$", body[start:end])
        if not tail:
            break
        end = start + tail.start()
    marked = f"{body[:start]}{_OPEN}{body[start:end]}{_CLOSE}{body[end:]}"
    text = parse_body(marked).text
    a, b = text.find(_OPEN), text.find(_CLOSE)
    if a < 0 or b < a:
        return None
    return a, b - 1


def _inside(s: Any, a: int, b: int) -> bool:
    return a <= s.start and s.end <= b and not (s.start == s.end == a and a != b)


def _overlaps(s: Any, a: int, b: int) -> bool:
    return s.start < b and a < s.end


def _block_text(snippet: str, html: bool) -> str:
    """The text a code block holding ``snippet`` shows (trimmed, as spans are)."""
    if not html:
        return snippet.strip()
    from askwell.explain.snippets import _code

    return parse_html(f"<pre><code>{_code(snippet)}</code></pre>").text.strip()


def title_violations(before: str, after: str) -> list[str]:
    if code_like_tokens(before) != code_like_tokens(after):
        return ["the title edit changes a code-like word"]
    return []


def body_violations(body: str, before: Document, edited_body: str, after: Document,
                    start: int, end: int, code: Sequence[str] = (),
                    protected: Sequence[tuple[int, int]] = (),
                    changed: Sequence[tuple[int, int]] = (),
                    errors: Sequence[str] = ()) -> list[str]:
    """Reasons the body edit ``body[start:end]`` -> ``edited_body`` breaks an invariant.

    ``code`` are the snippets a wrap puts in blocks (empty for other edits); ``protected``
    source spans (pasted code, error messages) no other edit may change, ``changed`` the
    source spans the edit changes; ``errors`` the error messages that must stay."""
    wrap = bool(code)
    out: list[str] = []
    if not wrap:
        spans = list(changed) or [(start, end)]
        hits = [(a, b) for a, b in protected for s, e in spans if s < b and a < e]
        hits += [m.span() for m in _URL.finditer(body) for s, e in spans if s < m.end() and m.start() < e]
        if hits:
            out.append("the edit changes pasted code, an error message or an address")
    if _targets(body) != _targets(edited_body):
        out.append("the edit changes a link or image target")
    if Counter(_URL.findall(before.text)) != Counter(_URL.findall(after.text)):
        out.append("the edit changes an address")
    for message in errors:
        if after.text.count(message) < before.text.count(message):
            out.append("the edit changes an error message")
            break
    image = _image(body, start, end)
    if image is None:
        return [*out, "the edit's place can't be found in the rendering"]
    a, b = image
    t0, t1 = before.text, after.text
    prefix, suffix = t0[:a].rstrip(), t0[b:].lstrip()
    a0, b0 = len(prefix), len(t0) - len(suffix)
    b1 = len(t1) - len(suffix)
    if b1 < a0 or not t1.startswith(prefix) or not t1.endswith(suffix):
        out.append("the edit changes text outside the span it names")
        return out
    middle = t1[a0:b1]
    breaks = min(1, t0.count("\n", a0, a)) + min(1, t0.count("\n", b, b0)) - (not middle.strip())
    if not wrap and middle.count("\n") < breaks:
        out.append("the edit joins lines or paragraphs outside its span")
    out += _structure(before, after, a0, b0, b1, wrap)
    if wrap:
        html = looks_like_html(body)
        new = [t1[s.start:s.end] for s in after.spans if s.kind == "code_block"]
        old = [t0[s.start:s.end] for s in before.spans if s.kind == "code_block"]
        added = list((Counter(new) - Counter(old)).elements())
        wanted = [_block_text(snippet, html) for snippet in code]
        if sorted(added) != sorted(wanted) or len(new) != len(old) + len(code):
            out.append("the code block does not hold the snippet exactly as typed")
    return out


def _structure(before: Document, after: Document, a: int, b: int, b1: int, wrap: bool) -> list[str]:
    """Structure outside the edited text is kept in place; inside, kept or (a wrap) taken
    into the new code block."""
    t0, t1 = before.text, after.text
    delta = b1 - b
    expected: list[tuple[str, int | None, int | None, str | None]] = []
    inner: list[Any] = []
    for s in before.spans:
        if s.end <= a and not (s.start == s.end == a):
            expected.append((s.kind, s.start, s.end, t0[s.start:s.end]))
        elif s.start >= b and not (s.start == s.end == b and a != b):
            expected.append((s.kind, s.start + delta, s.end + delta, t0[s.start:s.end]))
        elif _inside(s, a, b) and a != b:
            inner.append(s)
        elif s.kind in _ATOMIC:
            return ["the edit cuts into code, a link or an image"]
        else:  # a container around the edit: its outer ends stay put
            expected.append((s.kind, s.start if s.start < a else None,
                             s.end + delta if s.end > b else None, None))
    remaining = list(after.spans)
    for kind, s0, e0, text in expected:
        found = next((s for s in remaining if s.kind == kind and (s0 is None or s.start == s0)
                      and (e0 is None or s.end == e0)
                      and (text is None or t1[s.start:s.end] == text)), None)
        if found is None:
            return ["the edit changes the structure outside the span it names"]
        remaining.remove(found)
    new_blocks = [s for s in remaining if s.kind == "code_block" and wrap and _inside(s, a, b1)]
    for s in inner:
        text = t0[s.start:s.end]
        found = next((r for r in remaining if r.kind == s.kind and _inside(r, a, b1)
                      and (s.kind not in _ATOMIC or t1[r.start:r.end] == text)), None)
        if found is None and wrap and s.kind == "inline_code" and any(
                text in t1[n.start:n.end] for n in new_blocks):
            continue  # taken into the new block
        if found is None:
            return ["the edit changes code, a link or an image inside its span"]
        remaining.remove(found)
    extra = [s for s in remaining if s not in new_blocks]
    if extra:
        return ["the edit adds structure" if not wrap else "the wrap adds more than its code block"]
    return []
