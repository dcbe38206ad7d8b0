"""Run a coroutine to completion from a test, whatever else the test process runs.

Playwright's sync API (the browser tests, in the same pytest process) keeps an event loop
running in the main thread, and ``asyncio.run`` refuses to start inside a running loop; a
short-lived thread has no loop of its own, so the coroutine always gets a fresh one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
