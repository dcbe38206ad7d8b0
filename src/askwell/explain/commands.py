"""``askwell analyze``'s domain side: read the question and run the analysis pipeline.

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
    """Analyse the question given by flags, a file or ``stdin_text`` with the model asked for,
    through the same pipeline as the service (checks, filter, model, abstention)."""
    from askwell.explain.engine import Analyzer
    from askwell.explain.inputs import read_question
    from askwell.explain.pipeline import AnalysisPipeline, Declined, resolve_filter
    from askwell.models.spec import ModelSpec
    from askwell.registry.resolve import resolve_model

    question = read_question(title=title, body=body, tags=tags, site=site, file=file,
                             stdin_text=stdin_text)
    resolved = resolve_model(settings, ModelSpec.parse(model, path=model_path))
    pipeline = AnalysisPipeline.for_analyzer(Analyzer(resolved.model, resolved.ref),
                                             question_filter=resolve_filter(settings.question_filter))
    try:
        return pipeline.analyze(question)
    except Declined as exc:
        raise AskwellError(exc.message) from exc
