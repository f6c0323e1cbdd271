"""Assemble the Slack bot from settings: engine, database, workspace routing, Bolt app.

Used by `serve` and by each event worker process, so both build exactly the same bot.
Errors (a knowledge base that does not load, an unreachable database) propagate; the CLI
turns them into messages. This module must not serve anything.
"""

from __future__ import annotations

from bot.adapters.slack.app import SlackBot
from bot.config import Settings
from bot.conversations import Conversations
from bot.store.db import Database, open_database
from bot.triage import Engine
from bot.workspace.base import Workspace
from bot.workspace.select import workspace_for


def build_bot(
    settings: Settings,
    *,
    workspace: bool = True,
    engine: Engine | None = None,
    db: Database | None = None,
    verified_upstream: bool = False,
) -> tuple[SlackBot, Database]:
    engine = engine or Engine.from_settings(settings)
    db = db or open_database(settings.resolved_database_url(), run_migrations=False)

    def workspace_of(key: str) -> Workspace:
        _, team, channel, _ = ([*key.split(":", 3), "", "", "", ""])[:4]
        return workspace_for(settings, enabled=workspace, channel=channel or None, team=team or None)

    bot = SlackBot(settings, Conversations(engine, db, workspace_of), verified_upstream=verified_upstream)
    return bot, db
