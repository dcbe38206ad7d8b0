"""Serving an app on loopback for browser tests, and waiting for things to happen."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any


class LiveServer:
    """Runs an ASGI app with uvicorn in a thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.app = app
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="askwell-live-server", daemon=True)

    def start(self, timeout: float = 60.0) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the app failed to start; see the log above")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start within {timeout:.0f} s")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """A clean shutdown: the app's lifespan shutdown (log flushes) runs to the end."""
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout)
        self._sock.close()


def wait_until(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition",
               page: Any = None) -> Any:
    """Poll ``check`` until it is truthy. With ``page``, waits through Playwright so the
    page's events keep being dispatched while we wait."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        if page is not None:
            page.wait_for_timeout(50)
        else:
            time.sleep(0.1)
