"""Acks never wait for slow work: ten slow triages in flight, every ack still fast."""

from __future__ import annotations

import threading
import time

from bot.workspace.base import Lookup, LookupRequest
from tests.fakes.slack_api import BOT_USER

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


class SlowWorkspace:
    name = "slow"

    def lookup(self, request: LookupRequest) -> Lookup:
        time.sleep(2.0)
        return Lookup(notes=["I took my time looking."])


def test_acks_stay_fast_with_ten_slow_triages_in_flight(fake_slack, slack_stack, slack_settings, sqlite_url):
    stack = slack_stack(slack_settings, sqlite_url, lambda _key: SlowWorkspace())
    acks: list[float] = []

    def send(i: int) -> None:
        start = time.perf_counter()
        event = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> {LEASE}",
                 "ts": f"1700001000.{i:06d}", "channel": "CSUP"}
        assert stack.event(event).status_code == 200
        acks.append(time.perf_counter() - start)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # while those ten are still being worked on, a slash command is acked at once too
    start = time.perf_counter()
    assert stack.command(LEASE).status_code == 200
    acks.append(time.perf_counter() - start)
    assert len(acks) == 11 and max(acks) < 1.0, acks
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) >= 11, timeout=30)
    assert all("took my time" in c.text() for c in fake_slack.posts() if c.body.get("blocks"))
