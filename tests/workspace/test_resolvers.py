"""Each resolver against a real, seeded Prefect server (the workspace must stay unchanged)."""

from __future__ import annotations

import asyncio
import time

import prefect
import pytest

from bot.models import Fact, FactSource
from bot.workspace.base import Lookup, LookupRequest
from bot.workspace.connection import ReadOnlyViolation, WorkspaceConfig, open_client
from bot.workspace.prefect import PrefectWorkspace
from bot.workspace.resolvers import investigate
from bot.workspace.resolvers.context import Context
from bot.workspace.textrefs import Mentions, references
from tests.fakes.prefect_server import STATS, Seed
from tests.workspace.conftest import PATIENT

pytestmark = pytest.mark.prefect_server


def read(url: str, text: str = "", page: int = 200, **known: str) -> Context:
    facts = {k: Fact(name=k, value=v, source=FactSource.TEXT) for k, v in known.items()}

    async def go() -> Context:
        ctx = Context(
            config=WorkspaceConfig(api_url=url), text=text, known=facts, refs=references(text),
            mentions=Mentions(text), deadline=10.0, page=page,
        )
        async with open_client(ctx.config, timeout=10.0) as client:
            await investigate(client, ctx)
        assert not ctx.faults, ctx.faults
        return ctx

    return asyncio.run(go())


def ask(ws: PrefectWorkspace, text: str, known: dict[str, Fact] | None = None) -> Lookup:
    return ws.lookup(LookupRequest(text=text, known=known or {}, deadline_seconds=PATIENT))


def values(lookup: Lookup) -> dict[str, str]:
    return {name: fact.value for name, fact in lookup.facts.items()}


def assert_facts(lookup: Lookup, **expected: str) -> None:
    got = values(lookup)
    assert {name: got.get(name) for name in expected} == expected


def test_deployment_and_server_version(seeded: PrefectWorkspace) -> None:
    lookup = ask(seeded, "anything")
    assert lookup.facts["deployment"].value == "self-hosted"
    assert lookup.facts["deployment"].source is FactSource.WORKSPACE
    assert lookup.facts["prefect_version"].value == prefect.__version__
    assert "/api/admin/version" in lookup.facts["prefect_version"].evidence
    assert lookup.details["server"] == {
        "kind": "self-hosted", "url": seeded.config.api_url, "name": seeded.name, "version": prefect.__version__,
    }
    assert lookup.notes == []


def test_a_version_from_the_text_is_kept(seeded: PrefectWorkspace) -> None:
    known = {"prefect_version": Fact(name="prefect_version", value="3.4.14", source=FactSource.TEXT)}
    lookup = ask(seeded, "prefect 3.4.14", known=known)
    assert "prefect_version" not in lookup.facts
    assert lookup.details["server"]["version"] == prefect.__version__


@pytest.mark.parametrize("page", [200, 3])
def test_inventory_reads_every_limit_past_the_client_default_page(workspace_unchanged: Seed, page: int) -> None:
    inv = read(workspace_unchanged.url, page=page).inventory
    assert inv is not None and not inv.truncated
    names = {v.name for v in inv.limits}
    assert len(names) == 15 > 10  # the client's default page is 10
    assert {"tag:db-write", "tag:api-calls", "db-global", "api-rate", "bulk-07"} <= names
    assert {v.tag for v in inv.of_kind("tag")} == {"db-write", "api-calls"}
    deployments = {v.deployment: v for v in inv.of_kind("deployment")}
    assert set(deployments) == {"etl/nightly", "reports/hourly", "lease-demo/prod"}
    nightly = deployments["etl/nightly"]
    assert (nightly.limit, nightly.active_slots, nightly.running, nightly.awaiting) == (1, 1, 1, 1)
    assert nightly.work_pool == "etl-pool"
    assert nightly.detail()["collision_strategy"] == "ENQUEUE"


