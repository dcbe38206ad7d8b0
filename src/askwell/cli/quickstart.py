"""``askwell quickstart``: the main job on embedded defaults, end to end."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from askwell.cli.common import commands, console, settings

app = commands()


@app.command()
def quickstart(
    serve: Annotated[bool, typer.Option(help="End by serving the API and the editor.")] = True,
    port: Annotated[int, typer.Option(help="Port for the service.")] = 8000,
) -> None:
    """The main job on embedded defaults: ingest the shared dumps, report on the data, train and
    register a model (promoted to champion if there is none), analyse an example, then serve."""
    from askwell.cli.analyze import show
    from askwell.cli.data import print_data_report
    from askwell.cli.ingest import print_ingest
    from askwell.data.commands import run_data_report, run_ingest
    from askwell.quickstart import EXAMPLE, example_analysis, train_champion

    s = settings()
    result = run_ingest(s, None, site=None, force=False)
    print_ingest(result)
    print_data_report(*run_data_report(s, result.dataset.id))
    name = train_champion(s, result.dataset)
    console().print(f"\nexample: askwell analyze --title {escape(repr(EXAMPLE['title']))} ...")
    show(example_analysis(s, name))
    if serve:
        from askwell.quickstart import serve_champion

        serve_champion(s, name, port)
