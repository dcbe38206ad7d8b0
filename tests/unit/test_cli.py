"""The CLI's shape: one ``--json`` flag convention, ``--out`` for files, no import cycle, and
JSON on stdout only from the cli package."""

from __future__ import annotations

import json
import os
import re
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


# ---------------------------------------------------------------- flags and help
def _tree() -> dict[str, Any]:
    from askwell.cli import command

    found: dict[str, Any] = {}

    def walk(cmd: Any, prefix: str) -> None:
        found[prefix] = cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{prefix} {name}".strip())

    walk(command(), "")
    return found


def test_every_option_and_argument_has_help():
    missing = [f"{name or 'askwell'} {p.name}" for name, cmd in _tree().items() for p in cmd.params
               if not (getattr(p, "help", None) or "").strip()]
    assert missing == []


def test_flags_show_no_type_in_help():
    """An on/off flag takes no value, so the help shows no ``<bool>`` beside it."""
    flags = [(name, p) for name, cmd in _tree().items() for p in cmd.params if getattr(p, "is_flag", False)]
    assert len(flags) > 10
    assert [f"{n} {p.name}" for n, p in flags if p.metavar != ""] == []
    out = subprocess.run([sys.executable, "-m", "askwell.cli", "evaluate", "--help"], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "COLUMNS": "160"})
    assert out.returncode == 0, out.stderr
    assert "--fast" in out.stdout and "<bool>" not in out.stdout
    assert "<int>" in out.stdout  # real types still shown