def test_leaks_are_slots_nothing_holds(workspace_unchanged: Seed) -> None:
    inv = read(workspace_unchanged.url).inventory
    assert inv is not None
    leaks = {v.name: v for v in inv.leaks}
    assert set(leaks) == {"tag:db-write", f"deployment:{workspace_unchanged.ids['hourly']}"}
    tag = leaks["tag:db-write"].detail()
    assert (tag["active_slots"], tag["holders"], tag["lease_holders"], tag["leaked"]) == (1, 0, 0, 1)
    assert tag["fix"] == "prefect gcl update 'tag:db-write' --active-slots 0"
    hourly = leaks[f"deployment:{workspace_unchanged.ids['hourly']}"].detail()
    assert (hourly["deployment"], hourly["holders"], hourly["leaked"]) == ("reports/hourly", 0, 1)
    assert inv.named("api-rate").leaked == 0  # a rate limit's slots decay; never "leaked"


def test_tag_named_in_the_text(seeded: PrefectWorkspace) -> None:
    lookup = ask(seeded, "tasks tagged db-write never start")
    assert_facts(lookup, tag_name="db-write", mechanism="tag")
    assert "limit 1, 1 active slot" in lookup.facts["tag_name"].evidence
    assert lookup.details["tag_limit"]["leaked"] == 1
    assert lookup.details["leaks"][0]["name"] == "tag:db-write"


def test_the_only_leaking_tag_when_nothing_is_named(seeded: PrefectWorkspace) -> None:
    lookup = ask(seeded, "my tagged tasks never start, slots are never released")
    assert lookup.facts["tag_name"].value == "db-write"
    assert "leaked" in lookup.facts["tag_name"].evidence
    assert "mechanism" not in lookup.facts  # two limits leak (a tag and a deployment): not guessed


def test_paused_pool_named_in_the_text(seeded: PrefectWorkspace) -> None:
    lookup = ask(seeded, "runs in etl-pool stay Late")
    assert_facts(lookup, pool_name="etl-pool", worker_type="process")
    pool = lookup.details["pool"]
    assert (pool["name"], pool["paused"], pool["status"]) == ("etl-pool", True, "PAUSED")
    assert (pool["concurrency_limit"], pool["active_slots"], pool["full"]) == (2, 1, False)
    assert (pool["late_runs"], pool["running_runs"], pool["pending_runs"]) == (2, 1, 0)
    assert pool["workers_read"] and pool["workers"] == [] and pool["online_workers"] == 0
    assert {p["name"] for p in lookup.details["pools"]} == {"etl-pool", "k8s-pool"}
    assert "tag_name" not in lookup.facts and "mechanism" not in lookup.facts  # not about the leaks


def test_worker_heartbeats(seeded: PrefectWorkspace) -> None:
    lookup = ask(seeded, "is the worker on k8s-pool alive?")
    pool = lookup.details["pool"]
    assert [w["name"] for w in pool["workers"]] == ["k8s-worker-1"]
    assert pool["workers"][0]["seconds_since_heartbeat"] is not None
    assert lookup.facts["worker_type"].value == "kubernetes"


def test_late_runs_point_at_the_only_pool_with_late_runs(seeded: PrefectWorkspace) -> None:
    lookup = ask(seeded, "all our runs are stuck in Late")
    assert lookup.facts["pool_name"].value == "etl-pool"
    assert lookup.facts["pool_name"].evidence == "the only work pool with Late runs"


