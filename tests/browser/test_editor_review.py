"""The editor against the writing tools people already use (issue 12 section 2) and the score
a writer can read (issue 11 section 3), end to end in Chromium.

The tests that need the model's real behaviour (highlights, ignore, undo, apply all, the
non-English path, size limits) run against the real app and its packaged model; the ones
about response fields the page must handle (overlapping spans, a site's base rate, the
filter's verdicts) answer ``/v1/analyze`` with a crafted payload, so each field is pinned
whatever the model says.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.live import LiveServer, wait_until

WEAK_TITLE = "URGENT help with python"
WEAK_BODY = "pls help my code dont work!!! i tried everything"
GERMAN_TITLE = "Wie kann ich mein Bier klären"
GERMAN_BODY = ("Ich habe mein Bier vor zwei Wochen abgefüllt und es ist immer noch trüb. "
               "Was kann ich tun, damit es klar wird, ohne den Geschmack zu verändern?")
READY_STATES = ("ready", "abstained", "not_ready")


# ---------------------------------------------------------------------- helpers
def sent(response: Any) -> dict[str, Any]:
    return json.loads(response.request.post_data or "{}")


def analysis_of(page: Any, title: str, body: str, timeout: float = 30) -> dict[str, Any]:
    """The analysis of exactly this text, once the page shows it."""
    response = wait_until(
        lambda: next((r for r in reversed(page.analyses) if r.ok
                      and sent(r).get("title") == title and sent(r).get("body") == body), None),
        timeout=timeout, what=f"the analysis of {title!r}", page=page)
    payload = response.json()
    page.wait_for_function(
        "([t, b, states]) => document.querySelector('#title').value === t"
        " && document.querySelector('#body').value === b"
        " && states.includes(document.querySelector('#analysis').dataset.state)"
        " && document.querySelector('#analysis').getAttribute('aria-busy') === 'false'",
        arg=[title, body, list(READY_STATES)], timeout=10_000)
    return payload


def python_apply(text: str, s: dict[str, Any]) -> str:
    return text[: s["start"]] + s["replacement"] + text[s["start"] + s["length"]:]


def by_id(payload: dict[str, Any], sid: str) -> dict[str, Any]:
    found = [s for s in payload["suggestions"] if s["id"] == sid]
    assert found, f"the model no longer suggests {sid!r}: {[s['id'] for s in payload['suggestions']]}"
    return found[0]


def center(box: dict[str, float]) -> tuple[float, float]:
    return box["x"] + max(box["width"], 1) / 2, box["y"] + box["height"] / 2


def in_viewport(page: Any, selector: str) -> bool:
    return page.evaluate(
        "(sel) => { const r = document.querySelector(sel).getBoundingClientRect();"
        " return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }", selector)


def base_payload(**over: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "request_id": "r-fake-0001", "score": 0.72, "verdict": "fine", "confidence": 0.6,
        "threshold": 0.6, "stats": {"flesch_reading_ease": 70.0, "flesch_kincaid_grade": 6.0,
                                    "words": 12.0, "sentences": 2.0},
        "suggestions": [], "model": {"family": "features", "name": "askwell-test", "version": "1",
                                     "dataset_id": None},
        "warnings": [], "low_confidence": False, "fallback": False, "abstained": False,
        "cached": False, "latency_ms": 1.0,
    }
    payload.update(over)
    return payload


def answer_with(page: Any, make: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Answer every /v1/analyze with ``make(request)``."""
    def handle(route: Any) -> None:
        req = json.loads(route.request.post_data or "{}")
        route.fulfill(status=200, content_type="application/json", body=json.dumps(make(req)))
    page.route("**/v1/analyze", handle)


def suggestion(sid: str, category: str, field: str, start: int, length: int,
               replacement: str | None, gain: float = 0.05) -> dict[str, Any]:
    return {"id": sid, "feature": sid, "message": f"Message of {sid}", "category": category,
            "severity": "medium", "gain": gain, "mechanical": replacement is not None,
            "field": field, "start": start, "length": length, "replacement": replacement,
            "detail": None}


def font_weight(page: Any, selector: str) -> int:
    return int(page.evaluate("(s) => getComputedStyle(document.querySelector(s)).fontWeight", selector))


