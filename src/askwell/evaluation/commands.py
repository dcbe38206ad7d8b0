"""``askwell evaluate``'s domain side: resolve models and data, run, write, log.

It returns an :class:`EvaluationRun`; :mod:`askwell.cli.evaluate` summarises it."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from askwell.config import Settings
from askwell.data.store import Dataset, DatasetStore
from askwell.evaluation.evaluate import (
    EvaluationConfig,
    EvaluationError,
    Subject,
    evaluate,
    model_split,
    recreate_split,
    seen_question_ids,
)
from askwell.models.base import Model
from askwell.plain import json_safe


# ---------------------------------------------------------------- models
def load_subject(settings: Settings, ref: str, tracking_uri: str | None = None) -> Subject:
    """A registered model (``name[:version|alias]``), a model folder, or ``default``
    (one grammar and one resolver: :func:`askwell.registry.resolve.resolve_model`)."""
    from askwell.models.spec import ModelSpecError
    from askwell.registry.resolve import resolve_model

    try:
        resolved = resolve_model(settings, ref, tracking_uri)
    except ModelSpecError as exc:
        raise EvaluationError(str(exc)) from exc
    spec, info = resolved.spec, resolved.info
    if spec.kind == "path":
        return Subject(resolved.path.name, resolved.model,
                       {"kind": "path", "path": str(resolved.path.resolve())})
    if spec.kind == "default" or info is None:
        return Subject("default", resolved.model, {"kind": "packaged", "path": str(resolved.path)})
    return Subject(
        f"{info.name}:{info.version}", resolved.model,
        {"kind": "registry", "name": info.name, "version": info.version, "run_id": info.run_id,
         "aliases": list(info.aliases), "requested": spec.ref},
    )


def dataset_for(settings: Settings, model: Model, name: str, override: str | None) -> Dataset:
    """The dataset the model was trained on, or a clear refusal."""
    store = DatasetStore(settings.datasets_dir)
    wanted = model_split(model)["dataset_id"]
    if override:
        return store.resolve(override)
    if not wanted:
        raise EvaluationError(
            f"{name} does not record the dataset it was trained on; pass --dataset ID "
            "(see `askwell data list`) to evaluate it on one"
        )
    found = store.get(wanted)
    if found is None:
        raise EvaluationError(
            f"{name} was trained on dataset {wanted}, which is not in {store.root}; run "
            "`askwell ingest` on the same dumps (dataset ids are content hashes, so the same dumps "
            "give the same id), set ASKWELL_HOME to the home that holds it, or pass --dataset ID "
            "to evaluate on another dataset"
        )
    return found


# ---------------------------------------------------------------- the command
@dataclass
class EvaluationRun:
    report: dict[str, Any]
    html_path: Path
    json_path: Path
    logged_to: str | None
    seconds: float


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "model"


def run_evaluate(
    settings: Settings,
    model_ref: str,
    *,
    against: list[str] | None = None,
    label: str | None = None,
    split: str | None = None,
    dataset: str | None = None,
    config: EvaluationConfig | None = None,
    html_path: Path | None = None,
    json_path: Path | None = None,
    tracking_uri: str | None = None,
    log_artifacts: bool = True,
    quiet: bool = False,
) -> EvaluationRun:
    """Evaluate ``model_ref`` (and compare with ``against``), write HTML + JSON, log them."""
    started = time.perf_counter()
    config = config or EvaluationConfig()
    status = Console(stderr=True, quiet=quiet)
    with status.status(f"loading {model_ref}"):
        subject = load_subject(settings, model_ref, tracking_uri)
        ds = dataset_for(settings, subject.model, subject.name, dataset)
        frame = ds.to_pandas()
    own_dataset = model_split(subject.model)["dataset_id"]
    if dataset and own_dataset and ds.id != own_dataset:
        subject.notes.append(
            f"evaluated on dataset {ds.id}, not the training dataset {own_dataset}: held-out "
            "questions may include ones the model was trained on"
        )
    with status.status("re-creating the model's split"):
        splits: dict[Any, Any] = {}
        data, provenance = recreate_split(subject.model, frame, label=label, split=split, cache=splits)
    own = model_split(subject.model)
    if not provenance["own_split"] and own["label"] is not None and own["split"] is not None:
        from askwell.evaluation.curves import refit

        with status.status(f"re-fitting {subject.model.family} on the {data.split} split"):
            subject.model = refit(subject.model, data.fit, data.calibration)
        subject.notes.append(
            f"the model was trained with label={own['label']!r}, split={own['split']!r}; this report "
            f"re-fits the same family and parameters on label={data.label!r}, split={data.split!r}"
        )
        subject.name += f" (re-fit, {data.split} split)"
    others = []
    for ref in against or []:
        with status.status(f"loading {ref}"):
            other = load_subject(settings, ref, tracking_uri)
            other.seen_ids = _seen_ids(settings, other, frame, ds, splits)
        others.append(other)
    with status.status(f"evaluating {subject.name} on {len(data.test):,} held-out questions"):
        report = evaluate(subject, data, config=config, against=others, provenance=provenance,
                          dataset_id=ds.id)
    slug = _slug(subject.name)
    html_path = Path(html_path or settings.reports_dir / f"evaluation-{slug}.html")
    json_path = Path(json_path or html_path.with_suffix(".json"))
    with status.status("rendering the report"):
        write_report(report, html_path, json_path)
    logged = None
    if log_artifacts and subject.source.get("kind") == "registry":
        from askwell.registry.mlflow_registry import Registry

        with status.status("logging the report to MLflow"):
            reg = Registry.for_home(settings.home, tracking_uri)
            for path in (html_path, json_path):
                reg.log_artifact(subject.source["run_id"], path, "evaluation")
        logged = subject.source["run_id"]
    return EvaluationRun(report, html_path, json_path, logged, time.perf_counter() - started)


def _seen_ids(
    settings: Settings, other: Subject, frame: Any, primary: Dataset, splits: dict[Any, Any]
) -> set[str] | None:
    """Question ids another model trained on, re-created from its own dataset and split."""
    own = model_split(other.model)
    if not own["dataset_id"]:
        if other.model.family == "heuristic":
            return set()
        other.notes.append(f"{other.name} does not record its training data; questions it was "
                           "trained on cannot be excluded from the comparison")
        return None
    if own["dataset_id"] != primary.id:
        found = DatasetStore(settings.datasets_dir).get(own["dataset_id"])
        if found is None:
            raise EvaluationError(
                f"{other.name} was trained on dataset {own['dataset_id']}, which is not in "
                f"{settings.datasets_dir}; ingest it first so its training questions can be left "
                "out of the comparison"
            )
        frame = found.to_pandas()
    return seen_question_ids(other.model, frame, cache=splits)


def report_json(report: dict[str, Any]) -> Any:
    """The report as strict JSON values (what the JSON file holds)."""
    return json.loads(json.dumps(json_safe(report), allow_nan=False, default=str))


def write_report(report: dict[str, Any], html_path: Path, json_path: Path) -> None:
    """Write the HTML and JSON files (parents created; each written atomically)."""
    from askwell.reports.evaluation import render_html

    for path, text in ((json_path, json.dumps(json_safe(report), indent=1, allow_nan=False, default=str)),
                       (html_path, render_html(report))):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
