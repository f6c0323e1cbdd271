"""`serve` with event worker processes: acks in the front, work in N processes, one bot to Slack."""

from __future__ import annotations

import os
import random
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.fakes.replicas import start_replicas
from tests.scale.test_replicas import deliver, event_body


def workers_of(url: str) -> dict:
    return httpx.get(f"{url}/healthz", timeout=5).json()["workers"]


@pytest.fixture(params=["sqlite", "postgresql"])
def front(request, fake_slack, pg_url, tmp_path):
    database = pg_url if request.param == "postgresql" else f"sqlite:///{tmp_path}/bot.db"
    [replica] = start_replicas(1, database, fake_slack.url, tmp_path, TRIAGE_SLACK_PROCESSES="2")
    deadline = time.monotonic() + 60
    while workers_of(replica.url)["alive"] < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    yield replica
    replica.stop()


def threaded(fake_slack) -> list:
    return [c for c in fake_slack.posts() if c.body.get("thread_ts")]


def test_redelivered_events_are_answered_exactly_once_and_metrics_add_up(front, fake_slack):
    rng = random.Random(7)
    deliveries = [(i, attempt) for i in range(40) for attempt in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)
    with ThreadPoolExecutor(max_workers=16) as pool:
        assert set(pool.map(lambda d: deliver(front.url, event_body(d[0]), d[1]), deliveries)) == {200}
    assert fake_slack.wait_for(lambda: len(threaded(fake_slack)) >= 40, timeout=120), front.read_log()
    time.sleep(1.0)
    assert sorted(c.body["thread_ts"] for c in threaded(fake_slack)) == sorted(
        f"1700100000.{i:06d}" for i in range(40))
    metrics = httpx.get(f"{front.url}/metrics", timeout=5).text
    # counted in the worker processes, summed by the front
    assert 'triage_matches_total{entry="concurrency.lease-renewal-failed"} 40.0' in metrics, metrics
    assert f"triage_slack_requests_total{{type=\"app_mention\"}} {float(len(deliveries))}" in metrics


def test_a_dead_worker_is_replaced_and_events_keep_being_answered(front, fake_slack):
    before = workers_of(front.url)["pids"]
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while workers_of(front.url)["restarts"] < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    after = workers_of(front.url)
    assert after["restarts"] >= 1 and before[0] not in after["pids"]
    for i in range(100, 110):
        assert deliver(front.url, event_body(i), 0) == 200
    assert fake_slack.wait_for(lambda: len(threaded(fake_slack)) >= 10, timeout=90), front.read_log()
    assert httpx.get(f"{front.url}/healthz", timeout=5).status_code == 200


def test_workers_end_when_the_front_is_killed(front):
    pids = workers_of(front.url)["pids"]
    front.kill()
    deadline = time.monotonic() + 15
    while any(os.path.exists(f"/proc/{pid}") and "Z" not in _state(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(os.path.exists(f"/proc/{pid}") and "Z" not in _state(pid) for pid in pids)


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_workers_yield_the_cpu_to_the_front_that_acks(front):
    """On a busy machine acks (Slack's 3 s deadline) must win over triage work."""
    from bot.adapters.slack.processes import WORKER_NICENESS

    front_nice = os.getpriority(os.PRIO_PROCESS, front.process.pid)
    for pid in workers_of(front.url)["pids"]:
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, front_nice + WORKER_NICENESS)