# ---------------------------------------------------------------------- highlights are live
def test_a_highlight_shows_its_card_on_hover_and_on_the_caret_and_a_click_jumps_to_the_card_and_back(
        page: Any) -> None:
    page.locator("#title").fill(WEAK_TITLE)
    page.locator("#body").fill(WEAK_BODY)
    payload = analysis_of(page, WEAK_TITLE, WEAK_BODY)
    urgency = by_id(payload, "remove_urgency")
    mark = page.locator(f"#title-hl mark[data-id='{urgency['id']}']")
    assert mark.text_content() == WEAK_TITLE[urgency["start"]: urgency["start"] + urgency["length"]]

    # hover: the card of that highlight, with its message and its actions
    page.mouse.move(*center(mark.bounding_box()))
    card = page.locator("#hl-card")
    card.wait_for(state="visible")
    assert urgency["message"] in card.text_content()
    assert card.locator("button.apply").count() == 1 and card.locator("button.ignore").count() == 1
    page.mouse.move(5, 5)
    card.wait_for(state="hidden")

    # keyboard: the caret inside the highlight shows the same card, and the field says so
    page.locator("#title").focus()
    page.keyboard.press("End")
    page.keyboard.press("Home")
    card.wait_for(state="visible")
    assert urgency["message"] in card.text_content()
    described = page.locator("#title").get_attribute("aria-describedby").split()
    assert any(page.locator(f"#{i}").text_content() == urgency["message"] for i in described)
    page.keyboard.press("Alt+ArrowDown")  # into the card's buttons, and Esc back to the text
    assert page.evaluate("() => document.activeElement.closest('#hl-card') !== null")
    page.keyboard.press("Escape")
    card.wait_for(state="hidden")
    assert page.evaluate("() => document.activeElement.id") == "title"

    # click: jump to the suggestion's card in the list ...
    page.mouse.click(*center(mark.bounding_box()))
    listed = page.locator(f"#card-{urgency['id']}")
    page.wait_for_function("(id) => document.getElementById(id).classList.contains('flash')",
                           arg=f"card-{urgency['id']}")
    assert in_viewport(page, f"#card-{urgency['id']}")
    # ... and back: "Show in text" selects the highlighted words in the field
    listed.locator("button.show").click()
    assert page.evaluate("() => document.activeElement.id") == "title"
    assert page.evaluate("() => [document.activeElement.selectionStart, document.activeElement.selectionEnd]") \
        == [urgency["start"], urgency["start"] + urgency["length"]]
    assert page.page_errors == []


def test_overlapping_highlights_are_all_drawn_in_their_category_colours_with_a_legend(page: Any) -> None:
    body = "pls help my code dont work!!! i tried everything"
    spans = [
        suggestion("capitalize", "clarity", "body", 0, 31, "Pls help my code dont work!!! I"),
        suggestion("calm", "tone", "body", 26, 3, "."),
        suggestion("code", "formatting", "body", 12, 9, "`code dont`"),
        suggestion("ask", "expected_outcome", "body", 20, 0, "?"),
        suggestion("context", "context", "body", 0, 48, None),
    ]
    answer_with(page, lambda req: base_payload(suggestions=spans))
    page.locator("#title").fill("How do I?")
    page.locator("#body").fill(body)
    page.wait_for_selector(".backdrop mark[data-id='calm']", state="attached")

    marks = page.evaluate("""() => Array.from(document.querySelectorAll('#body-hl, .backdrop .hl.lane'))
        .flatMap((l) => Array.from(l.querySelectorAll('mark')))
        .map((m) => ({id: m.dataset.id, text: m.textContent,
                      colour: getComputedStyle(m).getPropertyValue('--c').trim()}))""")
    drawn = {m["id"]: m for m in marks}
    assert set(drawn) == {s["id"] for s in spans}, "an overlapping highlight was dropped"
    for s in spans:
        assert drawn[s["id"]]["text"] == body[s["start"]: s["start"] + s["length"]]
    legend = {li["cat"]: li for li in page.evaluate("""() => Array.from(document.querySelectorAll('#legend li[data-category]'))
        .map((li) => ({cat: li.dataset.category, text: li.textContent,
                       colour: getComputedStyle(li).getPropertyValue('--c').trim()}))""")}
    assert set(legend) == {"clarity", "tone", "formatting", "context", "expected_outcome"}
    for s in spans:  # the highlight's colour is its category's, as the legend shows it
        assert drawn[s["id"]]["colour"] == legend[s["category"]]["colour"] != ""
    assert len({legend[c]["colour"] for c in legend}) == 5
    assert "Expected outcome" in legend["expected_outcome"]["text"]

    # the insertion point is a labelled wedge, not a thin caret-like line
    after = page.evaluate("""() => { const m = document.querySelector('mark[data-id="ask"]');
        const a = getComputedStyle(m, '::after'); const b = getComputedStyle(m, '::before');
        return {content: a.content, width: parseFloat(a.width), wedge: b.borderBottomWidth}; }""")
    assert after["content"] == '"+?"'
    assert after["width"] >= 10
    assert after["wedge"] != "0px"
    assert page.page_errors == []


