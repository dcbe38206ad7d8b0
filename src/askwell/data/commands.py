"""The data commands' domain side: inputs, ingest with progress, the data report.

They return data; :mod:`askwell.cli.data` and :mod:`askwell.cli.ingest` print it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from askwell.config import Settings
from askwell.data.dumpfiles import DumpError, is_site_dump, sites_in
from askwell.data.ingest import IngestResult, ingest
from askwell.data.store import DatasetStore


def default_inputs(settings: Settings) -> list[Path]:
    """Every site folder or archive in the shared data folders (the main one and, when
    present, ``stackexchange-extra`` beside it: :attr:`Settings.dump_folders`)."""
    root = settings.shared_data
    if not root.is_dir():
        raise DumpError(
            f"no inputs given and the shared data folder {root} does not exist; "
            "pass dump folders, or set ASKWELL_SHARED_DATA"
        )
    found = [site for folder in settings.dump_folders for site in sites_in(folder)]
    if not found:
        raise DumpError(f"{root} holds no site dumps (folders with Posts.xml or .7z archives)")
    return found


def expand_inputs(paths: list[Path]) -> list[Path]:
    """A folder that is not itself a dump but holds dumps (like the shared data folder)
    stands for every site in it; anything else is passed on for ingest to judge."""
    expanded: list[Path] = []
    for path in paths:
        if path.is_dir() and not is_site_dump(path):
            inner = sites_in(path)
            if inner:
                expanded.extend(inner)
                continue
        expanded.append(path)
    return expanded


def ingest_with_progress(
    settings: Settings, paths: list[Path], *, site: str | None, force: bool, quiet: bool
) -> IngestResult:
    """Run ingest with a Rich progress bar showing MB read and rows/s."""
    total_bytes = 0
    for p in paths:
        p = Path(p)
        if p.is_dir():
            total_bytes += sum(c.stat().st_size for c in p.iterdir() if c.name.lower() == "posts.xml")
        elif p.is_file():
            total_bytes += p.stat().st_size
    store = DatasetStore(settings.datasets_dir)
    started = time.perf_counter()
    rows = 0
    stderr = Console(stderr=True)
    with Progress(
        TextColumn("[bold]ingest[/] {task.fields[site]}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=stderr,
        # Only on a terminal: in logs and pipes a bar is noise (and would sit above an
        # error message that should be the only line).
        disable=quiet or not stderr.is_terminal,
        transient=False,
    ) as bar:
        task = bar.add_task("ingest", total=max(total_bytes, 1), site="", rate="")

        def progress(site_name: str, nbytes: int, nrows: int) -> None:
            nonlocal rows
            rows += nrows
            elapsed = max(time.perf_counter() - started, 1e-6)
            bar.update(task, advance=nbytes, site=site_name, rate=f"{rows / elapsed:,.0f} rows/s")

        result = ingest(
            [Path(p) for p in paths],
            store,
            site=site,
            batch_rows=settings.ingest_batch_rows,
            memory_limit=settings.duckdb_memory_limit,
            force=force,
            progress=progress,
        )
        bar.update(task, completed=max(total_bytes, 1))
    return result


def summary_payload(result: IngestResult) -> dict[str, Any]:
    meta = result.dataset.meta
    return {
        "dataset_id": result.dataset.id,
        "path": str(result.dataset.path),
        "reused": result.reused,
        "seconds": round(result.seconds, 3),
        "questions": meta["rows"],
        "rows_read": sum(s["rows_read"] for s in meta["sites"]),
        "rejected": {k: v for s in meta["sites"] for k, v in s["rejected"].items()},
        "sites": meta["sites"],
    }


def run_ingest(
    settings: Settings, paths: list[Path] | None, *, site: str | None, force: bool, quiet: bool = False
) -> IngestResult:
    """Ingest ``paths`` (default: every site in the shared data folder) with a progress bar on
    stderr (none when ``quiet``); the CLI prints the result."""
    inputs = expand_inputs(list(paths)) if paths else default_inputs(settings)
    return ingest_with_progress(settings, inputs, site=site, force=force, quiet=quiet)


def run_data_report(
    settings: Settings, dataset: str | None, *, label: str = "grade", html: Path | None = None,
) -> tuple[dict[str, object], Path]:
    """The data report of a dataset (default: latest) and the path of its HTML page
    (``html``, default in the reports folder), which is always written."""
    from askwell.data.report import build_report
    from askwell.reports.data import write_html

    ds = DatasetStore(settings.datasets_dir).resolve(dataset)
    report = build_report(ds.to_pandas(), label=label, seed=settings.seed, dataset_meta=ds.meta)
    path = write_html(report, Path(html) if html else settings.reports_dir / f"data-{ds.id}-{label}.html")
    return report, path
