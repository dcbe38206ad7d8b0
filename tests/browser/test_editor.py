"""The web editor end to end: the real app, a real headless Chromium, the real database."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.live import LiveServer, wait_until

WEAK_TITLE = "urgent help with code 😀"
WEAK_BODY = "Pls help 🐍 my code dont work!!! It crashes"


def type_question(page: Any, title: str, body: str, tags: str = "") -> None:
    page.locator("#title").press_sequentially(title, delay=15)
    page.locator("#body").press_sequentially(body, delay=15)
    if tags:
        page.locator("#tags").press_sequentially(tags, delay=15)


def sent(response: Any) -> dict[str, Any]:
    return json.loads(response.request.post_data or "{}")


def wait_for_analysis_of(page: Any, title: str, body: str) -> dict[str, Any]:
    """The analysis response for exactly this text, once the page has rendered it."""
    response = wait_until(
        lambda: next((r for r in reversed(page.analyses) if r.ok
                      and sent(r).get("title") == title and sent(r).get("body") == body), None),
        timeout=30, what=f"the analysis of {title!r}", page=page)
    payload = response.json()
    page.wait_for_function(
        "(n) => document.querySelector('#gauge').getAttribute('aria-valuenow') === String(n)"
        " && document.querySelector('#analysis').dataset.state !== 'stale'"
        " && document.querySelector('#analysis').getAttribute('aria-busy') === 'false'",
        arg=round(payload["score"] * 100), timeout=10_000,
    )
    return payload


def python_apply(text: str, s: dict[str, Any]) -> str:
    """The edit as the API defines it: Python str indices."""
    return text[: s["start"]] + s["replacement"] + text[s["start"] + s["length"]:]


def feedback_rows(app: Any, request_id: str) -> list[dict[str, Any]]:
    """Feedback stored for ``request_id``, read through the backend's store API."""
    from askwell.serving.store import feedback_frame

    frame = feedback_frame(app.state.settings.db_url)
    return frame[frame["request_id"] == request_id].to_dict("records")


def test_weak_question_gets_suggestions_an_applied_fix_raises_the_score_and_feedback_is_stored(
    page: Any, live_app: LiveServer, home: Path
) -> None:
    type_question(page, WEAK_TITLE, WEAK_BODY)
    first = wait_for_analysis_of(page, WEAK_TITLE, WEAK_BODY)

    assert first["verdict"] in {"at_risk", "likely_closed"}, first
    cards = page.locator("#suggestions > li")
    assert cards.count() == len(first["suggestions"]) > 0
    assert page.locator("#verdict").text_content().strip() != ""
    assert page.locator("#stats dd").count() >= 4
    dash = page.evaluate("() => getComputedStyle(document.querySelector('#gauge-fill')).strokeDasharray")
    assert float(dash.split(",")[0].removesuffix("px")) == pytest.approx(first["score"] * 100, abs=0.01)
    gains = [s["gain"] for s in first["suggestions"]]
    assert cards.first.locator(".gain").text_content() == f"+{gains[0] * 100:.1f} pts"

    # highlights sit on the text each suggestion is about (code points -> UTF-16)
    located = [s for s in first["suggestions"] if s.get("field") in {"title", "body"}
               and s.get("start") is not None and s.get("length")]
    for s in located:
        mark = page.locator(f"#{s['field']}-hl mark[data-id='{s['id']}']")
        text = (WEAK_TITLE if s["field"] == "title" else WEAK_BODY)
        assert mark.text_content() == text[s["start"]: s["start"] + s["length"]]

    # apply the mechanical fix that lies furthest into the body, past the emoji
    mechanical = [s for s in first["suggestions"] if s.get("replacement") is not None
                  and s.get("field") in {"title", "body"}]
    assert mechanical, "a weak question should get at least one one-click fix"
    chosen = max(mechanical, key=lambda s: (s["field"] == "body", s["start"]))
    before = page.locator("#gauge").get_attribute("aria-valuenow")
    field = chosen["field"]
    expected_title = python_apply(WEAK_TITLE, chosen) if field == "title" else WEAK_TITLE
    expected_body = python_apply(WEAK_BODY, chosen) if field == "body" else WEAK_BODY

    with page.expect_request(lambda r: r.url.endswith("/v1/feedback")
                             and json.loads(r.post_data or "{}").get("kind") == "applied"):
        page.locator(f"#suggestions > li[data-id='{chosen['id']}'] button.apply").click()
    assert page.locator("#title").input_value() == expected_title
    assert page.locator("#body").input_value() == expected_body

    second = wait_for_analysis_of(page, expected_title, expected_body)
    assert second["score"] > first["score"]
    assert int(page.locator("#gauge").get_attribute("aria-valuenow")) >= int(before)
    assert "▲" in page.locator("#delta").text_content()

    # helpful feedback on the top suggestion of the analysis on screen
    if not second["suggestions"]:
        pytest.fail(f"no suggestion left to rate after applying {chosen['id']}: {second}")
    top = page.locator("#suggestions > li").first
    with page.expect_response(lambda r: r.url.endswith("/v1/feedback")
                              and json.loads(r.request.post_data or "{}").get("kind") == "helpful") as fb:
        top.locator("button.fb.helpful").click()
    assert fb.value.status == 201
    page.wait_for_function("() => document.querySelector('#suggestions > li button.fb.helpful')"
                           ".getAttribute('aria-pressed') === 'true'")

    live_app.stop()  # a clean shutdown must flush the feedback still buffered
    assert live_app.app.state.settings.db_url.startswith(f"sqlite:///{home.resolve().as_posix()}")
    rows = wait_until(lambda: feedback_rows(live_app.app, second["request_id"]), what="the feedback row")
    kinds = {r.get("kind") for r in rows}
    assert "helpful" in kinds, rows
    assert any(r.get("suggestion_id") == second["suggestions"][0]["id"] for r in rows if r.get("kind") == "helpful")
    applied = feedback_rows(live_app.app, first["request_id"])
    assert {"applied", "reanalyzed"} <= {r.get("kind") for r in applied}, applied
    assert page.page_errors == []


