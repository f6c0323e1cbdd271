"""`prefect-triage report gaps`: which entry to write next, from what nothing matched."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from bot.cli import app, out
from bot.config import Settings

report = typer.Typer(help="Reports from the bot's database.", no_args_is_help=True)


@report.command()
def gaps(
    limit: Annotated[int, typer.Option(help="How many groups to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the groups as JSON.")] = False,
) -> None:
    """The most frequent unmatched messages, grouped by similarity."""
    from bot.cli_chat import _open
    from bot.gaps import group_gaps
    from bot.store import repo

    db = _open(Settings())
    with db.session(readonly=True) as session:
        rows = repo.unmatched_texts(session=session, limit=5000)
        items = [(row.text, row.best_entry) for row in rows]
    db.dispose()
    groups = group_gaps(items, limit=limit)
    if as_json:
        print(json.dumps([g.model_dump() for g in groups], indent=2))
        return
    if not groups:
        out.print("No unmatched messages recorded yet.")
        return
    table = Table("count", "closest entry", "example")
    for group in groups:
        table.add_row(str(group.count), group.near or "-", group.example.splitlines()[0][:100])
    out.print(table)


app.add_typer(report, name="report")
