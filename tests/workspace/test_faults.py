"""A broken workspace never breaks triage: no facts, a short note, an answer within the deadline."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest
from pydantic import SecretStr

from bot.models import Inbound
from bot.triage import Engine
from bot.workspace.base import Lookup, LookupRequest
from bot.workspace.connection import WorkspaceConfig
from bot.workspace.prefect import JOIN_GRACE, PrefectWorkspace

KEY = "pnu_" + "k" * 36
LEASE_LINE = (
    "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."
)
DEADLINE = 2.0


def workspace(url: str, deadline: float = DEADLINE) -> PrefectWorkspace:
    return PrefectWorkspace(WorkspaceConfig(api_url=url, api_key=SecretStr(KEY)), deadline=deadline)


def timed_lookup(ws: PrefectWorkspace, text: str = LEASE_LINE) -> tuple[Lookup, float]:
    started = time.perf_counter()
    lookup = ws.lookup(LookupRequest(text=text, deadline_seconds=ws.deadline))
    return lookup, time.perf_counter() - started


def assert_degraded(lookup: Lookup, elapsed: float, *words: str) -> None:
    assert lookup.facts == {} and lookup.details == {} and lookup.extra_text == ""
    assert len(lookup.notes) == 1, lookup.notes
    note = lookup.notes[0]
    assert note.startswith("I could not reach your workspace:"), note
    for word in words:
        assert word in note, note
    assert KEY not in note and KEY[4:12] not in note
    assert elapsed < DEADLINE + JOIN_GRACE + 0.5, elapsed


def test_api_down(dead_url: str) -> None:
    lookup, elapsed = timed_lookup(workspace(dead_url))
    assert_degraded(lookup, elapsed, "nothing is listening", "PREFECT_API_URL")


def test_api_hangs(silent_url: str) -> None:
    lookup, elapsed = timed_lookup(workspace(silent_url))
    assert_degraded(lookup, elapsed, f"no answer from {silent_url} within {DEADLINE:g} s")
    assert elapsed >= DEADLINE - 0.5


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (401, ["401", "API key", "PREFECT_API_KEY", "rejected"]),
        (403, ["403", "role"]),
        (404, ["404"]),
        (500, ["500", "internal error"]),
    ],
)
def test_error_statuses(status_url: Callable[..., str], status: int, words: list[str]) -> None:
    lookup, elapsed = timed_lookup(workspace(status_url(status)))
    assert_degraded(lookup, elapsed, *words)
    assert elapsed < 1.5  # answered at once: no waiting for the deadline


@pytest.mark.parametrize("status", [429, 503])
def test_retried_statuses_explain_themselves_at_the_deadline(status_url: Callable[..., str], status: int) -> None:
    lookup, elapsed = timed_lookup(workspace(status_url(status, retry_after=1)))
    assert_degraded(lookup, elapsed, str(status), f"gave up after {DEADLINE:g} s")


def test_cloud_404_explains_the_workspace_ids(status_url: Callable[..., str]) -> None:
    ws = workspace(status_url(404))
    cloud = WorkspaceConfig(
        api_url="https://api.prefect.cloud/api/accounts/0f0e1234-1111-2222-3333-444455556666/workspaces/"
        "0f0e1234-1111-2222-3333-444455556667",
        api_key=SecretStr(KEY),
    )
    from bot.workspace.faults import status_reason

    assert "account and workspace ids" in status_reason(404, cloud)
    assert "belongs to the workspace" in status_reason(404, cloud)
    assert ws.lookup(LookupRequest(text="x")).notes  # and the real 404 path degrades too


def test_lookup_works_from_a_thread_with_a_running_loop(dead_url: str) -> None:
    async def inside_a_loop() -> Lookup:
        return workspace(dead_url).lookup(LookupRequest(text="x"))

    lookup = asyncio.run(inside_a_loop())
    assert lookup.notes and lookup.facts == {}


def test_concurrent_lookups_from_many_threads(silent_url: str) -> None:
    ws = workspace(silent_url, deadline=1.0)
    results: list[Lookup] = []
    threads = [threading.Thread(target=lambda: results.append(ws.lookup(LookupRequest(text="x")))) for _ in range(8)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(results) == 8 and all(r.notes for r in results)
    assert time.perf_counter() - started < 1.0 + JOIN_GRACE + 1.0


def test_failures_are_not_cached(dead_url: str) -> None:
    ws = workspace(dead_url)
    ws.lookup(LookupRequest(text="x"))
    assert ws._cache == {}


@pytest.mark.parametrize("kind", ["down", "slow", "401", "500"])
def test_triage_still_answers_and_asks(
    engine: Engine, kind: str, dead_url: str, silent_url: str, status_url: Callable[..., str]
) -> None:
    url = {"down": dead_url, "slow": silent_url}.get(kind) or status_url(int(kind))
    deadline = engine.settings.workspace_deadline_seconds
    ws = workspace(url, deadline=deadline)
    started = time.perf_counter()
    result = engine.triage(Inbound(text=LEASE_LINE), ws)
    elapsed = time.perf_counter() - started
    assert elapsed < deadline + 1.0
    assert result.entry == "concurrency.lease-renewal-failed"
    assert result.questions[:1] == ["deployment"]
    reply = result.reply.markdown()
    assert "I could not reach your workspace" in reply and "I'll ask instead" in reply
    assert KEY not in reply
    assert all(f.source.value != "workspace" for f in result.facts.values())