# ---------------------------------------------------------------------- dismiss, undo, apply all
def test_an_ignored_suggestion_stays_hidden_for_this_text_and_can_be_shown_again(
        page: Any, live_app: LiveServer) -> None:
    page.locator("#title").fill(WEAK_TITLE)
    page.locator("#body").fill(WEAK_BODY)
    payload = analysis_of(page, WEAK_TITLE, WEAK_BODY)
    calm = by_id(payload, "calm_punctuation")
    page.locator(f"#card-{calm['id']} button.ignore").click()
    assert page.locator(f"#card-{calm['id']}").count() == 0
    assert page.locator(f".hl mark[data-id='{calm['id']}']").count() == 0
    assert "1 suggestion ignored" in page.locator("#ignored-bar").text_content()
    stored = page.evaluate("() => localStorage.getItem('askwell.ignored.v1')")
    assert stored and "!!!" not in stored and WEAK_BODY not in stored  # a hash, not the text

    # the same text in a new page: still ignored
    page.goto(live_app.url)
    page.analyses.clear()
    page.locator("#title").fill(WEAK_TITLE)
    page.locator("#body").fill(WEAK_BODY)
    analysis_of(page, WEAK_TITLE, WEAK_BODY)
    assert page.locator(f"#card-{calm['id']}").count() == 0
    assert page.locator("#suggestions > li").count() == len(payload["suggestions"]) - 1
    page.locator("#ignored-toggle").click()
    page.locator(f"#ignored li[data-id='{calm['id']}'] button.unignore").click()
    assert page.locator(f"#card-{calm['id']}").count() == 1
    assert page.locator("#ignored-bar").is_hidden()

    # another text: ignoring it there said nothing about this one
    page.locator(f"#card-{calm['id']} button.ignore").click()
    other = "my script crashes!!! it says file not found"
    page.locator("#body").fill(other)
    again = analysis_of(page, WEAK_TITLE, other)
    if any(s["id"] == calm["id"] for s in again["suggestions"]):
        assert page.locator(f"#card-{calm['id']}").count() == 1
    assert page.page_errors == []


def test_an_applied_edit_can_be_undone(page: Any) -> None:
    page.locator("#title").fill(WEAK_TITLE)
    page.locator("#body").fill(WEAK_BODY)
    payload = analysis_of(page, WEAK_TITLE, WEAK_BODY)
    urgency = by_id(payload, "remove_urgency")
    assert page.locator("#undo").is_disabled()
    page.locator(f"#card-{urgency['id']} button.apply").click()
    edited = python_apply(WEAK_TITLE, urgency)
    assert page.locator("#title").input_value() == edited
    analysis_of(page, edited, WEAK_BODY)
    assert "Remove the urgency" in page.locator("#undo").get_attribute("aria-label")

    page.locator("#undo").click()
    assert page.locator("#title").input_value() == WEAK_TITLE
    analysis_of(page, WEAK_TITLE, WEAK_BODY)
    assert page.locator(f"#card-{urgency['id']}").count() == 1
    assert page.locator("#undo").is_disabled()
    assert page.page_errors == []


