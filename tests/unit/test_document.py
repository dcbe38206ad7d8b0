"""parse_html / parse_body: plain text plus located structure, for HTML and Markdown."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from askwell.data.document import (
    SPAN_KINDS,
    Document,
    Span,
    looks_like_html,
    markdown_to_html,
    parse_body,
    parse_html,
)


def covered(doc: Document, kind: str) -> list[str]:
    """The text under every span of ``kind``, in order."""
    return [doc.text[s.start : s.end] for s in doc.spans if s.kind == kind]


# ---------------------------------------------------------------- code
def test_pre_code_is_one_code_block_not_inline_code_too():
    doc = parse_html("<p>Try this:</p><pre><code>x = 1\ny = 2\n</code></pre>")
    assert doc.text == "Try this:\nx = 1\ny = 2"
    assert covered(doc, "code_block") == ["x = 1\ny = 2"]
    assert covered(doc, "inline_code") == []
    assert doc.counts()["code_block"] == 1
    assert doc.code_chars == len("x = 1\ny = 2")


def test_inline_code_keeps_surrounding_sentence():
    doc = parse_html("<p>Call <code>foo()</code> then <code>bar()</code>.</p>")
    assert doc.text == "Call foo() then bar()."
    assert covered(doc, "inline_code") == ["foo()", "bar()"]
    assert covered(doc, "code_block") == []
    assert doc.code_chars == 10


def test_code_block_keeps_indentation_and_blank_lines():
    doc = parse_html("<pre><code>def f():\n    return  1\n\n# end\n</code></pre>")
    assert doc.text == "def f():\n    return  1\n\n# end"
    assert covered(doc, "code_block") == [doc.text]


def test_white_space_outside_code_collapses():
    doc = parse_html("<p>two   spaces\n\tand  a tab</p>")
    assert doc.text == "two spaces and a tab"


def test_soft_breaks_mark_where_the_writers_lines_were_joined():
    doc = parse_html("<p>\n  x = 1\n  y = 2\n</p>\n<p>Hello\n\n world</p><pre>a\nb</pre>")
    assert doc.text == "x = 1 y = 2 \nHello world\na\nb"
    assert [doc.text[:i] for i in doc.soft_breaks] == ["x = 1", "x = 1 y = 2", "x = 1 y = 2 \nHello"]
    assert {doc.text[i] for i in doc.soft_breaks} == {" "}  # the text itself is unchanged


def test_markdown_lines_of_one_paragraph_are_soft_breaks():
    doc = parse_body("first line\nsecond line\n\nnext paragraph")
    assert doc.text == "first line second line\nnext paragraph"
    assert doc.soft_breaks == (len("first line"),)


def test_soft_breaks_where_the_break_joins_a_space_already_written_and_nbsp_kept():
    doc = parse_html("<p>foo <b>\nbar</b></p>")
    assert (doc.text, doc.soft_breaks) == ("foo bar", (3,))
    doc = parse_html("<p>a<b>x</b>\xa0\n<b>y</b></p>")
    assert doc.text == "ax\xa0 y" and doc.soft_breaks == (3,)


def test_line_breaks_between_table_cells_are_not_soft_breaks():
    doc = parse_body("| Function | Result |\n|---|---|\n| f(x) | 1 |\n| g(y) | 2 |")
    assert doc.text == "Function Result \nf(x) 1 \ng(y) 2"
    assert doc.soft_breaks == ()


def test_code_chars_counts_nested_code_once():
    doc = Document(
        "abcdefghij",
        (Span("code_block", 0, 6), Span("inline_code", 2, 4), Span("inline_code", 8, 10)),
    )
    assert doc.code_chars == 6 + 2


# ---------------------------------------------------------------- links, images
def test_link_span_covers_anchor_text():
    doc = parse_html('<p>See <a href="https://example.com/docs">the docs</a> first.</p>')
    assert doc.text == "See the docs first."
    assert covered(doc, "link") == ["the docs"]


def test_image_becomes_its_alt_text_in_brackets():
    doc = parse_html('<p>Before <img src="a.png" alt="wiring diagram"> after</p>')
    assert doc.text == "Before [wiring diagram] after"
    assert covered(doc, "image") == ["[wiring diagram]"]


def test_image_without_alt_is_called_image():
    doc = parse_html('<p><img src="a.png"></p><p><img src="b.png" alt="  "></p>')
    assert covered(doc, "image") == ["[image]", "[image]"]


def test_linked_image_is_both_link_and_image():
    doc = parse_html('<a href="big.png"><img src="small.png" alt="photo"></a>')
    assert covered(doc, "link") == ["[photo]"]
    assert covered(doc, "image") == ["[photo]"]


# ---------------------------------------------------------------- block structure
def test_lists_and_items():
    doc = parse_html("<p>Steps:</p><ol><li>boil</li><li>cool</li></ol><ul><li>hops</li></ul>")
    assert doc.text == "Steps:\nboil\ncool\nhops"
    assert covered(doc, "list") == ["boil\ncool", "hops"]
    assert covered(doc, "list_item") == ["boil", "cool", "hops"]
    counts = doc.counts()
    assert (counts["list"], counts["list_item"]) == (2, 3)


def test_blockquote_and_headings():
    doc = parse_html(
        "<h2>Error</h2><blockquote><p>Cannot convert 'decimal' to 'double'.</p></blockquote>"
        "<h3>What I tried</h3><p>Casting.</p>"
    )
    assert doc.text == "Error\nCannot convert 'decimal' to 'double'.\nWhat I tried\nCasting."
    assert covered(doc, "heading") == ["Error", "What I tried"]
    assert covered(doc, "blockquote") == ["Cannot convert 'decimal' to 'double'."]


def test_paragraphs_and_line_breaks_become_newlines():
    doc = parse_html("<p>one</p><p>two<br>three</p><div>four</div>")
    assert doc.text == "one\ntwo\nthree\nfour"


def test_counts_lists_every_kind_even_when_absent():
    counts = parse_html("<p>plain</p>").counts()
    assert set(counts) == set(SPAN_KINDS)
    assert sum(counts.values()) == 0


def test_spans_are_sorted_by_start_then_outer_first_then_kind():
    doc = parse_html("<ul><li><code>a</code> x</li><li><a href='x'>b</a></li></ul>")
    assert doc.text == "a x\nb"
    assert [(s.kind, s.start, s.end) for s in doc.spans] == [
        ("list", 0, 5),
        ("list_item", 0, 3),
        ("inline_code", 0, 1),
        ("link", 4, 5),  # same extent as its list item: ties go by kind name
        ("list_item", 4, 5),
    ]


def test_spans_json_is_compact_triples():
    doc = parse_html("<p>a <code>b</code></p>")
    assert doc.spans_json() == [["inline_code", 2, 3]]


# ---------------------------------------------------------------- offsets
def test_offsets_point_at_the_right_text_with_non_ascii():
    doc = parse_html(
        "<p>Ça coûte 5 € — 😀 voilà <code>naïve()</code> and "
        '<a href="https://ja.wikipedia.org">日本語のリンク</a></p>'
    )
    assert doc.text == "Ça coûte 5 € — 😀 voilà naïve() and 日本語のリンク"
    (code,) = [s for s in doc.spans if s.kind == "inline_code"]
    (link,) = [s for s in doc.spans if s.kind == "link"]
    assert doc.text[code.start : code.end] == "naïve()"
    assert doc.text[link.start : link.end] == "日本語のリンク"
    assert code.start == doc.text.index("naïve()")  # code points, not UTF-8 bytes


def test_entities_are_decoded_before_offsets():
    doc = parse_html("<p>&lt;div&gt; &amp; <code>a &lt; b</code></p>")
    assert doc.text == "<div> & a < b"
    assert covered(doc, "inline_code") == ["a < b"]


def test_span_edges_drop_white_space():
    doc = parse_html("<p>x <a href='u'>  padded link  </a> y</p>")
    assert covered(doc, "link") == ["padded link"]


# ---------------------------------------------------------------- dropped and broken input
def test_script_and_style_are_dropped_but_their_tail_is_kept():
    doc = parse_html(
        "<p>before<script>alert('x')</script> after</p><style>p{color:red}</style><p>end</p>"
    )
    assert doc.text == "before after\nend"
    assert "alert" not in doc.text and "color" not in doc.text


def test_comments_are_dropped():
    assert parse_html("<p>a<!-- hidden -->b</p>").text == "ab"


@pytest.mark.parametrize("body", ["", "   ", "\n\t", "<!-- only a comment -->", "<p></p>"])
def test_empty_bodies_give_empty_document(body):
    doc = parse_html(body)
    assert doc.text == ""
    assert all(s.start == s.end == 0 for s in doc.spans)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("<p>one<p>two", "one\ntwo"),
        ("</p>stray close</div>", "stray close"),
        ("<ul><li>a<li>b</ul>", "a\nb"),
        ("<html><body><p>full page</p></body></html>", "full page"),
        ("a < b and c > d", "a < b and c > d"),
    ],
)
def test_broken_html_is_read_leniently(body, text):
    assert parse_html(body).text == text


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("<html>", ""),
        ("<html><frameset></frameset></html>", ""),
        ("<!doctype html><html><head><title>t</title></head></html>", ""),
        ("<!DOCTYPE html><p>after a doctype</p>", "after a doctype"),
        ("<html><body><p>a page</p></body></html>", "a page"),
    ],
)
def test_whole_pages_and_pages_without_body(body, text):
    assert parse_html(body).text == text


def test_blank_lead_text_is_dropped_even_when_it_is_nbsp():
    assert parse_html("\u00a0<p>\u00a0x</p>").text == "\u00a0x"
    assert [line.strip() for line in parse_html("lead <p>para</p>").text.splitlines()] == [
        "lead", "para"]


def test_unclosed_pre_still_counts_as_code_block():
    doc = parse_html("<p>see</p><pre><code>x = 1")
    assert covered(doc, "code_block") == ["x = 1"]


# ---------------------------------------------------------------- Markdown
def test_markdown_body_is_rendered_then_parsed():
    md = (
        "# Title\n\nCall `foo()` here.\n\n    indented code\n\n```\nfenced\n```\n\n"
        "> a quote\n\n- one\n- two\n\n[docs](https://example.com) ![pic](p.png)\n"
    )
    doc = parse_body(md)
    assert covered(doc, "heading") == ["Title"]
    assert covered(doc, "inline_code") == ["foo()"]
    assert covered(doc, "code_block") == ["indented code", "fenced"]
    assert covered(doc, "blockquote") == ["a quote"]
    assert covered(doc, "list_item") == ["one", "two"]
    assert covered(doc, "link") == ["docs"]
    assert covered(doc, "image") == ["[pic]"]
    assert "#" not in doc.text and "`" not in doc.text


def test_markdown_raw_html_stays_text_never_markup():
    doc = parse_body("Please help <script>alert(1)</script> me")
    # The body looks like HTML only through <script>, which is not a structure hint.
    assert not looks_like_html("Please help <script>alert(1)</script> me")
    assert "<script>alert(1)</script>" in doc.text
    assert "<script>" not in markdown_to_html("<script>x</script>")


def test_html_body_is_not_rendered_as_markdown():
    body = "<p>Use *args here</p><pre><code>def f(*args): ...</code></pre>"
    assert looks_like_html(body)
    doc = parse_body(body)
    assert doc.text == "Use *args here\ndef f(*args): ..."
    assert covered(doc, "code_block") == ["def f(*args): ..."]


def test_plain_text_is_one_paragraph():
    assert parse_body("just words, no markup").text == "just words, no markup"


# ---------------------------------------------------------------- properties
_TAGS = ["p", "pre", "code", "a", "img", "ul", "ol", "li", "blockquote", "h1", "h3", "div",
         "br", "script", "style", "b", "span", "table", "tr", "td"]
_fragment = st.recursive(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    lambda inner: st.builds(
        lambda tag, kids, close, attr: f"<{tag}{attr}>{''.join(kids)}" + (f"</{tag}>" if close else ""),
        st.sampled_from(_TAGS),
        st.lists(inner, max_size=4),
        st.booleans(),
        st.sampled_from(["", ' href="x"', ' alt="é 😀"', " class=a"]),
    ),
    max_leaves=20,
)


def _check_invariants(doc: Document) -> None:
    n = len(doc.text)
    assert doc.text == doc.text.rstrip()
    for s in doc.spans:
        assert s.kind in SPAN_KINDS
        assert 0 <= s.start <= s.end <= n
        covered_text = doc.text[s.start : s.end]
        assert covered_text == covered_text.strip()
    keys = [(s.start, -s.end, s.kind) for s in doc.spans]
    assert keys == sorted(keys)
    assert list(doc.soft_breaks) == sorted(set(doc.soft_breaks))
    assert all(doc.text[i] == " " for i in doc.soft_breaks)
    assert 0 <= doc.code_chars <= n


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_fragment, max_size=5).map("".join))
def test_parse_html_never_raises_and_spans_stay_in_bounds(body):
    _check_invariants(parse_html(body))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parse_body_never_raises_on_any_text(body):
    _check_invariants(parse_body(body))
