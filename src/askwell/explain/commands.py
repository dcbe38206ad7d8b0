"""``askwell analyze``'s domain side: read the question, check it, analyse it.

It returns the :class:`~askwell.explain.schema.Analysis`; :mod:`askwell.cli.analyze` shows it.
"""

from __future__ import annotations

from pathlib import Path

from askwell.config import Settings
from askwell.errors import AskwellError
from askwell.explain.schema import Analysis


def run_analyze(
    settings: Settings, *, title: str | None, body: str | None, tags: str | None,
    site: str | None, file: Path | None, model: str | None, model_path: Path | None,
    stdin_text: str | None = None,
) -> Analysis:
    """Analyse the question given by flags, a file or ``stdin_text`` with the model asked for."""
    from askwell.explain.checks import check_question
    from askwell.explain.engine import Analyzer
    from askwell.explain.inputs import read_question
    from askwell.models.spec import ModelSpec
    from askwell.registry.resolve import resolve_model

    question = read_question(title=title, body=body, tags=tags, site=site, file=file,
                             stdin_text=stdin_text)
    checked = check_question(question)
    if not checked.ok:
        raise AskwellError(checked.error or "unusable input")
    resolved = resolve_model(settings, ModelSpec.parse(model, path=model_path))
    return Analyzer(resolved.model, resolved.ref).analyze(checked.question, warnings=checked.warnings)