def test_apply_all_safe_fixes_applies_the_mechanical_ones_in_order_reanalysing_between(page: Any) -> None:
    page.locator("#title").fill(WEAK_TITLE)
    page.locator("#body").fill(WEAK_BODY)
    first = analysis_of(page, WEAK_TITLE, WEAK_BODY)
    safe = [s for s in first["suggestions"] if s["mechanical"] and s.get("replacement") is not None]
    assert len(safe) >= 3, first["suggestions"]
    before = len(page.analyses)
    page.locator("#apply-all").click()
    page.wait_for_function("() => /^Applied \\d+ safe fix/.test(document.querySelector('#action-status').textContent)",
                           timeout=60_000)
    applied = int(page.locator("#action-status").text_content().split()[1])
    assert applied >= 3

    # one edit per step: each request is the previous text with the previous answer's
    # first safe fix applied, in the answer's order, then analysed again
    chain = [(WEAK_TITLE, WEAK_BODY, first)] + [
        (sent(r)["title"], sent(r)["body"], r.json()) for r in page.analyses[before:] if r.ok]
    assert len(chain) == applied + 1, [c[:2] for c in chain]
    for (title, body, answer), (next_title, next_body, _) in itertools.pairwise(chain):
        fix = next(s for s in answer["suggestions"] if s["mechanical"] and s.get("replacement") is not None
                   and s["field"] in ("title", "body"))
        assert (python_apply(title, fix) if fix["field"] == "title" else title) == next_title
        assert (python_apply(body, fix) if fix["field"] == "body" else body) == next_body
    final_title, final_body, final = chain[-1]
    assert "URGENT" not in final_title and "!!!" not in final_body
    assert page.locator("#title").input_value() == final_title
    assert final["score"] > first["score"]
    # each fix can be taken back
    page.locator("#undo").click()
    assert (page.locator("#title").input_value(), page.locator("#body").input_value()) == chain[-2][:2]
    assert page.page_errors == []


# ---------------------------------------------------------------------- phone
def test_on_a_phone_the_score_stays_in_view_while_typing_and_the_suggestions_are_one_tap_away(
        chromium: Any, live_app: LiveServer) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.analyses = []  # type: ignore[attr-defined]
    page.on("response", lambda r: r.url.endswith("/v1/analyze") and page.analyses.append(r))
    try:
        page.goto(live_app.url)
        page.locator("#title").fill(WEAK_TITLE)
        body = WEAK_BODY + "\n\n" + "\n".join(f"line {i} of what i tried" for i in range(40))
        page.locator("#body").fill(body)
        analysis_of(page, WEAK_TITLE, body)
        page.locator("#body").press("Control+End")
        page.locator("#body").press_sequentially(" and more", delay=20)
        typed = body + " and more"
        assert page.evaluate("() => window.scrollY") > 200  # the caret is far down the page
        summary = page.locator("#summary")
        assert summary.is_visible() and in_viewport(page, "#summary")
        assert in_viewport(page, "#body") or page.evaluate(
            "() => document.activeElement.id") == "body"
        payload = analysis_of(page, WEAK_TITLE, typed)
        assert in_viewport(page, "#summary")
        assert page.locator("#sum-score").text_content() == f"{round(payload['score'] * 100)}%"
        assert f"{len(payload['suggestions'])} suggestion" in page.locator("#sum-jump").text_content()

        page.locator("#sum-jump").tap()
        page.wait_for_function("() => { const r = document.querySelector('#suggestions > li').getBoundingClientRect();"
                               " return r.top >= 0 && r.top < window.innerHeight; }")
        assert in_viewport(page, "#summary")

        # a tap on a highlight opens its card where the writer is; the page does not jump
        page.evaluate("() => window.scrollTo(0, 0)")
        mark = page.locator("#title-hl mark").first
        scrolled = page.evaluate("() => window.scrollY")
        page.touchscreen.tap(*center(mark.bounding_box()))
        page.locator("#hl-card").wait_for(state="visible")
        assert page.evaluate("() => window.scrollY") == scrolled
        box = page.locator("#hl-card").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # fits the phone's width
    finally:
        context.close()


