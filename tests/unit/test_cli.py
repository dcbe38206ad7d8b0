"""The CLI's shape: one ``--json`` flag convention, ``--out`` for files, no import cycle, and
JSON on stdout only from the cli package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.worlds import make_questions


def _commands() -> dict[str, Any]:
    """Every leaf command, by its full name ('data report')."""
    from askwell.cli import app

    root = typer.main.get_command(app)
    found: dict[str, Any] = {}

    def walk(cmd: Any, prefix: str) -> None:
        if hasattr(cmd, "commands"):  # a group (typer vendors its own click)
            for name, sub in cmd.commands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            found[prefix] = cmd

    walk(root, "")
    return found


def test_every_group_and_command_is_registered():
    names = set(_commands())
    assert {"ingest", "quickstart", "data list", "data report", "analyze", "train", "models compare",
            "models list", "models build-default", "models promote", "evaluate", "serve",
            "feedback export"} <= names


def test_json_is_a_flag_everywhere():
    """``--json`` never takes a value (evaluate's JSON file is ``--out``)."""
    with_json = {}
    for name, cmd in _commands().items():
        for param in cmd.params:
            if "--json" in getattr(param, "opts", []):
                with_json[name] = param
    assert "evaluate" in with_json and "analyze" in with_json and "data report" in with_json
    for name, param in with_json.items():
        assert param.is_flag, f"{name}: --json takes a value"


def test_domain_modules_do_not_import_the_cli():
    """The data layer used to import ``askwell.cli`` (a cycle); now nothing outside cli does."""
    code = ("import sys, askwell.data.commands, askwell.models.commands, askwell.evaluation.commands, "
            "askwell.explain.commands, askwell.serving.commands, askwell.quickstart; "
            "print(sorted(m for m in sys.modules if m.startswith('askwell.cli')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    src = Path(__file__).parents[2] / "src" / "askwell"
    offenders = [p for p in src.rglob("*.py") if "cli" not in p.relative_to(src).parts
                 and ("emit_json" in p.read_text() or "from askwell.cli" in p.read_text())]
    assert offenders == []


@pytest.fixture
def model_home(tmp_path, monkeypatch):
    from askwell.models.training import train
    from tests.unit.test_evaluation_report import _store_world

    home = tmp_path / "home"
    ds = _store_world(home, make_questions(400, seed=3, noise=0.15))
    folder = train(ds, "linear", label="grade", split="time", seed=42).model.save(tmp_path / "m")
    monkeypatch.setenv("ASKWELL_HOME", str(home))
    return folder


def test_evaluate_out_writes_the_figures_and_json_prints_them(model_home, tmp_path):
    from askwell.cli import app

    html, figures = tmp_path / "r" / "page.html", tmp_path / "f" / "figures.json"
    result = CliRunner().invoke(app, ["evaluate", str(model_home), "--html", str(html), "--out",
                                      str(figures), "--fast", "--bootstrap", "50", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)  # nothing but JSON on stdout
    written = json.loads(figures.read_text())
    assert printed["files"] == {"html": str(html), "json": str(figures)}
    assert printed["metrics"] == written["metrics"]
    assert html.is_file()
