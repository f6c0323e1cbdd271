"""An event worker routes deliveries the front has already verified, however long they queued."""

from __future__ import annotations

import json
import time

import pytest
from slack_bolt import BoltRequest

from bot.adapters.slack.app import SlackBot
from bot.conversations import Conversations
from bot.store.db import open_database
from tests.fakes.slack_api import BOT_USER, TEAM, sign
from tests.slack.test_events import LEASE, mention


def delivery(age_seconds: int) -> BoltRequest:
    body = json.dumps({
        "token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback", "event_id": "EvQUEUED",
        "event_time": int(time.time()) - age_seconds, "event": mention(LEASE),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    })
    headers = {k: [v] for k, v in sign(body, timestamp=int(time.time()) - age_seconds).items()}
    return BoltRequest(body=body, headers={**headers, "content-type": ["application/json"]})


@pytest.mark.parametrize("verified_upstream", [True, False])
def test_a_delivery_that_waited_ten_minutes_in_the_queue(engine, fake_slack, slack_settings, sqlite_url,
                                                         verified_upstream):
    db = open_database(sqlite_url)
    bot = SlackBot(slack_settings, Conversations(engine, db, None), verified_upstream=verified_upstream)
    try:
        status = bot.app.dispatch(delivery(age_seconds=600)).status
        if verified_upstream:  # a worker: the front checked the signature when it acked
            assert status == 200
            assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
        else:  # the front itself still refuses stale signatures
            assert status == 401
            time.sleep(0.3)
            assert fake_slack.posts() == []
    finally:
        bot.shutdown()
        db.dispose()