def test_markup_in_the_title_is_rendered_as_text_never_as_an_element(page: Any) -> None:
    evil = "<img src=x onerror=alert(1)> urgent help"
    body = "pls help <script>alert(2)</script> my code dont work!!! It crashes every time."
    type_question(page, evil, body)
    payload = wait_for_analysis_of(page, evil, body)

    assert page.locator("img").count() == 0
    assert page.locator("script:not([src])").count() == 0
    assert page.dialogs == []
    # the title's text reaches the highlight layer, as text
    assert page.locator("#title-hl").text_content() == evil
    shown = page.locator("#analysis").text_content()
    for s in payload["suggestions"]:
        assert s["message"] in shown
    assert page.page_errors == []


def test_a_failed_request_shows_a_message_and_the_page_keeps_working(page: Any) -> None:
    def fail(route: Any) -> None:
        route.fulfill(status=500, content_type="application/json",
                      body=json.dumps({"error": {"code": "internal", "message": "Something broke (request r1).",
                                                 "request_id": "r1"}}))

    page.route("**/v1/analyze", fail)
    type_question(page, "How do I parse JSON in Python?", "I tried json.loads and it fails.")
    page.wait_for_selector("#error:not([hidden])")
    assert page.locator("#error").text_content() == "Something broke (request r1)."

    page.unroute("**/v1/analyze")
    page.locator("#body").press_sequentially(" Why?", delay=15)
    wait_for_analysis_of(page, "How do I parse JSON in Python?", "I tried json.loads and it fails. Why?")
    assert page.locator("#error").is_hidden()
    assert page.page_errors == []


def test_a_late_answer_to_an_older_text_is_never_rendered(page: Any) -> None:
    held: list[Any] = []

    def hold_first(route: Any) -> None:
        if not held:
            held.append(route)  # answered later, after the text has changed
        else:
            route.continue_()

    page.route("**/v1/analyze", hold_first)
    page.locator("#title").fill("How do I parse JSON?")
    wait_until(lambda: held, what="the first request", page=page)
    page.locator("#body").fill("I tried json.loads on a file object and get a TypeError.")
    current = wait_for_analysis_of(page, "How do I parse JSON?",
                                   "I tried json.loads on a file object and get a TypeError.")
    # The page aborts the request of an older text as soon as the text changes (a real
    # event, not a sleep): its answer can never reach the page.
    failure = wait_until(lambda: held[0].request.failure, what="the stale request to be aborted", page=page)
    assert "ABORTED" in failure.upper(), failure
    stale = {**current, "score": 0.99, "verdict": "strong", "request_id": "stale",
             "suggestions": [], "stats": current["stats"]}
    with contextlib.suppress(Exception):  # answering an aborted request fails: that is the point
        held[0].fulfill(status=200, content_type="application/json", body=json.dumps(stale))
    assert len(held) == 1
    assert page.locator("#gauge").get_attribute("aria-valuenow") == str(round(current["score"] * 100))
    assert page.locator("#verdict").get_attribute("data-verdict") != "strong" or current["verdict"] == "strong"


def test_the_page_uses_no_external_asset_and_labels_every_field(page: Any, live_app: LiveServer) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.reload()
    page.wait_for_load_state("networkidle")
    assert requested and all(u.startswith(live_app.url) for u in requested), requested
    for field in ("title", "body", "tags"):
        assert page.get_by_label(field.capitalize(), exact=False).first.get_attribute("id") == field
    assert page.locator("#gauge[role='meter']").count() == 1


def test_warnings_fallback_and_abstention_are_shown_plainly(page: Any) -> None:
    abstained = {
        "request_id": "r-abstain", "score": 0.47, "verdict": "at_risk", "confidence": 0.04,
        "threshold": 0.5, "stats": {"words": 9.0, "sentences": 1.0},
        "suggestions": [], "model": {"family": "heuristic", "name": "askwell-heuristic",
                                      "version": "1", "dataset_id": None},
        "warnings": ["This looks far from the questions the model learned from."],
        "low_confidence": True, "fallback": True, "abstained": True,
        "cached": False, "latency_ms": 2.0,
    }
    page.route("**/v1/analyze", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(abstained)))
    page.locator("#title").fill("qwzx vbnm")
    page.wait_for_selector("#notices .notice.abstained")

    notices = page.locator("#notices").text_content()
    assert "fallback model" in notices
    assert "No verdict" in notices
    assert abstained["warnings"][0] in notices
    assert page.locator("#verdict").text_content() == "No verdict"
    assert page.locator("#gauge").get_attribute("data-verdict") == "none"
    assert page.locator("#no-suggestions").is_visible()
    assert page.locator("#stats dd").count() == 2
    assert page.locator("#verdict-wrong").is_hidden()
