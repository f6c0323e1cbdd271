"""Reliability: a database restart, Slack 429/500 bursts — every acked event still gets its reply."""

from __future__ import annotations

import threading
import time

from tests.fakes.slack_api import BOT_USER

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


def mention(ts: str) -> dict:
    return {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> {LEASE}", "ts": ts, "channel": "CSUP"}


def test_postgres_restart_loses_no_message(engine, fake_slack, slack_settings, private_postgres, slack_stack):
    stack = slack_stack(slack_settings, private_postgres.url)
    stack.event(mention("1700009000.000100"))
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    private_postgres.stop()
    started = time.perf_counter()
    assert stack.event(mention("1700009001.000100")).status_code == 200  # acked although the DB is down
    assert time.perf_counter() - started < 1.0
    time.sleep(2.0)
    assert len(fake_slack.posts()) == 1  # nothing answered (or lost) while the DB is down
    threading.Thread(target=private_postgres.start).start()
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 2, timeout=60)
    assert fake_slack.posts()[1].body["thread_ts"] == "1700009001.000100"
    assert "blocks" in fake_slack.posts()[1].body  # the real reply, not an error message


def test_slack_500_and_429_bursts_are_retried_and_delivered(engine, fake_slack, slack_settings, sqlite_url, slack_stack):
    stack = slack_stack(slack_settings, sqlite_url)
    fake_slack.fail("chat.postMessage", 500, times=2)
    fake_slack.fail("chat.postMessage", 429, times=1, retry_after=1)
    for i in range(3):
        stack.event(mention(f"1700009100.00010{i}"))
    attempts = lambda: [c.body["thread_ts"] for c in fake_slack.posts() if c.body.get("blocks")]  # noqa: E731
    # 3 attempts failed (500, 500, 429) and were retried: 6 attempts, each event delivered exactly once
    assert fake_slack.wait_for(lambda: len(attempts()) >= 6, timeout=30)
    time.sleep(1.0)
    assert sorted(attempts()) == sorted([f"1700009100.00010{i}" for i in range(3)] * 2)
