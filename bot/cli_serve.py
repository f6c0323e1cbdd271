"""`prefect-triage serve [--socket]`: run the Slack app (HTTP by default, or Socket Mode).

Checks the settings it needs and says which are missing, opens (and migrates) the
database, builds the engine and the workspace, then serves until stopped.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from bot.cli import app, engine_or_exit, err, out
from bot.config import Settings
from bot.observability import configure_logging


@app.command()
def serve(
    socket: Annotated[bool, typer.Option("--socket", help="Use Socket Mode (needs SLACK_APP_TOKEN).")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on (HTTP mode and /healthz).")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
    no_workspace: Annotated[
        bool, typer.Option("--no-workspace", help="Do not look anything up in a Prefect workspace.")
    ] = False,
) -> None:
    """Run the Slack app: slash command, mentions, watched channels, DMs, buttons."""
    from bot.adapters.slack.build import build_bot
    from bot.adapters.slack.server import serve_http, serve_socket
    from bot.cli_chat import _open

    settings = Settings()
    missing = [name for name, value in (
        ("SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)",
         settings.slack_bot_token or settings.oauth_enabled()),
        ("SLACK_SIGNING_SECRET", settings.slack_signing_secret if not socket else True),
        ("SLACK_APP_TOKEN", settings.slack_app_token if socket else True),
    ) if not value]
    if missing:
        err.print(f"[red]Missing settings:[/red] {', '.join(missing)} (see README: Slack set-up)")
        raise typer.Exit(2)
    configure_logging(logging.INFO, json_lines=settings.log_format == "json")
    engine = engine_or_exit(settings)
    db = _open(settings)
    bot, _ = build_bot(settings, workspace=not no_workspace, engine=engine, db=db)
    housekeeping = bot.start_housekeeping()
    where = "Socket Mode" if socket else f"HTTP on {host}:{port}"
    if settings.slack_processes and not socket:
        where += f", {settings.slack_processes} event worker processes"
    out.print(f"prefect-triage serving Slack ({where})")
    try:
        if socket:
            assert settings.slack_app_token is not None
            serve_socket(bot, db, settings.slack_app_token.get_secret_value(), host, port)
        else:
            serve_http(bot, db, host, port, workspace=not no_workspace)
    finally:
        housekeeping.set()
        bot.shutdown(wait=False)
        db.dispose()
