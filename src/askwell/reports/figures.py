"""The one figure helper of every report: a Matplotlib figure -> an embedded PNG with real
alt text, and the reports' colours.

Colours: good/bad use the Okabe-Ito palette (blue vs orange/vermillion), which stays
distinguishable with every common colour-vision deficiency (red/green does not).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

#: Okabe & Ito (2008), "Color Universal Design".
GOOD = "#0072B2"      # blue
BAD = "#D55E00"       # vermillion
NEUTRAL = "#999999"   # grey
ACCENT = "#E69F00"    # orange
OTHER = "#56B4E9"     # sky blue
CLASS_COLOURS = {"good": GOOD, "bad": BAD, "neutral": NEUTRAL}

_PREFIX = "data:image/png;base64,"


class FigureError(ValueError):
    """Something other than an embedded PNG was offered as a figure."""


@dataclass(frozen=True)
class Embedded:
    """A figure ready for a page: its PNG data URI and what it shows, in words."""

    uri: str
    alt: str

    def __post_init__(self) -> None:
        # A real check (an ``assert`` would vanish under ``python -O``): only PNG data
        # URIs made here may reach a page's ``src`` attribute.
        if not self.uri.startswith(_PREFIX) or any(c in self.uri for c in "\"'<> "):
            raise FigureError("a report figure must be a base64 PNG data URI")
        if not self.alt.strip():
            raise FigureError("a report figure needs alt text that says what it shows")

    def __html__(self) -> str:
        return f'<img src="{self.uri}" alt="{escape(self.alt)}">'


def png_uri(fig: Any, dpi: int = 96, tight: bool = True) -> str:
    """A Matplotlib figure as a PNG data URI (no timestamp or software metadata)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if fig.canvas is None or type(fig.canvas).__name__ == "FigureCanvasBase":
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None,
                metadata={"Software": None})
    return _PREFIX + base64.b64encode(buf.getvalue()).decode("ascii")


def embed(fig: Any, alt: str) -> Embedded:
    return Embedded(png_uri(fig), alt)


def draw(alt: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Markup:
    """``fn(*args)`` -> an ``<img>`` with ``alt``, or a note when the figure can't be drawn
    (one failing figure must not lose the rest of a report). ``fn`` returns a Matplotlib
    figure or a PNG data URI."""
    try:
        made = fn(*args, **kwargs)
        figure = Embedded(made, alt) if isinstance(made, str) else embed(made, alt)
        return Markup(figure.__html__())
    except Exception as exc:
        return Markup('<p class="skipped">') + escape(
            f"({alt} could not be drawn: {type(exc).__name__}: {exc})") + Markup("</p>")
