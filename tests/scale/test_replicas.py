"""Several `serve` processes on one PostgreSQL behave as one bot."""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.fakes.replicas import start_replicas
from tests.fakes.slack_api import BOT_USER, TEAM, sign

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


def event_body(i: int) -> str:
    event = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> {LEASE}", "ts": f"1700100000.{i:06d}",
             "channel": "CSUP"}
    return json.dumps({"token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                       "event_id": f"EvScale{i:04d}", "event_time": int(time.time()), "event": event,
                       "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]})


def deliver(url: str, body: str, retry: int) -> int:
    headers = {"Content-Type": "application/json", **sign(body)}
    if retry:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    return httpx.post(f"{url}/slack/events", content=body, headers=headers, timeout=10).status_code


@pytest.fixture
def replicas(fake_slack, pg_url, tmp_path):
    started = start_replicas(3, pg_url, fake_slack.url, tmp_path)
    yield started
    for replica in started:
        replica.stop()


def test_hundred_events_redelivered_to_random_replicas_get_exactly_hundred_replies(replicas, fake_slack):
    rng = random.Random(42)
    deliveries = [(i, attempt) for i in range(100) for attempt in range(rng.randint(1, 4))]
    rng.shuffle(deliveries)
    with ThreadPoolExecutor(max_workers=24) as pool:
        statuses = list(pool.map(lambda d: deliver(rng.choice(replicas).url, event_body(d[0]), d[1]), deliveries))
    assert set(statuses) == {200}
    threaded = lambda: [c for c in fake_slack.posts() if c.body.get("thread_ts")]  # noqa: E731
    assert fake_slack.wait_for(lambda: len(threaded()) >= 100, timeout=120)
    time.sleep(1.0)
    replies = threaded()
    assert len(replies) == 100
    assert {c.body["thread_ts"] for c in replies} == {f"1700100000.{i:06d}" for i in range(100)}


def test_answers_to_one_conversation_on_different_replicas_are_all_kept(replicas, fake_slack):
    body = event_body(500)
    assert deliver(replicas[0].url, body, 0) == 200
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1, timeout=30)
    reply_ts = fake_slack.posts()[0].body and "1800000001.000100"

    def click(replica_index: int, fact: str, value: str) -> int:
        payload = {
            "type": "block_actions", "team": {"id": TEAM}, "user": {"id": "U2"}, "channel": {"id": "CSUP"},
            "message": {"ts": reply_ts, "thread_ts": "1700100000.000500"},
            "actions": [{"action_id": f"answer:{fact}:{value}", "value": value, "block_id": f"q:{fact}"}],
        }
        form = "payload=" + httpx.QueryParams({"p": json.dumps(payload)})["p"]
        from urllib.parse import quote

        form = "payload=" + quote(json.dumps(payload))
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(form)}
        return httpx.post(f"{replicas[replica_index].url}/slack/events", content=form, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda args: click(*args), [(1, "deployment", "self-hosted"), (2, "mechanism", "global")]))
    assert results == [200, 200]
    assert fake_slack.wait_for(lambda: any("self-hosted server lost the lease of a concurrency() block"
                                           in c.text() for c in fake_slack.of("chat.update")), timeout=30)


def test_a_killed_replica_leaves_the_conversation_to_the_others(replicas, fake_slack):
    body = event_body(600)
    assert deliver(replicas[0].url, body, 0) == 200
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1, timeout=30)
    replicas[0].kill()
    answer = {"type": "message", "user": "U1", "text": "we're self-hosted, deployment limit", "ts": "1700100001.000600",
              "thread_ts": "1700100000.000600", "channel": "CSUP", "channel_type": "channel"}
    reply = json.dumps({"token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                        "event_id": "EvAfterKill", "event_time": int(time.time()), "event": answer})
    assert deliver(replicas[1].url, reply, 0) == 200
    # the surviving replica refines the reply (in place, or as a new post if the dead one never recorded its ts)
    assert fake_slack.wait_for(lambda: any("self-hosted server lost the deployment" in c.text()
                                           for c in fake_slack.calls), timeout=30), replicas[1].read_log()
