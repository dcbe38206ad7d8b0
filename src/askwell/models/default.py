"""The small default model that ships inside the package, so ``askwell serve`` works on a
fresh machine with no registry.

It is built by this project's own pipeline (``askwell models build-default``) from the
shared Stack Exchange dumps: the ``features`` family, ``grade`` label, time split, fixed
seed. The folder carries its model card (data, CC BY-SA attribution, metrics) and sha256
manifest; loading verifies it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from askwell.errors import AskwellError

if TYPE_CHECKING:
    from askwell.models.base import BaseModel

DEFAULT_FAMILY = "features"
DEFAULT_LABEL = "grade"
DEFAULT_SPLIT = "time"
DEFAULT_SEED = 42
DEFAULT_NAME = "askwell-default"


def default_model_dir() -> Path:
    """Where the packaged default model lives (inside the installed package)."""
    return Path(str(resources.files("askwell") / "assets" / "default_model"))


def load_default_model() -> BaseModel:
    """Load and verify the packaged default model."""
    from askwell.models.base import load_model

    folder = default_model_dir()
    if not (folder / "model.json").is_file():
        raise AskwellError(
            f"the packaged default model is missing at {folder}; rebuild it with "
            "`askwell models build-default`"
        )
    return load_model(folder)


def build_default_model(dataset: Any, out: Path | None = None) -> Any:
    """Train the default model on ``dataset`` and write it (atomically) to ``out``."""
    import pandas as pd

    from askwell.evaluation.sites import leave_one_site_out
    from askwell.models.training import train

    result = train(dataset, DEFAULT_FAMILY, label=DEFAULT_LABEL, split=DEFAULT_SPLIT, seed=DEFAULT_SEED)
    data = result.data
    everything = pd.concat([data.fit, data.calibration, data.test], ignore_index=True)
    result.model.meta["card"]["sites_out"] = leave_one_site_out(
        result.model, everything, split=data.split, seed=data.seed)
    result.model.meta["card"]["name"] = DEFAULT_NAME
    result.model.meta["card"]["rebuild"] = (
        "bash scripts/askwell-up.sh once (ingests both ../shared/data dump folders), then "
        "`.venv/bin/askwell models build-default`"
    )
    result.model.save(out or default_model_dir())
    return result
