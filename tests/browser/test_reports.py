"""Reports and API docs in the real browser (Debian Chromium through Playwright)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.live import LiveServer


def test_evaluation_report_fits_a_1280px_window_and_every_section_is_reachable(chromium: Any,
                                                                               tmp_path: Path) -> None:
    """The navigation wraps: the page is no wider than the window, and the last link works."""
    from askwell.reports.evaluation import SECTIONS, render_html
    from tests.unit.test_reports import _evaluation_report

    page_file = tmp_path / "evaluation.html"
    page_file.write_text(render_html(_evaluation_report()), encoding="utf-8")
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        links = page.locator("nav a")
        assert links.count() == len(SECTIONS)
        last = links.nth(len(SECTIONS) - 1)
        box = last.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1280
        last.click()
        target = SECTIONS[-1][0]
        page.wait_for_function(
            f"Math.abs(document.getElementById('{target}').getBoundingClientRect().top) < 400")
        assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    finally:
        context.close()


def test_redoc_and_docs_fetch_nothing_from_the_internet(chromium: Any, live_app: LiveServer) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        for path, ready in (("/redoc", ".menu-content"), ("/docs", ".swagger-ui")):
            page = context.new_page()
            requests: list[str] = []
            page.on("request", lambda r, seen=requests: seen.append(r.url))
            page.goto(live_app.url.rstrip("/") + path)
            page.wait_for_selector(ready, timeout=30_000)
            page.wait_for_load_state("networkidle")
            outside = [u for u in requests if not u.startswith((live_app.url, "data:", "blob:"))]
            assert outside == [], (path, outside)
            page.close()
    finally:
        context.close()
