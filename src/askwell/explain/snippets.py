"""Where a pasted snippet really is in the source, and how to wrap it whole.

The features find code pasted outside a block by the lines of the body's text (see
:func:`askwell.features.signals.pasted_code`); those signals are seeds, not the snippet:
a line with no code punctuation (``import pandas as pd``), a ``for`` header, an indented
line whose indentation Markdown dropped, or the error printed under the code may be left
out. Changing that detection would change the features the model was trained on, so the
edit grows each seed itself, on the source lines as the writer typed them: up and down
over lines that read as code, output or an error message (and the blank or unclear lines
between such lines), never over a line of prose (the lead-in stays outside) and never out
of the paragraph it is in (HTML ``<p>``; Markdown top-level paragraphs, which pasted lines
make, and the blank lines between them).

The wrap is then one fence (Markdown) or one ``<pre><code>`` (HTML) around the whole
region, its characters exactly as typed; in HTML a paragraph holding lead-in prose and
code is split so the ``<pre>`` is not nested in a ``<p>`` (which a browser would close).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from typing import TYPE_CHECKING

from askwell.data.document import looks_like_html
from askwell.features import signals as sig

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

#: Lines that read as code though the feature detector gives them no weight: an import,
#: a block header, a closing bracket.
_IMPORT = re.compile(
    r"(?:import|using|require|library|use)\s+[\w.:]+(?:\s+as\s+\w+)?\s*;?\s*$"
    r"|from\s+[\w.]+\s+import\s+[\w., *()]+$|#include\s*[<\"]|@\w+(?:\(.*\))?\s*$"
)
_BLOCK_HEAD = re.compile(
    r"(?:for|while|if|elif|else|try|except|finally|with|def|class|switch|do|foreach|async"
    r"|catch|fn|func|function|public|private|protected|static)\b[^\n]*[:{]\s*$"
    r"|(?:else|try|finally|do)\s*[:{]?\s*$"
)
#: Lines of commands and output: a command with flags ("samtools view -H x.bam"), a log
#: line ("1486237905: New connection", "[12:01:02] ..."), "key: 12" rows, FASTA or SAM
#: headers (">sample1", "@RG ...").
_OUTPUT = re.compile(
    r"[\w./-]+(?:[ \t]+[\w./<>=\"'“”-]+)*?[ \t]+[-–]{1,2}[A-Za-z]\w*(?:[ \t]|$)"
    r"|\[?\d{2,}[-/:.]\d{2}|\d{6,}:|[\w.-]+:[ \t]*-?\d[\d.,]*[ \t]*$|[>@][A-Za-z]\w*"
)
#: SQL written in capitals ("CREATE TRIGGER x ON DATABASE", "FROM t").
_SQL = re.compile(r"(?:SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|DECLARE|BEGIN|END|FROM"
                  r"|WHERE|JOIN|GROUP BY|ORDER BY|VALUES|SET|GO|AS)\b(?:[^a-z]*|.*[;(),=].*)$"
                  r"|(?:SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP)\b.*\b(?:FROM|INTO|SET|WHERE"
                  r"|TABLE|VALUES|INDEX|VIEW|TRIGGER|PROCEDURE|ON)\b")
#: Columns lined up with runs of spaces ("entity1    0.04    0.68").
_COLUMN_GAP = re.compile(r"\S {2,}(?=\S)")
_CLOSER = re.compile(r"[}\])]+\s*[;,)]*\s*$|end\s*$|fi\s*$|done\s*$|esac\s*$")
_CODE_LINE, _NEUTRAL, _PROSE = 1, 0, -1
#: Inline code the writer marked (Markdown backticks, HTML <code>): that line is prose.
_INLINE_CODE = re.compile(r"`[^`\n]+`|<code>", re.I)
#: Unclear lines a snippet may hold between two lines of code.
_MAX_INNER = 3


def line_role(line: str, html: bool = False) -> int:
    """Code, output or error (1), prose (-1), or unclear (0) for one source line (of HTML
    source when ``html``: entities are read as the characters they stand for)."""
    if html and "&" in line:
        line = unescape(line)
    text = line.strip()
    if not text:
        return _NEUTRAL
    if _INLINE_CODE.search(line):
        return _PROSE  # the writer marked its code inline: a sentence about code, not a paste
    if line[:1] in " \t" and sig.LETTER.match(text) is None:
        return _CODE_LINE  # indented, starting with a non-letter: "    )", "    # x", "  - 1"
    if (sig._code_like(text) or sig._ERROR_LINE.match(text) or _IMPORT.match(text)
            or _BLOCK_HEAD.match(text) or _CLOSER.match(text) or _OUTPUT.match(text) or _SQL.match(text)
            or text.startswith(("File \"", "at ", "Traceback"))):
        return _CODE_LINE
    if text[-1] not in ".?!" and len(_COLUMN_GAP.findall(text)) >= 2:
        return _CODE_LINE  # a row of a table lined up with spaces
    if line[:1] in " \t" and not _is_prose(text):
        return _CODE_LINE  # an indented continuation ("    print x")
    return _PROSE if _is_prose(text) else _NEUTRAL


def _is_prose(text: str) -> bool:
    """Two words or more, ending as a sentence or a lead-in ends."""
    if text[-1] not in ".?!:,":
        return False
    return len(sig._LETTERS.findall(text)) >= 2


@dataclass(frozen=True)
class Place:
    """One wrap: ``source[start:end]`` becomes ``replacement``; ``code`` is the snippet as
    typed, which the block must hold unchanged."""

    start: int
    end: int
    replacement: str
    code: tuple[str, ...]


# -- lines ---------------------------------------------------------------------------
def _lines(text: str, lo: int, hi: int, html: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each line of ``text[lo:hi]`` (without its line break; in HTML a
    ``<br>`` breaks a line too)."""
    out, at = [], lo
    breaks = _LINE_BREAK if html else _NEWLINE
    for m in breaks.finditer(text, lo, hi):
        out.append((at, m.start()))
        at = m.end()
    out.append((at, hi))
    return out


