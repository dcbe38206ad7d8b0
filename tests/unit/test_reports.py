"""The reports package: one Jinja2 stack (autoescape), one figure helper, and the issue-12
fixes that every report gets: real alt text, years as written, labelled axes, a colour-
blind-safe palette, no "-0.00", findings with a status."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from askwell.reports import figures as figs
from askwell.reports import num, pct, year

OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000", "#999999"}


def test_numbers_never_print_negative_zero():
    assert num(-0.0001) == "0.000" and num(-0.0) == "0.000" and num(-0.004, 2) == "0.00"
    assert num(-0.006, 2) == "-0.01" and num(-1234.5, 1) == "-1,234.5" and num(1234) == "1,234"
    assert pct(-0.0001) == "0.0%" and pct(-0.02) == "-2.0%"
    assert num(None) == "-" and num(float("nan")) == "-" and pct(None) == "-"


def test_years_print_as_written():
    assert year(2008) == "2008" and year(2008.0) == "2008" and num(2008) == "2,008"


def test_figure_helper_checks_for_real_no_assert():
    """``python -O`` strips asserts; the figure check is a real one."""
    with pytest.raises(figs.FigureError):
        figs.Embedded('javascript:alert(1)" onerror="x', "a chart of things")
    with pytest.raises(figs.FigureError):
        figs.Embedded("data:image/png;base64,AAAA", " ")
    ok = figs.Embedded("data:image/png;base64,AAAA", 'share of "good" <questions>')
    assert ok.__html__() == '<img src="data:image/png;base64,AAAA" alt="share of &#34;good&#34; &lt;questions&gt;">'
    broken = figs.draw("a figure that fails", lambda: 1 / 0)
    assert "could not be drawn" in broken and "<img" not in broken


def test_good_and_bad_are_colour_blind_safe():
    from askwell.evaluation import plots
    from askwell.reports.figures import CLASS_COLOURS

    assert set(CLASS_COLOURS.values()) <= OKABE_ITO
    assert plots.GOOD == figs.GOOD and plots.BAD == figs.BAD
    text = (Path(figs.__file__).parent / "templates" / "report.css").read_text(encoding="utf-8")
    assert "#2b7a3d" not in text and "#b2362b" not in text  # the old green/red pair


def _capture_axes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every Matplotlib figure a report embeds, through the one figure helper."""
    seen: list[Any] = []
    real = figs.png_uri

    def spy(fig: Any, *args: Any, **kwargs: Any) -> str:
        seen.append(fig)
        return real(fig, *args, **kwargs)

    monkeypatch.setattr(figs, "png_uri", spy)
    return seen


def _unlabelled(figures: list[Any]) -> list[str]:
    missing = []
    for fig in figures:
        for ax in fig.axes:
            title = ax.get_title() or (fig.axes[0].get_title() if fig.axes else "")
            if not ax.get_xlabel() and ax.get_shared_x_axes().get_siblings(ax) == [ax]:
                missing.append(f"{title}: x")
            if not ax.get_ylabel():
                missing.append(f"{title}: y")
    return missing


def test_every_axis_of_the_evaluation_report_is_labelled(monkeypatch):
    from askwell.reports.evaluation import render_html

    report = _evaluation_report()
    figures = _capture_axes(monkeypatch)
    page = render_html(report)
    assert len(figures) >= 10
    assert _unlabelled(figures) == []
    assert 'alt="plot"' not in page and "could not be drawn" not in page
    assert not re.search(r">-0\.0+<", page)


def test_every_axis_of_the_data_report_is_labelled(monkeypatch):
    from askwell.data.report import build_report
    from askwell.reports.data import render_html
    from tests.unit.test_report import dataset_frame

    report = build_report(dataset_frame(), label="book", seed=1,
                          dataset_meta={"id": "d1", "created": "2024-01-01", "rows": 0, "sites": []})
    figures = _capture_axes(monkeypatch)
    page = render_html(report)
    assert len(figures) >= 4
    assert _unlabelled(figures) == []
    years = [y["year"] for y in report["quantity"]["by_year"]]
    assert years and all(f"<td>{y}</td>" in page for y in years)
    assert not any(f"{y:,}" in page for y in years if y >= 1000)


def test_findings_carry_a_status():
    from askwell.reports.evaluation import render_html

    report = _evaluation_report()
    findings = report["findings"]
    assert findings and {f["status"] for f in findings} <= {"pass", "warn", "fail"}
    assert [f["text"] for f in findings][:3] == report["headline"][:3]
    page = render_html(report)
    for f in findings:
        assert f'<span class="status {f["status"]}">{f["status"]}</span>' in page
    flagged = dict(report, leakage={**report["leakage"], "flagged": ["x"], "text": "Leakage alarm: x."})
    from askwell.evaluation.evaluate import _findings

    assert {"section": "leakage", "status": "fail", "text": "Leakage alarm: x."} in _findings(flagged)


def test_data_report_findings_carry_a_status():
    from askwell.data.report import build_report
    from tests.unit.test_report import dataset_frame

    report = build_report(dataset_frame(), label="book", seed=1,
                          dataset_meta={"id": "d1", "created": "2024-01-01", "rows": 0, "sites": []})
    assert report["findings"]
    assert all(set(f) == {"status", "text"} and f["status"] in {"pass", "warn", "fail"}
               for f in report["findings"])


_CACHE: dict[str, Any] = {}


def _evaluation_report() -> dict[str, Any]:
    if "report" not in _CACHE:
        from askwell.evaluation.evaluate import EvaluationConfig, Subject, evaluate
        from askwell.models.training import prepare, train_on
        from tests.worlds import make_questions

        data = prepare(make_questions(500, seed=11, noise=0.15), label="grade", split="time", seed=42)
        model = train_on(data, "linear", measure_latency=False).model
        other = train_on(data, "linear", params={"C": 0.05}, measure_latency=False).model
        _CACHE["report"] = evaluate(Subject("toy-linear", model), data,
                                    config=EvaluationConfig(n_boot=100, cv=3, top_k=3),
                                    against=[Subject("toy-linear-weak", other, seen_ids=set())])
    return _CACHE["report"]
