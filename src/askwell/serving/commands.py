"""``askwell serve`` and ``askwell feedback export``, the domain side: which model to serve
and why, starting the server, exporting feedback."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from askwell.config import Settings
from askwell.errors import AskwellError


def load_precomputed(settings: Settings, folder: Path, *, db: str | None = None) -> dict[str, Any]:
    """Load a batch output into the service's database (once, before the workers start;
    each worker then finds the table non-empty and looks answers up in it)."""
    import logging

    from askwell.serving.config import service_settings
    from askwell.serving.precomputed import load_batch
    from askwell.serving.store import make_engine

    s = service_settings(settings, **({"db": db} if db else {}))
    engine = make_engine(s.db_url)
    try:
        result = load_batch(engine, folder, ood_threshold=s.ood_threshold,
                            abstain_below=s.abstain_below)
    finally:
        engine.dispose()
    logging.getLogger("askwell.serving").warning(
        "precomputed: %s answers of %s loaded from %s (%s skipped: scored with author history)",
        result["loaded"], result["model_key"], folder, result["skipped_author_context"])
    return result


def parse_model(model: str | None) -> str | None:
    """Check ``--model`` now (one grammar: :class:`~askwell.models.spec.ModelSpec`) and
    return its canonical form, which the workers parse again; ``None``: not given."""
    if model is None:
        return None
    from askwell.models.spec import ModelSpec, ModelSpecError

    try:
        return str(ModelSpec.parse(model))
    except ModelSpecError as exc:
        raise AskwellError(f"--model {model!r}: {exc}") from exc


@dataclass(frozen=True)
class ServeChoice:
    """The model ``askwell serve`` will serve, and the sentence that says why."""

    model: str | None
    model_path: Path | None
    reason: str


def choose_model(settings: Settings, model: str | None, model_path: Path | None) -> ServeChoice:
    """What to serve when nothing else is said: the champion ``askwell quickstart`` trained
    and promoted in this home, if there is one, else the packaged default model.

    A ``--model``/``--model-path`` flag, or ``ASKWELL_MODEL``/``ASKWELL_MODEL_PATH``, wins.
    The registry is only read when its database already exists (serving never creates one).
    """
    if model_path is not None:
        return ServeChoice(None, model_path, f"serving the model in {model_path} (--model-path)")
    if model is not None:
        return ServeChoice(parse_model(model), None, f"serving registered model {parse_model(model)} (--model)")
    for var in ("ASKWELL_MODEL", "ASKWELL_MODEL_PATH"):
        if os.environ.get(var):
            return ServeChoice(None, None, f"serving the model {var}={os.environ[var]} names")
    from askwell.quickstart import CHAMPION

    db = Path(settings.home) / "mlflow.db"
    if db.is_file():
        from askwell.registry.mlflow_registry import Registry, RegistryError

        try:
            info = Registry.for_home(settings.home).resolve(CHAMPION, "champion")
        except RegistryError:
            return ServeChoice(None, None, f"serving the packaged default model: {CHAMPION} has no "
                                           f"champion in {db}")
        except Exception as exc:  # a registry we can't read: say so, serve the default
            return ServeChoice(None, None, f"serving the packaged default model: the registry {db} "
                                           f"could not be read ({type(exc).__name__}: {exc})")
        return ServeChoice(
            f"{CHAMPION}:champion", None,
            f"serving {CHAMPION} version {info.version}, the champion in {db} (trained by `askwell "
            f"quickstart` or promoted with `askwell models promote`); --model-path or --model to "
            "serve another")
    return ServeChoice(None, None, f"serving the packaged default model: no registry in {settings.home} "
                                   "(`askwell quickstart` trains and promotes a champion there)")


def run_serve(settings: Settings, *, host: str, port: int, workers: int, db: str | None,
              cache: str | None, model: str | None, model_path: Path | None,
              access_log: bool, precomputed: Path | None = None) -> None:
    from askwell.serving.server import run_server

    if model and model_path:
        raise AskwellError("give --model or --model-path, not both")
    if model_path is not None and not (model_path / "model.json").is_file():
        raise AskwellError(f"{model_path}: not a model folder (no model.json)")
    if workers < 1:
        raise AskwellError("--workers must be at least 1")
    if precomputed is not None:
        load_precomputed(settings, precomputed, db=db)
    run_server(settings, host=host, port=port, workers=workers, db=db, cache=cache,
               model=parse_model(model), model_path=model_path, access_log=access_log)


def run_feedback_export(settings: Settings, *, out: Path, db: str | None) -> dict[str, Any]:
    from askwell.serving.config import service_settings
    from askwell.serving.store import export_feedback

    s = service_settings(settings, **({"db": db} if db else {}))
    try:
        path, n = export_feedback(s.db_url, out)
    except AskwellError:
        raise
    except Exception as exc:
        raise AskwellError(f"could not read the feedback store at {s.db_url.split('@')[-1]}: {exc}") from exc
    return {"path": str(path), "rows": n}
