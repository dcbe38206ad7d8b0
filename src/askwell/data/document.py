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

from lxml import etree
from lxml import html as lxml_html

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
    "p div pre ul ol li blockquote h1 h2 h3 h4 h5 h6 hr table tr br".split()
)
_DROP_TAGS = frozenset(("script", "style", "head", "title", "noscript", "template"))
_WS = re.compile(r"[ \t\r\n\f\v]+")
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


class _Builder:
    """Accumulates text pieces and spans while walking an element tree."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[Span] = []
        self._pending_break = False

    def _emit(self, piece: str) -> None:
        if not piece:
            return
        self.parts.append(piece)
        self.length += len(piece)

    def text(self, raw: str | None, preformatted: bool) -> None:
        if not raw:
            return
        piece = raw if preformatted else _WS.sub(" ", raw)
        if not preformatted and (self.length == 0 or self._pending_break or self._ends_space()):
            piece = piece.lstrip(" ")
        if not piece:
            return
        if self._pending_break and self.length:
            self._emit("\n")
        self._pending_break = False
        self._emit(piece)

    def block_break(self) -> None:
        if self.length and not self.parts[-1].endswith("\n"):
            self._pending_break = True

    def _ends_space(self) -> bool:
        return bool(self.parts) and self.parts[-1][-1:] in (" ", "\n")

    def position(self) -> int:
        """Offset where the next visible character will land."""
        if self._pending_break and self.length:
            self._emit("\n")
            self._pending_break = False
        return self.length

    def result(self) -> str:
        return "".join(self.parts).rstrip()


def _walk(el: etree._Element, out: _Builder, preformatted: bool) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    tag = tag.lower()
    if tag in _DROP_TAGS or not isinstance(el.tag, str):
        out.text(el.tail, preformatted)
        return
    is_block = tag in _BLOCK_TAGS
    if is_block:
        out.block_break()
    kind = TAG_KINDS.get(tag)
    if tag == "code" and preformatted:
        kind = None  # <pre><code> is one code block, not inline code as well
    start = out.position() if kind else 0
    if tag == "img":
        alt = (el.get("alt") or "image").strip() or "image"
        out.text(f"[{alt}]", False)
    else:
        inner_pre = preformatted or tag == "pre"
        out.text(el.text, inner_pre)
        for child in el:
            _walk(child, out, inner_pre)
    if kind:
        out.spans.append(Span(kind, start, out.length))
    if is_block:
        out.block_break()
    out.text(el.tail, preformatted)


def _trimmed(span: Span, text: str) -> Span:
    """Clamp a span to the text and drop the white space at its edges."""
    start, end = min(span.start, len(text)), min(span.end, len(text))
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(span.kind, start, end)


def parse_html(body_html: str) -> Document:
    """Turn an HTML body into text and structure; broken HTML is parsed leniently."""
    if not body_html or not body_html.strip():
        return Document("", ())
    try:
        root = lxml_html.fragment_fromstring(body_html, create_parent="div")
    except (etree.ParserError, ValueError):
        return Document(_WS.sub(" ", body_html).strip(), ())
    out = _Builder()
    _walk(root, out, preformatted=False)
    text = out.result()
    spans = tuple(_trimmed(s, text) for s in out.spans)
    return Document(text, tuple(sorted(spans, key=lambda s: (s.start, -s.end, s.kind))))


@lru_cache(maxsize=1)
def _markdown_renderer():  # type: ignore[no-untyped-def]
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