def test_run_by_id_reads_state_history_deployment_and_logs(seeded: PrefectWorkspace, seeded_workspace: Seed) -> None:
    run_id = seeded_workspace.ids["crashed"]
    lookup = ask(seeded, f"{run_id} crashed, why?")
    run = lookup.details["run"]
    assert (run["id"], run["state_name"], run["deployment"]) == (run_id, "Crashed", "lease-demo/prod")
    assert [s["name"] for s in run["states"]][-3:] == ["Pending", "Running", "Crashed"]
    assert run["work_pool"] == "k8s-pool" and run["found_by"] == "its id"
    assert "Concurrency lease renewal failed - slots are no longer reserved." in lookup.extra_text
    assert f"| WARNING | Flow run '{run['name']}' - Concurrency lease" in lookup.extra_text
    assert "Crashed: Execution was cancelled by the runtime environment." in lookup.extra_text
    assert_facts(
        lookup, flow_run_id=run_id, mechanism="deployment", deployment_name="lease-demo/prod", log_source="flow"
    )
    assert lookup.details["deployment_limit"]["deployment"] == "lease-demo/prod"


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:4200/runs/flow-run/{id}",
        "https://app.prefect.cloud/account/0f0e1234-1111-2222-3333-444455556666/workspace/"
        "0f0e1234-1111-2222-3333-444455556667/runs/flow-run/{id}",
        "my run {name} crashed overnight",
    ],
)
def test_run_by_url_or_name(seeded: PrefectWorkspace, seeded_workspace: Seed, template: str) -> None:
    ids = seeded_workspace.ids
    lookup = ask(seeded, template.format(id=ids["crashed"], name=ids["crashed_name"]))
    assert lookup.details["run"]["id"] == ids["crashed"]
    assert "lease renewal failed" in lookup.extra_text


def test_run_by_task_run_id_uses_its_tags(seeded: PrefectWorkspace, seeded_workspace: Seed) -> None:
    lookup = ask(seeded, f"task run {seeded_workspace.ids['task_run']} is Pending forever")
    run = lookup.details["run"]
    assert run["id"] == seeded_workspace.ids["tagged"] and run["task_tags"] == ["db-write"]
    assert_facts(lookup, mechanism="tag", tag_name="db-write")


def test_waiting_run_is_deployment_limited(seeded: PrefectWorkspace, seeded_workspace: Seed) -> None:
    lookup = ask(seeded, f"run {seeded_workspace.ids['nightly_waiting']} never starts")
    assert lookup.details["run"]["awaited_slot"] is True
    assert lookup.facts["mechanism"].value == "deployment"
    assert "AwaitingConcurrencySlot" in lookup.facts["mechanism"].evidence
    limit = lookup.details["deployment_limit"]
    assert (limit["deployment"], limit["active_slots"], limit["holders"], limit["awaiting"]) == ("etl/nightly", 1, 1, 1)


def test_an_unknown_run_is_reported_missing(seeded: PrefectWorkspace) -> None:
    lookup = ask(seeded, "run 11111111-2222-3333-4444-555555555555 crashed")
    assert lookup.details["missing"] == {"flow_run": "11111111-2222-3333-4444-555555555555"}
    assert "flow_run_id" not in lookup.facts and lookup.extra_text == ""


def test_lookup_time(workspace_unchanged: Seed) -> None:
    """With the default 4 s deadline a full lookup (a run, its logs, limits, pools) completes."""
    ws = PrefectWorkspace(WorkspaceConfig(api_url=workspace_unchanged.url), cache_seconds=0)
    text = f"{workspace_unchanged.ids['crashed']} crashed; tasks tagged db-write never start in etl-pool"
    started = time.perf_counter()
    lookup = ws.lookup(LookupRequest(text=text))
    STATS["lookup_seconds"] = round(time.perf_counter() - started, 2)
    assert STATS["lookup_seconds"] < 4.0 + 0.5
    assert lookup.notes == [] or "ran out of time" in lookup.notes[-1]  # a loaded machine may cut it short
    assert lookup.facts["deployment"].value == "self-hosted"


def test_the_client_refuses_writes(workspace_unchanged: Seed) -> None:
    async def attempt() -> None:
        async with open_client(WorkspaceConfig(api_url=workspace_unchanged.url), timeout=5.0) as client:
            await client.create_concurrency_limit(tag="oops", concurrency_limit=1)

    with pytest.raises(ReadOnlyViolation):
        asyncio.run(attempt())