_NEWLINE = re.compile(r"\n")

def _grow(text: str, lines: list[tuple[int, int]], allowed: list[bool], first: int, last: int,
          html: bool = False) -> tuple[int, int]:
    """Widen the seed lines ``first..last`` over neighbouring code lines (see module doc)."""
    roles = [line_role(text[a:b], html) if ok else None
             for (a, b), ok in zip(lines, allowed, strict=True)]

    def walk(start: int, step: int) -> int:
        edge, i, inner = start, start + step, 0
        while 0 <= i < len(lines) and roles[i] is not None and roles[i] != _PROSE:
            if roles[i] == _CODE_LINE:
                edge, inner = i, 0
            else:
                inner += 1
                if inner > _MAX_INNER:
                    break
            i += step
        return edge

    return walk(first, -1), walk(last, 1)


def _line_of(lines: list[tuple[int, int]], at: int) -> int:
    for i, (a, b) in enumerate(lines):
        if a <= at <= b:
            return i
    return -1


def _region(text: str, lines: list[tuple[int, int]], allowed: list[bool], a: int, b: int,
            html: bool = False) -> tuple[int, int] | None:
    """Source region of the seed ``text[a:b]`` grown to whole lines, or None."""
    first, last = _line_of(lines, a), _line_of(lines, max(a, b - 1))
    if first < 0 or last < 0 or not all(allowed[first:last + 1]):
        return None
    lo_line, hi_line = _grow(text, lines, allowed, first, last, html)
    start = lines[lo_line][0]
    if lo_line == first and text[start:a].strip():
        start = a  # lead-in prose on the snippet's first line stays outside
    end = lines[hi_line][1]
    if hi_line == last and text[b:end].strip():
        end = b
    return start, end


