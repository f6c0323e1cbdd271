"""Pure parts of the workspace adapter: text references, the read-only guard, mechanism rules."""

from __future__ import annotations

import httpx
import pytest

from bot.models import Fact, FactSource
from bot.workspace.connection import ReadOnlyViolation, WorkspaceConfig, is_cloud, refuse_writes
from bot.workspace.resolvers import names
from bot.workspace.resolvers.concurrency import Inventory, LimitView
from bot.workspace.resolvers.context import Context
from bot.workspace.resolvers.pools import PoolsView, PoolView
from bot.workspace.resolvers.runs import RunView
from bot.workspace.textrefs import Mentions, references

RUN = "5940f161-94bd-49f9-87cc-a3fb463da551"
ACCOUNT = "0f0e1234-1111-2222-3333-444455556666"
WS = "0f0e1234-1111-2222-3333-444455556667"


def test_references_tell_runs_from_account_workspace_and_lease_ids() -> None:
    refs = references(
        f"see https://app.prefect.cloud/account/{ACCOUNT}/workspace/{WS}/runs/flow-run/{RUN}\n"
        "Lease ID: 7c1e2f4a-3b5d-4e6f-8a9b-0c1d2e3f4a5b and deployment:22222222-2222-3333-4444-555555555555\n"
        "13:15:56.347 | WARNING | Flow run 'spiritual-oriole' - boom; also run brave-otter\n"
        "task /runs/task-run/33333333-2222-3333-4444-555555555555 and 44444444-2222-3333-4444-555555555555"
    )
    assert refs.flow_run_ids == [RUN]
    assert refs.other_ids == ["44444444-2222-3333-4444-555555555555"]
    assert refs.task_run_ids == ["33333333-2222-3333-4444-555555555555"]
    assert refs.deployment_ids == ["22222222-2222-3333-4444-555555555555"]
    assert refs.cloud_workspaces == [(ACCOUNT, WS)]
    assert refs.run_names == ["spiritual-oriole", "brave-otter"]


def test_references_scan_huge_pastes_quickly() -> None:
    import time

    text = ("x" * 100 + "\n") * 200_000 + f"run {RUN}"
    started = time.perf_counter()
    refs = references(text)
    assert refs.other_ids == [RUN]
    assert time.perf_counter() - started < 2.0


def test_mentions_match_whole_names_only() -> None:
    m = Mentions("tasks tagged db-write (tag:api-calls) hang in etl-pool; concurrency('db global')")
    assert m.which(["db-write", "api-calls", "etl-pool", "db global", "write", "pool", "etl"]) == [
        "db-write", "api-calls", "etl-pool", "db global",
    ]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/api/work_pools/etl-pool", True),
        ("POST", "/api/v2/concurrency_limits/filter", True),
        ("POST", "/api/work_pools/etl-pool/workers/filter", True),
        ("POST", "/api/flow_runs/count", True),
        ("POST", "/api/concurrency_limits/", False),
        ("POST", "/api/v2/concurrency_limits/increment", False),
        ("POST", "/api/work_pools/etl-pool/get_scheduled_flow_runs", False),
        ("POST", "/api/flow_runs/5940f161-94bd-49f9-87cc-a3fb463da551/set_state", False),
        ("PATCH", "/api/work_pools/etl-pool", False),
        ("DELETE", "/api/concurrency_limits/tag/db-write", False),
    ],
)
def test_read_only_guard(method: str, path: str, allowed: bool) -> None:
    import asyncio

    request = httpx.Request(method, f"http://127.0.0.1:4200{path}")
    if allowed:
        asyncio.run(refuse_writes(request))
    else:
        with pytest.raises(ReadOnlyViolation):
            asyncio.run(refuse_writes(request))


def test_cloud_detection() -> None:
    assert is_cloud(f"https://api.prefect.cloud/api/accounts/{ACCOUNT}/workspaces/{WS}")
    assert is_cloud(f"https://proxy.example.com/api/accounts/{ACCOUNT}/workspaces/{WS}")
    assert not is_cloud("http://prefect.internal:4200/api")


def ctx(text: str = "", inventory: Inventory | None = None, pools: PoolsView | None = None,
        run: RunView | None = None, **known: str) -> Context:
    return Context(
        config=WorkspaceConfig(api_url="http://x:4200/api"), text=text,
        known={k: Fact(name=k, value=v, source=FactSource.TEXT) for k, v in known.items()},
        refs=references(text), mentions=Mentions(text), deadline=4.0,
        inventory=inventory, pools=pools, run=run,
    )


def tag(name: str, active: int = 0, running: int | None = None) -> LimitView:
    return LimitView(name=f"tag:{name}", kind="tag", tag=name, limit=1, active_slots=active, running=running)


def empty_pools() -> PoolsView:
    return PoolsView(pools=[], queues=[])


def test_nothing_exists_means_no_mechanism() -> None:
    fact = names.mechanism(ctx("my flow crashed", Inventory(), empty_pools()))
    assert fact is not None and fact.value == "none" and fact.source is FactSource.WORKSPACE


def test_one_kind_of_limit() -> None:
    fact = names.mechanism(ctx("lease renewal failed", Inventory([tag("db-write")]), empty_pools()))
    assert fact is not None and fact.value == "tag"


def test_a_pool_limit_counts_as_a_kind() -> None:
    pools = PoolsView(pools=[PoolView("p", "process", "READY", False, 3, 0)], queues=[])
    assert names.mechanism(ctx("x", Inventory([tag("db-write")]), pools)) is None


def test_weak_evidence_never_contradicts_the_text() -> None:
    inventory = Inventory([tag("db-write"), LimitView(name="db-global", kind="global", limit=2, active_slots=0)])
    assert names.mechanism(ctx("db-global is stuck", inventory, empty_pools(), mechanism="tag")) is None
    confirmed = names.mechanism(ctx("db-write is stuck", inventory, empty_pools(), mechanism="tag"))
    assert confirmed is not None and confirmed.value == "tag" and "exists" in confirmed.evidence


def test_the_run_wins() -> None:
    run = RunView(id="r", name="brave-otter", found_by="its id", flow="f", deployment="f/d", deployment_id="d1",
                  state_type="CRASHED", state_name="Crashed", state_message=None, tags=[], work_pool=None,
                  work_queue=None, awaited_slot=True)
    fact = names.mechanism(ctx("db-write", Inventory([tag("db-write")]), empty_pools(), run=run, mechanism="tag"))
    assert fact is not None and fact.value == "deployment" and "AwaitingConcurrencySlot" in fact.evidence


def test_leak_findings_only_for_limits_the_text_is_about() -> None:
    inventory = Inventory([tag("db-write", active=1, running=0), tag("other", active=1, running=0)])
    lines = names.findings(ctx("tasks tagged db-write hang", inventory, empty_pools()))
    assert lines == [
        "Workspace check: concurrency limit 'tag:db-write' has 1 of 1 slots taken but only 0 task runs "
        "holding them: leaked slots."
    ]
    assert names.findings(ctx("something else", inventory, empty_pools())) == []
