"""A question body as plain text plus its structure.

Stack Exchange bodies are HTML; a person typing into askwell writes Markdown. Both are
turned into one :class:`Document`: the readable text and located spans (code blocks,
inline code, links, images, lists, quotes, headings) with offsets into that text. Ingest,
features and suggestions all use this one function, so "has a code block" means the
same thing in training and in serving.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

#: Span kinds recorded, by the HTML tag that opens them.
TAG_KINDS: dict[str, str] = {
    "pre": "code_block",
    "code": "inline_code",
    "a": "link",
    "img": "image",
    "ul": "list",
    "ol": "list",
    "li": "list_item",
    "blockquote": "blockquote",
    "h1": "heading",
    "h2": "heading",
    "h3": "heading",
    "h4": "heading",
    "h5": "heading",
    "h6": "heading",
}
SPAN_KINDS: tuple[str, ...] = (
    "code_block",
    "inline_code",
    "link",
    "image",
    "list",
    "list_item",
    "blockquote",
    "heading",
)
_BLOCK_TAGS = frozenset(
    ["p", "div", "pre", "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "tr", "br"]
)
_DROP_TAGS = frozenset(("script", "style", "head", "title", "noscript", "template"))
#: Runs of white space to collapse to one space. A lone " " already is one, so it is not
#: matched: ``_WS.sub(" ", s)`` equals collapsing every run, with far fewer matches.
_WS = re.compile(r"[\t\r\n\f\v][ \t\r\n\f\v]*| [ \t\r\n\f\v]+")
_HTML_HINT = re.compile(r"<\s*(p|pre|code|div|br|a|ul|ol|blockquote|h[1-6]|img)\b", re.I)


@dataclass(frozen=True, slots=True)
class Span:
    """A located piece of structure: ``text[start:end]`` is what it covers."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Document:
    """Plain text of a body and the structure found in it."""

    text: str
    spans: tuple[Span, ...]
    #: Offsets of the spaces in ``text`` that stand for a line break in the source outside
    #: ``<pre>`` (a soft break: HTML and Markdown join such lines into one paragraph). The
    #: text stays as a reader sees it; code pasted without a code block is found by line.
    soft_breaks: tuple[int, ...] = ()

    def counts(self) -> dict[str, int]:
        """Number of spans of each kind (every kind present, zero when absent)."""
        found = Counter(s.kind for s in self.spans)
        return {k: found.get(k, 0) for k in SPAN_KINDS}

    @property
    def code_chars(self) -> int:
        """Characters inside code blocks or inline code (nested code counted once)."""
        covered = 0
        last_end = -1
        for s in sorted(
            (s for s in self.spans if s.kind in ("code_block", "inline_code")),
            key=lambda s: s.start,
        ):
            start = max(s.start, last_end)
            if s.end > start:
                covered += s.end - start
                last_end = s.end
        return covered

    def spans_json(self) -> list[list[object]]:
        """Compact, JSON-ready form: ``[[kind, start, end], ...]``."""
        return [[s.kind, s.start, s.end] for s in self.spans]


#: Plain lxml elements: lxml.html's element-class lookup costs more than the parse.
_HTML_PARSER = etree.HTMLParser()
_FULL_PAGE = re.compile(r"^\s*<(?:html|!doctype)", re.I).match


def _fragment(body_html: str) -> tuple[str | None, list[etree._Element]]:
    """Parse a body as lxml.html's ``fragment_fromstring(create_parent=True)`` does:
    return the text before the first element and the top-level elements."""
    page = body_html if _FULL_PAGE(body_html) else f"<html><body>{body_html}</body></html>"
    doc = etree.fromstring(page, _HTML_PARSER)
    if doc is None:
        raise etree.ParserError("Document is empty")
    bodies = [e for e in doc if e.tag == "body"]
    if len(bodies) == 1:
        return bodies[0].text, list(bodies[0])
    return None, list(doc)  # a page without a body (a frameset, only a head): its parts


