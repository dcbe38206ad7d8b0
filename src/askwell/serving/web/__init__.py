"""The web editor: static files (no build step, no external asset) and the ``/`` page.

``mount(app)`` serves ``index.html`` at ``/`` and the assets under ``/static``. The page
talks to the API with relative URLs (``v1/analyze``), so it also works behind a proxy
that serves the app under a path prefix.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

WEB_DIR = Path(__file__).resolve().parent
#: Only these files are served from WEB_DIR (not the Python module beside them).
ASSET_SUFFIXES = frozenset({".html", ".js", ".css", ".svg", ".png", ".ico"})

#: The page needs nothing but its own origin; inline scripts and foreign hosts are refused,
#: a second guard (after textContent-only rendering) against injected markup.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def mount(app: Any, static_path: str = "/static") -> None:
    """Serve the editor on ``app`` (a FastAPI app): ``GET /`` and ``{static_path}/*``."""
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    class Assets(StaticFiles):
        def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
            if Path(path).suffix not in ASSET_SUFFIXES:
                return "", None
            return super().lookup_path(path)

    app.mount(static_path, Assets(directory=WEB_DIR), name="web")

    @app.get("/", include_in_schema=False)
    def editor_page() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)
