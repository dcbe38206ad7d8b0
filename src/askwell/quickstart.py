"""The steps of ``askwell quickstart`` beyond ingest and the data report."""

from __future__ import annotations

from rich.console import Console

from askwell.config import Settings
from askwell.data.store import Dataset
from askwell.explain.schema import Analysis

CHAMPION = "askwell-features"
EXAMPLE = {
    "title": "URGENT beer problem",
    "body": "Hi all,\n\npls help my homebrew is flat!!! I bottled it two weeks ago.\n\nThanks in advance",
    "tags": "homebrew",
    "site": "beer.stackexchange.com",
}


def train_champion(settings: Settings, dataset: Dataset, name: str = CHAMPION) -> str:
    """Train the features model on this dataset once; promote it if nothing is champion."""
    from askwell.models.commands import register
    from askwell.models.training import train
    from askwell.registry.mlflow_registry import Registry, RegistryError

    out = Console()
    registry = Registry.for_home(settings.home)
    existing = [v for v in (registry.versions(name) if name in registry.models() else [])
                if v.tags.get("dataset_id") == dataset.id]
    if existing:
        out.print(f"model {name} v{existing[-1].version} already trained on {dataset.id}")
    else:
        with out.status(f"training {name} on {dataset.id} (grade label, time split)"):
            result = train(dataset, "features", label="grade", split="time")
            info = register(settings, result, name, None)
        m = result.metrics
        out.print(f"trained {name} v{info.version}: ROC AUC {m['roc_auc']:.3f}, Brier {m['brier']:.3f}, "
                  f"PR AUC {m['pr_auc']:.3f} on {m['n']:,} held-out questions")
        existing = [info]
    try:
        champ = registry.resolve(name, "champion")
        out.print(f"champion: {name} v{champ.version}")
    except RegistryError:
        registry.promote(name, existing[-1].version, "champion")
        out.print(f"promoted {name} v{existing[-1].version} to champion")
    return name


def example_analysis(settings: Settings, name: str) -> Analysis:
    """The example question analysed by the champion just trained (the CLI shows it)."""
    from askwell.explain.commands import run_analyze

    return run_analyze(settings, title=EXAMPLE["title"], body=EXAMPLE["body"], tags=EXAMPLE["tags"],
                       site=EXAMPLE["site"], file=None, model=f"{name}:champion", model_path=None)


def serve_champion(settings: Settings, name: str, port: int) -> None:
    try:
        from askwell.serving.server import run_server
    except ImportError:
        Console().print("[yellow]the service is not available in this build[/]")
        return
    run_server(settings, host="127.0.0.1", port=port, model=f"{name}:champion")