def _merged(regions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(regions):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


# -- Markdown ------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _markdown_places(body: str, seeds: list[tuple[int, int]]) -> list[Place]:
    lines = _lines(body, 0, len(body))
    para = [False] * len(lines)
    for token in _md().parse(body):
        if token.level == 0 and token.map and token.type in ("paragraph_open", "heading_open"):
            for i in range(token.map[0], min(token.map[1], len(lines))):
                para[i] = token.type == "paragraph_open" or body[lines[i][0]:lines[i][1]].startswith("#")
    allowed = [p or not body[a:b].strip() for p, (a, b) in zip(para, lines, strict=True)]
    regions = [r for a, b in seeds if (r := _region(body, lines, allowed, a, b)) is not None]
    places = []
    for start, end in _merged(regions):
        code = body[start:end]
        fence = _fence(code)
        before, after = body[:start], body[end:]
        lead = "" if not before or before.endswith("\n\n") else ("\n" if before.endswith("\n") else "\n\n")
        trail = "" if not after or after.startswith("\n\n") else ("\n" if after.startswith("\n") else "\n\n")
        places.append(Place(start, end, f"{lead}{fence}\n{code}\n{fence}{trail}", (code,)))
    return places


def _fence(code: str) -> str:
    """A fence no line of the code can close: ``` unless the code holds one."""
    runs = [len(m.group()) for m in re.finditer(r"^[ \t]*(`{3,}|~{3,})", code, re.M)]
    if not runs:
        return "```"
    return "`" * max(3, max(runs) + 1)


# -- HTML ----------------------------------------------------------------------------
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^>]*>")
#: Tags that end a paragraph (``<br>`` doesn't: it is a line break inside one).
_BLOCK = frozenset(["p", "pre", "div", "li", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4",
                    "h5", "h6", "table", "tr", "td", "th", "hr", "body", "html"])
_LINE_BREAK = re.compile(r"\n|<br\s*/?>", re.I)
_BR_AT_EOL = re.compile(r"<br\s*/?>(?=[ \t]*\r?\n)", re.I)


def _html_places(body: str, seeds: list[tuple[int, int]]) -> list[Place]:
    blocks = [m for m in _TAG.finditer(body) if m.group(2).lower() in _BLOCK]
    by_p: dict[tuple[int, int, int, int], list[tuple[int, int]]] = {}
    loose: list[tuple[int, int]] = []
    for a, b in seeds:
        before = [m for m in blocks if m.end() <= a]
        inside = [m for m in blocks if a < m.end() and m.start() < b]
        after = [m for m in blocks if m.start() >= b]
        if inside:
            continue  # a seed across block tags can't be wrapped where it stands
        opener = before[-1] if before else None
        if opener is None or opener.group(1) or opener.group(2).lower() != "p":
            loose.append((a, b))
            continue
        closer = after[0] if after else None
        content_end = closer.start() if closer else len(body)
        close_end = closer.end() if closer and closer.group(0).lower().startswith("</p") else content_end
        key = (opener.start(), opener.end(), content_end, close_end)
        by_p.setdefault(key, []).append((a, b))
    places = [Place(a, b, f"<pre><code>{_code(body[a:b])}</code></pre>", (body[a:b],))
              for a, b in _merged(loose)]
    for key in _pasted_paragraphs(body, blocks, by_p):
        by_p[key] = [(key[1], key[2])]
    for (p_start, c_start, c_end, close_end), found in by_p.items():
        lines = _lines(body, c_start, c_end, html=True)
        allowed = [True] * len(lines)
        regions = _merged([r for a, b in found if (r := _region(body, lines, allowed, a, b, True))])
        if regions:
            regions = _whole_paragraph(body, lines, regions)
            places.append(_split_paragraph(body, p_start, c_start, c_end, close_end, regions))
    return sorted(places, key=lambda p: p.start)