@pytest.mark.parametrize("body", [
    "My build fails with this path: " + "a" * 120 + " and I do not know why it is so long.",
    "It fails on this line:\n\n```\nresult = compute(" + ", ".join(f"arg{i}" for i in range(30)) + ")\n```\n\nWhy?",
])
def test_on_a_phone_a_long_word_or_code_line_does_not_widen_the_page(
        chromium: Any, live_app: LiveServer, body: str) -> None:
    """Found by a new user: one 120-letter word or a 160-character code line made the whole
    page 1,100-1,400 px wide on a 375 px phone; code scrolls in its own box instead."""
    context = chromium.new_context(viewport={"width": 375, "height": 800}, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(live_app.url)
        page.locator("#title").fill("Why does file_with_a_very_long_identifier_name_here fail to build?")
        page.locator("#body").fill(body)
        page.wait_for_function("() => document.querySelector('#preview-text').textContent.includes('Why')"
                               " || document.querySelector('#preview-text').textContent.includes('know')")
        page.wait_for_timeout(300)  # let the analysis column fill in too
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


# ---------------------------------------------------------------------- unsure input
def test_non_english_text_gets_one_notice_no_bold_verdict_and_no_english_readability_figures(page: Any) -> None:
    page.locator("#title").fill(GERMAN_TITLE)
    page.locator("#body").fill(GERMAN_BODY)
    payload = analysis_of(page, GERMAN_TITLE, GERMAN_BODY)
    assert payload["abstained"] or payload["verdict"] == "not_ready", payload
    # one message says why there is no verdict: a notice, or the not-ready box, not both
    said = page.locator("#notices .notice").all_text_contents()
    if payload["verdict"] == "not_ready":
        assert said == [] and page.locator("#not-ready").is_visible()
        said = [page.locator("#not-ready").text_content()]
    assert len(said) == 1 and "English" in said[0], said
    assert page.locator("#confidence").text_content() == ""
    assert font_weight(page, "#verdict") < 600 and font_weight(page, "#sum-verdict") < 600
    if payload["verdict"] != "not_ready":
        assert page.locator("#verdict").text_content() == "No verdict"
    if payload.get("stats"):
        labels = page.locator("#stats dt").all_text_contents()
        assert not any("Reading ease" in t or "Grade" in t for t in labels), labels
        assert page.locator("#stats-note").is_visible()


def test_findings_and_the_warnings_that_repeat_them_make_one_notice_each(page: Any) -> None:
    """The service's shape: each input-check finding also arrives as a warning sentence."""
    english = "This does not look like English: askwell was trained on English questions."
    confidence = "The model is not confident either way (confidence 3%), so it gives no verdict."
    short = "Only 4 words of text: too little for a reliable score."
    payload = base_payload(
        abstained=True, low_confidence=True, confidence=0.03,
        warnings=[english, short, confidence],
        findings=[{"code": "not_english", "action": "abstain", "message": english,
                   "advice": "Write the question in English."},
                  {"code": "too_short", "action": "warn", "message": short, "advice": None},
                  {"code": "low_confidence", "action": "abstain", "message": confidence, "advice": None}])
    answer_with(page, lambda req: payload)
    page.locator("#title").fill("Wie kann ich mein Bier klären?")
    page.wait_for_selector("#notices .notice.abstained")
    notices = page.locator("#notices .notice").all_text_contents()
    assert len(notices) == 2, notices  # why there is no verdict, and the short text
    assert english in notices[0] and "Write the question in English." in notices[0]
    assert notices[1] == short
    assert page.locator("#stats-note").is_visible()  # readability hidden: not English
    assert font_weight(page, "#verdict") < 600


@pytest.mark.parametrize("shaky", [
    {"low_confidence": True, "warnings": ["Only 4 words of text: too little for a reliable score."]},
    {"filter": {"outcome": "unsure", "p_question": 0.55, "reason": "unclear",
                "message": "This may not say what the problem is.", "advice": "Add what you tried.",
                "model": "askwell-filter vtest"}},
    {"fallback": True, "low_confidence": True,
     "warnings": ["The model's answer failed a sanity check (x); this analysis comes from the rule-based fallback model."]},
])
def test_a_verdict_next_to_a_warning_that_it_is_unreliable_is_never_bold(page: Any, shaky: dict[str, Any]) -> None:
    answer_with(page, lambda req: base_payload(**shaky) if "shaky" in req["title"] else base_payload())
    page.locator("#body").fill("I tried json.loads on a file object and it fails.")
    page.locator("#title").fill("How do I parse JSON in Python?")
    page.wait_for_function("() => document.querySelector('#verdict').dataset.reliability === 'sure'")
    assert font_weight(page, "#verdict") >= 700  # a sure verdict is bold, so the check can fail

    page.locator("#title").fill("shaky title")
    page.wait_for_function("() => document.querySelector('#verdict').dataset.reliability === 'tentative'")
    assert font_weight(page, "#verdict") < 600
    assert font_weight(page, "#sum-verdict") < 600
    notices = page.locator("#notices .notice").all_text_contents()
    assert len(notices) == 1, notices  # one clear notice, not the same thing twice
    if "filter" in shaky:
        assert "Add what you tried." in notices[0]


# ---------------------------------------------------------------------- preview
def test_the_preview_shows_the_markdown_as_the_site_would_and_runs_nothing(page: Any) -> None:
    answer_with(page, lambda req: base_payload())
    body = ("## What I tried\n\nI ran **this** with `pd.read_csv`:\n\n```python\nfor i in range(3):\n"
            "    print(df[i]['name'])\n```\n\n- first\n- second\n\n> quoted error\n\n"
            "[docs](https://pandas.pydata.org) [bad](javascript:alert(1)) <img src=x onerror=alert(2)>"
            " <script>alert(3)</script>\n\nSee https://example.org/faq.")
    page.locator("#title").fill("How do I <b>loop</b>?")
    page.locator("#body").fill(body)
    page.locator("#tags").fill("python, Pandas")
    preview = page.locator("#preview")
    page.wait_for_function("() => document.querySelector('#preview-text pre code') !== null")
    assert page.locator("#preview-title").text_content() == "How do I <b>loop</b>?"
    assert preview.locator("h5").text_content() == "What I tried"
    assert preview.locator("strong").text_content() == "this"
    assert preview.locator("p code").first.text_content() == "pd.read_csv"
    assert preview.locator("pre code").text_content() == "for i in range(3):\n    print(df[i]['name'])"
    assert page.locator("#preview-text ul li").all_text_contents() == ["first", "second"]
    assert preview.locator("blockquote").text_content().strip() == "quoted error"
    links = preview.locator("a").evaluate_all("(as) => as.map((a) => [a.getAttribute('href'), a.textContent])")
    assert links == [["https://pandas.pydata.org", "docs"], ["https://example.org/faq", "https://example.org/faq"]]
    assert preview.locator("img, script, b").count() == 0
    text = preview.text_content()
    assert "<script>alert(3)</script>" in text and "<img src=x onerror=alert(2)>" in text
    assert page.locator("#preview-tags li").all_text_contents() == ["python", "pandas"]
    assert page.dialogs == [] and page.page_errors == []


# ---------------------------------------------------------------------- messages
def test_errors_are_written_for_people_and_go_away_when_the_text_changes(page: Any) -> None:
    page.locator("#title").fill("How do I read a huge log file?")
    page.locator("#body").fill("x" * 70_000)
    page.wait_for_selector("#error:not([hidden])", timeout=20_000)
    message = page.locator("#error").text_content()
    assert "too long" in message and "30,000" in message, message
    assert "bytes" not in message and "batch" not in message, message

    held: list[Any] = []
    page.route("**/v1/analyze", lambda route: held.append(route))
    page.locator("#body").fill("A short body now.")
    assert page.locator("#error").is_hidden()  # at once, not when the next answer arrives
    wait_until(lambda: held, what="the next request", page=page)
    assert page.locator("#error").is_hidden()
    page.unroute("**/v1/analyze")
    for route in held:
        with contextlib.suppress(Exception):  # the page may have aborted it already
            route.abort()

    page.locator("#tags").fill("a b c d e f g h i j k l")
    page.wait_for_selector("#error:not([hidden])", timeout=20_000)
    assert page.locator("#error").text_content() == "Use at most 10 tags, each at most 64 characters."


def test_the_score_panel_says_what_the_score_means(page: Any) -> None:
    about = page.locator("#about")
    assert about.locator("summary").text_content() == "What the score means"
    about.locator("summary").click()
    text = " ".join(about.text_content().split())
    for needle in ("predicts", "well received", "Stack Exchange data dumps", "Confidence",
                   "logged without your text"):
        assert needle in text, needle
    assert about.get_attribute("open") is not None


# ---------------------------------------------------------------------- the score a writer can read
def test_the_score_is_a_percentage_next_to_the_sites_base_rate_and_its_percentile(page: Any) -> None:
    site = {"name": "beer.stackexchange.com", "known": True, "kind": "main", "base_rate": 0.931,
            "questions": 412}
    answer_with(page, lambda req: base_payload(site=site, percentile=70.4) if req.get("tags") else base_payload())
    page.locator("#title").fill("How do I keep my homebrew from going flat?")
    page.locator("#body").fill("I bottled it two weeks ago with priming sugar and it is still flat.")
    page.wait_for_function("() => document.querySelector('#score').textContent === '72%'")
    # an older payload without the site fields: the score alone, nothing broken
    assert page.locator("#base-rate").text_content() == ""
    assert page.locator("#percentile").text_content() == ""
    assert page.locator("#gauge-base").get_attribute("visibility") == "hidden"

    page.locator("#tags").fill("carbonation")
    page.wait_for_function("() => document.querySelector('#base-rate').textContent !== ''")
    assert page.locator("#score").text_content() == "72%"
    assert page.locator("#gauge").get_attribute("aria-valuenow") == "72"
    assert page.locator("#base-rate").text_content() == "On beer.stackexchange.com, 93% of questions are well received"
    assert page.locator("#percentile").text_content() == \
        "Better received than 70% of questions on beer.stackexchange.com"
    assert page.locator("#gauge-base").get_attribute("visibility") == "visible"
    assert "site average 93%" in page.locator("#sum-verdict").text_content()
    assert "/100" not in page.locator("#analysis").text_content()
    assert page.page_errors == []


def test_the_site_picker_lists_the_models_sites_and_sends_the_choice(chromium: Any, live_app: LiveServer) -> None:
    sites = {"sites": [
        {"name": "beer.stackexchange.com", "kind": "main", "base_rate": 0.93, "questions": 400},
        {"name": "meta.beer.stackexchange.com", "kind": "meta", "base_rate": 0.8, "questions": 50},
        {"name": "writers.stackexchange.com", "kind": "main", "base_rate": 0.9, "questions": 600},
    ], "model": {}}
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.analyses = []  # type: ignore[attr-defined]
    page.on("response", lambda r: r.url.endswith("/v1/analyze") and page.analyses.append(r))
    page.route("**/v1/sites", lambda route: route.fulfill(status=200, content_type="application/json",
                                                           body=json.dumps(sites)))
    try:
        page.goto(live_app.url)
        page.wait_for_selector("#site-row:not([hidden])")
        options = page.locator("#site option").all_text_contents()
        assert options == ["Other / not listed", "beer.stackexchange.com", "writers.stackexchange.com",
                           "meta.beer.stackexchange.com"]
        assert page.locator("#site").evaluate("(s) => s.labels[0].textContent") == "Site"
        assert "1,050 questions" in page.locator("#about-data").text_content()
        page.locator("#title").fill("How do I keep my homebrew from going flat?")
        page.locator("#site").select_option("beer.stackexchange.com")
        wait_until(lambda: any(sent(r).get("site") == "beer.stackexchange.com" for r in page.analyses),
                   what="a request for beer.stackexchange.com", page=page)
        page.locator("#site").select_option("")
        wait_until(lambda: "site" not in sent(page.analyses[-1]), what="a request for no site", page=page)

        # the choice is remembered for the next visit
        page.reload()
        page.wait_for_selector("#site-row:not([hidden])")
        assert page.locator("#site").input_value() == ""
        page.locator("#site").select_option("writers.stackexchange.com")
        page.reload()
        page.wait_for_function("() => document.querySelector('#site').value === 'writers.stackexchange.com'")
    finally:
        context.close()


def test_without_a_site_list_there_is_no_picker_and_no_error(page: Any) -> None:
    page.route("**/v1/sites", lambda route: route.fulfill(status=404, content_type="application/json",
                                                           body='{"error": {"code": "not_found"}}'))
    page.reload()
    page.locator("#title").fill("How do I parse JSON in Python?")
    page.wait_for_function("() => document.querySelector('#analysis').dataset.state !== 'empty'", timeout=20_000)
    assert page.locator("#site-row").is_hidden()
    assert page.locator("#error").is_hidden()
    assert page.page_errors == []


def test_not_ready_shows_the_filters_message_and_advice_instead_of_a_score(page: Any) -> None:
    not_ready = base_payload(
        score=None, percentile=None, confidence=None, verdict="not_ready",
        filter={"outcome": "reject", "p_question": 0.03, "reason": "greeting",
                "message": "This is a greeting, not a question yet.",
                "advice": "Say what you are trying to do, what you tried and what happened.",
                "model": "askwell-filter vtest"},
        site={"name": None, "known": False, "kind": None, "base_rate": 0.9, "questions": 0})
    answer_with(page, lambda req: not_ready)
    page.locator("#title").fill("hi")
    page.locator("#body").fill("hello everyone")
    page.wait_for_selector("#not-ready:not([hidden])")
    assert page.locator("#nr-message").text_content() == "This is a greeting, not a question yet."
    assert page.locator("#nr-advice").text_content() == \
        "Say what you are trying to do, what you tried and what happened."
    assert page.locator("#score-card").is_hidden()
    assert page.locator("#notices .notice").count() == 0  # the box says it; no echo
    assert page.locator("#suggestions > li").count() == 0
    assert "%" not in page.locator("#sum-score").text_content()
    assert "Not ready" in page.locator("#status").text_content()
    assert page.locator("#error").is_hidden()
    assert page.page_errors == []


def test_the_picker_shows_exactly_the_sites_the_served_model_knows(page: Any, live_app: LiveServer) -> None:
    """Against the real service: no list (an older service, or a model without site
    statistics) means no picker; a list means those sites, and a pick reaches the score."""
    got = page.request.get(f"{live_app.url}v1/sites")
    sites = [s["name"] for s in got.json().get("sites", []) if s.get("name")] if got.ok else []
    page.wait_for_load_state("networkidle")
    if not sites:
        assert page.locator("#site-row").is_hidden()
        return
    page.wait_for_selector("#site-row:not([hidden])")
    listed = page.locator("#site option").evaluate_all("(os) => os.map((o) => o.value)")
    assert listed[0] == "" and sorted(listed[1:]) == sorted(sites)
    title, body = "How do I keep my homebrew from going flat?", \
        "I bottled it two weeks ago with priming sugar and it is still flat. What did I miss?"
    page.locator("#site").select_option(sites[0])
    page.locator("#title").fill(title)
    page.locator("#body").fill(body)
    payload = analysis_of(page, title, body)
    assert payload["site"]["name"] == sites[0]
    if payload["verdict"] != "not_ready" and payload["site"].get("base_rate") is not None:
        assert sites[0] in page.locator("#base-rate").text_content()
        assert f"{round(payload['site']['base_rate'] * 100)}%" in page.locator("#base-rate").text_content()


def test_the_preview_survives_hostile_markdown(page: Any) -> None:
    """Deep nesting, unclosed runs and long lines of markers render as text, without a
    script error (each of these once overflowed the stack or took seconds)."""
    answer_with(page, lambda req: base_payload())
    cases = ["http://x.y " * 50, "*" * 20_000, "[" * 20_000, "_a" * 10_000, "> " * 3000 + "deep",
             "- " * 3000 + "x", "  - x\n" * 2000, "**a " * 5000, "`" * 5001 + "x",
             "[a](http://x.y" + ")" * 1000, "<http://x.y>" * 500]
    for text in cases:
        page.evaluate("(t) => { const b = document.querySelector('#body'); b.value = t;"
                      " b.dispatchEvent(new Event('input', {bubbles: true})); }", text)
        page.wait_for_function("() => document.querySelector('#preview-text').childNodes.length > 0")
        assert page.evaluate("() => document.querySelectorAll('#preview script, #preview img').length") == 0
    assert page.page_errors == []
