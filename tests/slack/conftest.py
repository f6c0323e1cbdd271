"""The Slack stack for these tests: real Bolt app over real HTTP, fake Slack Web API, real DB."""

from __future__ import annotations

import pytest

from bot.adapters.slack.app import SlackBot
from bot.adapters.slack.server import asgi_app
from bot.config import Settings
from bot.conversations import Conversations
from bot.store.db import open_database
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, SlackStack


def make_settings(fake_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": f"{fake_url}/api/",
        "TRIAGE_WATCH_CHANNELS": "CWATCH",
        "TRIAGE_ESCALATION_TARGET": "S0HUMANS",
        "TRIAGE_SLACK_WORKERS": 4,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def slack_settings(fake_slack):
    return make_settings(fake_slack.url)


@pytest.fixture
def slack(engine, fake_slack, slack_settings, sqlite_url):
    db = open_database(sqlite_url)
    bot = SlackBot(slack_settings, Conversations(engine, db))
    stack = SlackStack(asgi_app(bot, db), fake_slack)
    stack.bot = bot
    yield stack
    stack.close()
    bot.shutdown()
    db.dispose()