def _whole_paragraph(body: str, lines: list[tuple[int, int]], regions: list[tuple[int, int]],
                     ) -> list[tuple[int, int]]:
    """A paragraph that is mostly snippet is one snippet: everything but a first or last
    line of prose (the lead-in, a closing remark). Pasted code keeps its blank lines and
    its lines of output, which a line-by-line reading may leave out."""
    filled = [(a, b) for a, b in lines if body[a:b].strip()]
    inside = [ln for ln in filled if any(r0 <= ln[0] and ln[1] <= r1 for r0, r1 in regions)]
    if len(filled) < 2 or 2 * len(inside) < len(filled):
        return regions
    if any(_INLINE_CODE.search(body[a:b]) for a, b in filled if (a, b) not in inside):
        return regions  # a line the writer formatted with inline code is prose, not paste
    first, last = 0, len(filled) - 1
    if first < last and _is_prose(body[filled[first][0]:filled[first][1]].strip()) \
            and filled[first] not in inside:
        first += 1
    if first < last and _is_prose(body[filled[last][0]:filled[last][1]].strip()) \
            and filled[last] not in inside:
        last -= 1
    return [(min(filled[first][0], regions[0][0]), max(filled[last][1], regions[-1][1]))]


def _pasted_paragraphs(body: str, blocks: list[re.Match[str]],
                       found: dict[tuple[int, int, int, int], list[tuple[int, int]]],
                       ) -> list[tuple[int, int, int, int]]:
    """Other ``<p>`` of the body that are pasted lines (two or more, most of them code or
    output, none prose): once a snippet is found, the others the detector missed."""
    out = []
    for i, m in enumerate(blocks):
        if m.group(1) or m.group(2).lower() != "p" or i + 1 >= len(blocks):
            continue
        closer = blocks[i + 1]
        if not closer.group(0).lower().startswith("</p"):
            continue
        key = (m.start(), m.end(), closer.start(), closer.end())
        if key in found or "<" in _LINE_BREAK.sub("", body[m.end():closer.start()]):
            continue
        roles = [line_role(body[a:b], True) for a, b in _lines(body, m.end(), closer.start(), html=True)
                 if body[a:b].strip()]
        if roles and _PROSE not in roles and 2 * roles.count(_CODE_LINE) >= max(len(roles), 2):
            out.append(key)
    return out


def _code(source: str) -> str:
    return _BR_AT_EOL.sub("", source)


def _split_paragraph(body: str, p_start: int, c_start: int, c_end: int, close_end: int,
                     regions: list[tuple[int, int]]) -> Place:
    """One ``<p>`` holding snippets: prose pieces stay paragraphs, each snippet a block."""
    opener, closer = body[p_start:c_start], body[c_end:close_end] or ""
    pieces, last, codes = [], c_start, []
    first, final = regions[0][0], regions[-1][1]
    if not body[c_start:first].strip():
        first = c_start
    if not body[final:c_end].strip():
        final = c_end
    regions = [(first if i == 0 else a, final if i == len(regions) - 1 else b)
               for i, (a, b) in enumerate(regions)]
    for a, b in regions:
        prose = body[last:a]
        if prose.strip():
            pieces.append(f"{opener}{prose}</p>")
        pieces.append(f"<pre><code>{_code(body[a:b])}</code></pre>")
        codes.append(body[a:b])
        last = b
    tail = body[last:c_end]
    if tail.strip():
        pieces.append(f"{opener}{tail}{closer}")
    return Place(p_start, close_end, "".join(pieces), tuple(codes))


# -- entry ---------------------------------------------------------------------------
def wrap_places(body: str, seeds: tuple[tuple[int, int], ...]) -> list[Place]:
    """The wraps for code seeds (source spans of pasted code and error lines), in order."""
    return list(_wrap_places(body, tuple(sorted(seeds))))


@lru_cache(maxsize=256)
def _wrap_places(body: str, seeds: tuple[tuple[int, int], ...]) -> tuple[Place, ...]:
    if looks_like_html(body):
        # with code blocks already there, pasted paragraphs are looked for even when the
        # detector found none: wrapping one snippet leaves those it missed
        if not seeds and "<pre" not in body:
            return ()
        return tuple(_html_places(body, list(seeds)))
    if not seeds:
        return ()
    return tuple(_markdown_places(body, list(seeds)))


def code_regions(body: str, seeds: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """Source spans the wraps would put in a code block (no prose edit may touch them)."""
    out = []
    for place in wrap_places(body, seeds):
        for code in place.code:
            at = body.find(code, place.start, place.end)
            if at >= 0:
                out.append((at, at + len(code)))
    return out