def test_version():
    from askwell import __version__

    out = subprocess.run([sys.executable, "-m", "askwell.cli", "--version"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == f"askwell {__version__}"


# ---------------------------------------------------------------- input
def _analyze(*args: str, stdin: str | None = None,
             **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "askwell.cli", "analyze", *args], input=stdin,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200", **env})


MARKDOWN = """# URGENT help with python
Tags: python, pandas

pls help my code dont work!!! i tried everything thanks in advance
import pandas as pd
df = pd.read_csv('data.csv')
for i in range(len(df)):
    print(df[i]['name'])
KeyError: 0
"""


def test_markdown_on_stdin_gets_a_hint_to_use_file():
    out = _analyze(stdin=MARKDOWN)
    assert out.returncode == 2
    assert "not JSON" in out.stderr and "--file" in out.stderr


def test_a_directory_given_to_file_is_named_a_directory(tmp_path):
    out = _analyze("--file", str(tmp_path))
    assert out.returncode == 2
    assert "is a directory" in out.stderr


def test_json_input_refuses_unknown_fields_as_the_api_does():
    from askwell.explain.inputs import JSON_FIELDS, InputError, from_json
    from askwell.serving.schemas import AnalyzeRequest

    assert set(JSON_FIELDS) == set(AnalyzeRequest.model_fields)
    with pytest.raises(InputError, match="'bodyy'"):
        from_json({"title": "How do I brew?", "bodyy": "typo"})
    out = _analyze(stdin=json.dumps({"title": "How do I brew?", "body": "What yeast?", "tag": ["beer"]}))
    assert out.returncode == 2 and "unknown field 'tag'" in out.stderr


def test_user_text_is_escaped_and_the_score_is_a_percentage(tmp_path):
    """Rich markup in the writer's text (``df[i]``) is shown as typed; the score reads like
    the editor's ("39%"), not 0.39."""
    question = tmp_path / "q.md"
    question.write_text(MARKDOWN)
    # with the filter off the model scores it as it is, and the suggestion table quotes the code
    out = _analyze("--file", str(question), ASKWELL_QUESTION_FILTER="off")
    assert out.returncode == 0, out.stderr
    assert "df[i]['name']" in out.stdout
    first, second = out.stdout.splitlines()[:2]
    assert re.match(r"\d{1,3}% likely to be well received", first), first
    assert "passes at 9" in second  # the threshold on the same scale
    payload = json.loads(_analyze("--file", str(question), "--json",
                                  ASKWELL_QUESTION_FILTER="off").stdout)
    assert first.startswith(f"{round(payload['score'] * 100)}% likely")
    gated = json.loads(_analyze("--file", str(question), "--json").stdout)
    # with it: pasted code the filter reads as gibberish is scored, unsure, not rejected
    assert gated["verdict"] != "not_ready" and gated["filter"]["outcome"] == "unsure"
    assert gated["filter"]["reason"] == "pasted_code" and gated["low_confidence"]


# ---------------------------------------------------------------- serve after quickstart
def _serve(monkeypatch, home: Path, *args: str) -> tuple[Any, dict[str, Any]]:
    import askwell.serving.server as server
    from askwell.cli import app

    seen: dict[str, Any] = {}
    monkeypatch.setattr(server, "run_server", lambda settings, **kw: seen.update(kw))
    monkeypatch.setenv("ASKWELL_HOME", str(home))
    monkeypatch.delenv("ASKWELL_MODEL", raising=False)
    monkeypatch.delenv("ASKWELL_MODEL_PATH", raising=False)
    return CliRunner().invoke(app, ["serve", "--port", "8123", *args]), seen


def test_serve_after_quickstart_serves_its_champion(tmp_path, monkeypatch):
    from askwell.config import Settings
    from askwell.models.commands import register
    from askwell.models.training import train
    from askwell.quickstart import CHAMPION
    from askwell.registry.mlflow_registry import Registry
    from tests.unit.test_evaluation_report import _store_world

    home = tmp_path / "home"
    result, seen = _serve(monkeypatch, home)  # nothing trained yet: the packaged model, said so
    assert result.exit_code == 0, result.output
    assert seen["model"] is None and seen["model_path"] is None
    assert "packaged default model" in result.output

    ds = _store_world(home, make_questions(300, seed=3, noise=0.15))
    info = register(Settings(home=home), train(ds, "linear", label="grade", split="time"), CHAMPION, None)
    Registry.for_home(home).promote(CHAMPION, info.version, "champion")  # what quickstart does
    result, seen = _serve(monkeypatch, home)
    assert result.exit_code == 0, result.output
    from askwell.serving.commands import parse_model

    assert seen["model"] == parse_model(f"{CHAMPION}:champion") and seen["port"] == 8123
    assert f"{CHAMPION} version {info.version}" in result.output and "champion" in result.output

    from askwell.models.default import default_model_dir

    result, seen = _serve(monkeypatch, home, "--model-path", str(default_model_dir()))  # a flag wins
    assert result.exit_code == 0, result.output
    assert seen["model"] is None and seen["model_path"] == default_model_dir()
    assert "(--model-path)" in result.output


def test_the_headline_never_invents_a_site_and_says_when_there_is_no_verdict() -> None:
    """Found by a new user: a misspelt site got "average on nonexistent.example.com: 93%", and
    an abstained answer read "verdict fine" beside "gives no verdict"."""
    from askwell.cli.analyze import headline
    from askwell.explain.schema import Analysis, ModelRef, SiteInfo

    ref = ModelRef("features", "askwell-default", "packaged", "ds")
    known = Analysis(0.7, "at_risk", 0.25, 0.93, {}, [], ref, site=SiteInfo("beer.stackexchange.com", True, "main",
                                                                            0.94, 900), percentile=0.3)
    text = headline(known)
    assert "on beer.stackexchange.com 94% of questions are well received" in text
    assert "in the bottom 1% of questions there" in text and "verdict" in text
    unknown = Analysis(0.91, "at_risk", 0.01, 0.93, {}, [], ref, abstained=True,
                       site=SiteInfo("nonexistent.example.com", False, "main", 0.93, 0), percentile=24.0)
    text = headline(unknown)
    assert "nonexistent.example.com is not a site the model knows" in text
    assert "better received than 24% of questions on the main sites it knows" in text
    assert "average on nonexistent" not in text and "of questions there" not in text
    assert "no verdict" in text and "at risk" not in text
