"""A real app on a loopback port and Debian's Chromium driven by Playwright.

The browser tests skip when Chromium or Playwright is missing (``bash scripts/browser.sh``
installs Chromium) and fail instead when ASKWELL_REQUIRE_REAL_DATA=1, as in CI. Playwright
never downloads a browser here: it drives /usr/bin/chromium through its executable path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.live import LiveServer

CHROMIUM = Path(os.environ.get("ASKWELL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("ASKWELL_REQUIRE_REAL_DATA") == "1":
        pytest.fail(f"{reason} and ASKWELL_REQUIRE_REAL_DATA=1; run `bash scripts/browser.sh`")
    pytest.skip(f"{reason}; run `bash scripts/browser.sh` to install it")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session (Debian's build, never a downloaded one)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the `playwright` Python package is not installed")
    if not CHROMIUM.is_file():
        _skip_or_fail(f"Chromium not found at {CHROMIUM}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ASKWELL_HOME: the app keeps its SQLite log and feedback there."""
    home = tmp_path / "askwell-home"
    monkeypatch.setenv("ASKWELL_HOME", str(home))
    for var in ("ASKWELL_DB", "ASKWELL_CACHE", "ASKWELL_MODEL", "ASKWELL_MODEL_PATH",
                "ASKWELL_TRACKING_URI", "ASKWELL_ADMIN_TOKEN", "ASKWELL_RATE_LIMIT"):
        monkeypatch.delenv(var, raising=False)  # SQLite in home, in-process cache, packaged model
    return home


@pytest.fixture()
def live_app(home: Path) -> Iterator[LiveServer]:
    """The real app (``create_app``) with the embedded defaults, served on loopback."""
    from askwell.config import Settings
    from askwell.serving.app import create_app

    app = create_app(Settings(home=home))
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture()
def page(chromium: Any, live_app: LiveServer) -> Iterator[Any]:
    """A fresh page on the editor.

    Dialogs (alert) are recorded and dismissed, uncaught script errors recorded in
    ``page.page_errors``, and every /v1/analyze response kept in ``page.analyses``.
    """
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.dialogs = []  # type: ignore[attr-defined]

    def on_dialog(dialog: Any) -> None:
        pg.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.page_errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.page_errors.append(str(e)))  # type: ignore[attr-defined]
    pg.analyses = []  # type: ignore[attr-defined]
    pg.on("response", lambda r: r.url.endswith("/v1/analyze") and pg.analyses.append(r))  # type: ignore[attr-defined]
    pg.goto(live_app.url)
    yield pg
    context.close()
