"""Operations: /metrics, JSON logs without secrets, an error id when a job fails."""

from __future__ import annotations

import json
import logging

from bot.observability import JsonFormatter, conversation_id
from tests.fakes.slack_api import BOT_USER

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


def test_metrics_count_events_acks_and_matches(slack, fake_slack):
    slack.event({"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> {LEASE}", "ts": "1700008000.000100",
                 "channel": "CSUP"})
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    text = slack.http.get("/metrics").text
    assert 'triage_slack_requests_total{type="app_mention"}' in text
    assert "triage_slack_ack_seconds_bucket" in text
    assert 'triage_matches_total{entry="concurrency.lease-renewal-failed"}' in text


def test_a_failing_job_shows_an_error_id_in_the_thread(slack, fake_slack, monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("database on fire, password=hunter2")

    monkeypatch.setattr(slack.bot.conversations, "message", boom)
    with caplog.at_level(logging.ERROR):
        slack.event({"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> {LEASE}", "ts": "1700008100.000100",
                     "channel": "CSUP"})
        assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    text = fake_slack.posts()[0].body["text"]
    assert "error id" in text and "hunter2" not in text and "Traceback" not in text
    code = text.split("`")[1]
    assert any(getattr(r, "error_id", None) == code for r in caplog.records)


def test_json_log_lines_are_redacted_and_carry_the_conversation():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed for key pnu_a1B2c3D4e5F6g7H8i9J0k1L2m3", (),
                               None)
    token = conversation_id.set("conv-123")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        conversation_id.reset(token)
    assert line["conversation"] == "conv-123" and line["level"] == "ERROR"
    assert "a1B2c3D4" not in line["message"]
