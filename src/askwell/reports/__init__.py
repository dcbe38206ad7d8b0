"""HTML reports on templates: the data report, the evaluation report, and the ones to come
(monitoring). One Jinja2 environment with autoescape on: every value from data (question
titles, snippets, tags, feature and model names, notes) is escaped by the template engine,
never by hand; only :class:`markupsafe.Markup` built from escaped parts passes through.
Figures come from :mod:`askwell.reports.figures` (PNG data URIs): a page opens offline and
fetches nothing.

Add a report: a template in ``reports/templates/`` (extend ``base.html``), a module that
turns the report's figures into the template's context, and :func:`render`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

__all__ = ["Markup", "escape", "num", "pct", "render"]


def num(value: Any, digits: int = 3) -> str:
    """A number for a table: ints with thousands separators, floats to ``digits`` places,
    ``-`` for missing; never ``-0.00`` (a negative that rounds to zero prints as zero)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return "-"
    text = f"{value:,.{digits}f}"
    return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text


def pct(value: Any, digits: int = 1) -> str:
    """A share as a percentage (``-`` for missing; never ``-0.0%``)."""
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return "-"
    text = f"{value * 100:.{digits}f}%"
    return text[1:] if text.startswith("-") and float(text[1:-1]) == 0 else text


def year(value: Any) -> str:
    """A calendar year as written (``2008``, not ``2,008``)."""
    return "-" if value is None else str(int(value))


@lru_cache(maxsize=1)
def environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("askwell.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=num, pct=pct, year=year)
    return env


def render(template: str, **context: Any) -> str:
    """Render ``reports/templates/<template>`` with ``context`` (autoescaped)."""
    return environment().get_template(template).render(**context)
