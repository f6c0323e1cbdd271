"""Socket Mode: the same app over a websocket, acking envelopes and replying in threads."""

from __future__ import annotations

import time

from slack_bolt.adapter.socket_mode import SocketModeHandler

from tests.fakes.slack_api import BOT_USER, TEAM, FakeSocketMode

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


def test_socket_mode_acks_and_replies(slack, fake_slack):
    socket = FakeSocketMode()
    fake_slack.socket_url = socket.url
    handler = SocketModeHandler(slack.bot.app, "xapp-1-test")
    try:
        handler.connect()
        assert fake_slack.wait_for(handler.client.is_connected, timeout=10)
        event = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> {LEASE}", "ts": "1700003000.000100",
                 "channel": "CSUP"}
        envelope = {
            "envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
            "retry_attempt": 0, "retry_reason": "",
            "payload": {"token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                        "event_id": "EvSock1", "event_time": int(time.time()), "event": event,
                        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]},
        }
        socket.push(envelope)
        socket.push({**envelope, "envelope_id": "env-2", "retry_attempt": 1, "retry_reason": "timeout"})
        assert fake_slack.wait_for(lambda: {a["envelope_id"] for a in socket.acks} >= {"env-1", "env-2"})
        assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
        time.sleep(0.3)
        assert len(fake_slack.posts()) == 1  # the redelivered envelope was acked but not answered again
        assert fake_slack.posts()[0].body["thread_ts"] == "1700003000.000100"
    finally:
        handler.close()
        socket.close()