def _render(
    text: str | None, elements: list[etree._Element]
) -> tuple[str, list[Span], tuple[int, ...]]:
    """Walk the elements once, building the text, the (untrimmed) spans and the soft breaks.

    Rules: white space collapses outside ``<pre>``; a block element starts and ends a
    line; ``<img>`` becomes ``[alt]``; script, style and comments are dropped but the
    text after them is kept; ``<code>`` inside ``<pre>`` is part of the code block."""
    parts: list[str] = []
    spans: list[Span] = []
    breaks: list[int] = []
    tables = 0  # depth of <table> elements being walked
    n = 0  # characters emitted so far
    last = ""  # the last character emitted
    pending = False  # a line break is owed before the next visible text
    ws = _WS.sub
    drop, block, kinds = _DROP_TAGS, _BLOCK_TAGS, TAG_KINDS

    def put(raw: str, pre: bool) -> None:
        nonlocal n, last, pending
        if not pre:
            # str.__contains__ is much faster than a regex scan; most pieces need no change.
            soft: list[int] = []
            if "\n" in raw:
                # white space between tags is the commonest piece with a "\n" (NBSP stays)
                if not raw.strip(" \t\r\n\f\v"):
                    soft, raw = [0], " "
                else:
                    soft = _soft_breaks(raw)
                    raw = ws(" ", raw)
                if tables:  # line breaks between table cells and rows are not the writer's
                    soft = []
            elif "  " in raw or "\t" in raw or "\r" in raw or "\f" in raw or "\v" in raw:
                raw = ws(" ", raw)
            if (n == 0 or pending or last == " " or last == "\n") and raw[0] == " ":
                cut = len(raw)
                raw = raw.lstrip(" ")
                cut -= len(raw)
                if soft and soft[0] < cut and last == " " and not pending and breaks[-1:] != [n - 1]:
                    breaks.append(n - 1)  # the break joined the space already written
                if not raw:
                    return
                soft = [at - cut for at in soft if at >= cut]
            if pending:
                parts.append("\n")
                n += 1
                pending = False
            breaks.extend(n + at for at in soft)
        elif pending:
            parts.append("\n")
            n += 1
            pending = False
        parts.append(raw)
        n += len(raw)
        last = raw[-1]

    def walk(el: etree._Element, pre: bool) -> None:
        nonlocal n, last, pending, tables
        tag = el.tag
        if tag.__class__ is not str or (tag := tag.lower()) in drop:
            if el.tail:
                put(el.tail, pre)
            return
        is_block = tag in block
        if is_block and n and last != "\n":
            pending = True
        kind = kinds.get(tag)
        if kind is not None:
            if pre and tag == "code":
                kind = None  # <pre><code> is one code block, not inline code as well
            elif pending:
                parts.append("\n")
                n += 1
                last = "\n"
                pending = False
        start = n
        if tag == "img":
            alt = (el.get("alt") or "image").strip() or "image"
            put(f"[{alt}]", False)
        else:
            inner = pre or tag == "pre"
            table = tag == "table"
            tables += table
            if el.text:
                put(el.text, inner)
            for child in el:
                walk(child, inner)
            tables -= table
        if kind is not None:
            spans.append(Span(kind, start, n))
        if is_block and n and last != "\n":
            pending = True
        if el.tail:
            put(el.tail, pre)

    if text and text.strip():  # as lxml.html does: blank (even NBSP-only) lead text is dropped
        put(text, False)
    for el in elements:
        walk(el, False)
    text = "".join(parts).rstrip()
    return text, spans, tuple(at for at in breaks if at < len(text))


def _soft_breaks(raw: str) -> list[int]:
    """Where, in ``_WS.sub(" ", raw)``, the runs of white space holding a line break land."""
    out: list[int] = []
    shift = 0
    for m in _WS.finditer(raw):
        if "\n" in m.group():
            out.append(m.start() - shift)
        shift += m.end() - m.start() - 1
    return out


def _trimmed(span: Span, text: str) -> Span:
    """Clamp a span to the text and drop the white space at its edges."""
    start, end = min(span.start, len(text)), min(span.end, len(text))
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(span.kind, start, end)


def _span_order(s: Span) -> tuple[int, int, str]:
    return (s.start, -s.end, s.kind)


def parse_html(body_html: str) -> Document:
    """Turn an HTML body into text and structure; broken HTML is parsed leniently."""
    if not body_html or not body_html.strip():
        return Document("", ())
    try:
        lead, elements = _fragment(body_html)
    except (etree.LxmlError, ValueError):
        return Document(_WS.sub(" ", body_html).strip(), ())
    text, found, soft_breaks = _render(lead, elements)
    size = len(text)
    spans = []
    for s in found:
        # Spans usually need no trimming: only build a new one when an edge is white space.
        if s.end > size or (s.start < s.end and (text[s.start].isspace() or text[s.end - 1].isspace())):
            s = _trimmed(s, text)
        spans.append(s)
    spans.sort(key=_span_order)
    return Document(text, tuple(spans), soft_breaks)


@lru_cache(maxsize=1)
def _markdown_renderer() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # Raw HTML is not passed through: a user's "<script>" stays text, never markup.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_to_html(markdown: str) -> str:
    """Render Markdown (CommonMark) to HTML with raw HTML escaped."""
    return _markdown_renderer().render(markdown)


def looks_like_html(body: str) -> bool:
    """True when a body is already HTML (as in the dumps) rather than Markdown."""
    return bool(_HTML_HINT.search(body[:4000]))


def parse_body(body: str) -> Document:
    """Parse a body the way a user or a dump gives it: HTML if it looks like HTML, else Markdown."""
    if looks_like_html(body):
        return parse_html(body)
    return parse_html(markdown_to_html(body))
