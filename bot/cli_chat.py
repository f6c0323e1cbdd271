"""`prefect-triage chat` and `prefect-triage history`: the terminal conversation and its log.

Builds the engine, the database (migrated on start) and the workspace, then hands stdin to
the console adapter. Works on a fresh machine with nothing configured (SQLite in the
per-user data directory, no workspace).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Annotated

import typer
from rich.table import Table

from bot.cli import app, engine_or_exit, err, out
from bot.config import Settings


def _open(settings: Settings, *, migrate: bool | None = None):  # -> Database
    from sqlalchemy.exc import SQLAlchemyError

    from bot.store.db import SchemaBehind, open_database

    where = settings.resolved_database_url().split("@")[-1]
    try:
        return open_database(
            settings.resolved_database_url(),
            run_migrations=settings.auto_migrate if migrate is None else migrate,
        )
    except SchemaBehind as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    except SQLAlchemyError as exc:
        err.print(f"[red]Cannot open the database[/red] ({where}): {exc.__class__.__name__}")
        raise typer.Exit(2) from None


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (run once per rollout; safe to repeat)."""
    db = _open(Settings(), migrate=True)
    from bot.store.db import schema_revision

    current, _ = schema_revision(db.engine)
    out.print(f"database schema at revision {current}")
    db.dispose()


def _tty_lines(chat) -> Iterator[str]:
    while True:
        prompt = "answer> " if chat.pending else "paste> "
        try:
            yield out.input(f"[bold cyan]{prompt}[/bold cyan]")
        except EOFError:
            return


@app.command()
def chat(
    resume: Annotated[bool, typer.Option("--resume", help="Continue the last terminal conversation.")] = False,
    no_workspace: Annotated[
        bool, typer.Option("--no-workspace", help="Do not look anything up in a Prefect workspace.")
    ] = False,
) -> None:
    """Talk to the bot in the terminal (same engine and database as Slack)."""
    from bot.adapters.console import HELP, ConsoleChat
    from bot.conversations import Conversations
    from bot.store import repo
    from bot.workspace.select import workspace_for

    settings = Settings()
    engine = engine_or_exit(settings)
    db = _open(settings)
    workspace = workspace_for(settings, enabled=not no_workspace)
    conversations = Conversations(engine, db, lambda _key: workspace)
    interactive = sys.stdin.isatty()
    console_chat = ConsoleChat(conversations, out, rich_output=interactive)
    if interactive:
        out.print(f"prefect-triage chat · workspace: {workspace.name} · data: {settings.resolved_database_url()}")
        out.print(HELP)
    if resume:
        with db.session(readonly=True) as session:
            last = repo.recent_conversations(session=session, limit=1, transport="console")
            key = last[0].key if last else None
        loaded = conversations.load(key) if key else None
        if loaded is None:
            console_chat.say("No earlier terminal conversation to resume; starting a new one.")
        else:
            console_chat.resume(key, loaded[1])
    try:
        console_chat.run(_tty_lines(console_chat) if interactive else iter(sys.stdin))
    except KeyboardInterrupt:
        pass
    finally:
        db.dispose()


@app.command()
def history(
    limit: Annotated[int, typer.Option(help="How many conversations.")] = 20,
) -> None:
    """List recent conversations and their outcomes."""
    from bot.store import repo

    settings = Settings()
    db = _open(settings)
    table = Table("updated", "transport", "status", "entry", "diagnosis", "first message")
    with db.session(readonly=True) as session:
        for row in repo.recent_conversations(session=session, limit=limit):
            first = repo.messages(session=session, conversation_id=row.id)
            text = first[0].text.splitlines()[0][:60] if first else ""
            table.add_row(
                row.updated_at.strftime("%Y-%m-%d %H:%M"), row.transport, row.status,
                row.entry_id or "-", row.diagnosis_id or "-", text,
            )
    out.print(table)
    db.dispose()
