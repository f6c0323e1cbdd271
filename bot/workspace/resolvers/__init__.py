"""The resolvers: named fact sources that read a workspace, and how their results combine.

Each resolver module reads one part of the workspace into a view on the `Context` and says
which facts and template details it yields, each fact with evidence:

| resolver      | reads                                                  | facts |
|---------------|--------------------------------------------------------|-------|
| `deployment`  | API URL, `/admin/version` (self-hosted)                | deployment, prefect_version |
| `concurrency` | GCLs (tag:/deployment:/global), tag holders, leaks     | (via names) |
| `pools`       | pools, queues, Late runs, workers, slot holders        | (via names) |
| `flow_run`    | a run by id/URL/name: states, tasks, logs, deployment  | (via names), extra text |
| `names`       | pure logic over the views above                        | mechanism and names* |

*`tag_name`, `limit_name`, `pool_name`, `queue_name`, `deployment_name`, `worker_type`,
`flow_run_id`, `log_source`.

Template details (`workspace.get('…')` in reply templates): `server`, `limits`, `leaks`,
`tag_limit`, `global_limit`, `deployment_limit`, `grace_period_seconds`, `pools`, `pool`,
`run`, `missing`. In limit dicts `holders` is how many task runs (tag) or flow runs
(deployment) really hold a slot: Running, resp. Running/Pending/Cancelling.
This package must only read from the workspace.
"""

from __future__ import annotations

from typing import Any

import anyio

from bot.models import Fact
from bot.workspace.base import Lookup
from bot.workspace.connection import StatusRecorder
from bot.workspace.faults import partial_note, status_of, unreachable_note
from bot.workspace.resolvers import concurrency, names, pools, runs, server
from bot.workspace.resolvers.context import Context, guard

WHAT = {
    server.NAME: "the server version",
    concurrency.NAME: "the concurrency limits",
    pools.NAME: "the work pools",
    runs.NAME: "the flow run",
}
MAX_POOLS_IN_DETAILS = 50


def _fatal(exc: BaseException) -> bool:
    """After this failure on the first call, every other read would fail the same way."""
    status = status_of(exc)
    return status is None or status in (401, 429) or status >= 500


async def investigate(client: Any, ctx: Context) -> None:
    """Run every resolver (the version check first: it is also the access check)."""
    await guard(server.NAME, server.read, client, ctx)
    if ctx.faults and _fatal(ctx.faults[-1][1]):
        return

    async def run_then_pools() -> None:
        await guard(runs.NAME, runs.read, client, ctx)
        await guard(pools.NAME, pools.read, client, ctx)

    async with anyio.create_task_group() as group:
        group.start_soon(guard, concurrency.NAME, concurrency.read, client, ctx)
        if ctx.refs.any_run:
            group.start_soon(run_then_pools)
        else:
            group.start_soon(guard, pools.NAME, pools.read, client, ctx)


def conclude(ctx: Context, recorder: StatusRecorder, *, timed_out: bool) -> Lookup:
    """Facts, template details, extra text and notes from whatever was read."""
    if recorder.ok == 0:
        exc = ctx.faults[0][1] if ctx.faults else None
        last = recorder.last_error if timed_out else None
        return Lookup(notes=[unreachable_note(exc, ctx.config, deadline=ctx.deadline, last_status=last)])
    notes = list(ctx.notes)
    seen: set[str] = set()
    for what, exc in ctx.faults:
        note = partial_note(WHAT.get(what, what), exc, ctx.config, deadline=ctx.deadline)
        if note not in seen:
            seen.add(note)
            notes.append(note)
    if timed_out:
        notes.append(
            f"I ran out of time reading your workspace ({ctx.deadline:g} s); this answer uses what I had read."
        )
    facts: dict[str, Fact] = {}
    for fact in [*server.facts(ctx), *names.name_facts(ctx)]:
        facts.setdefault(fact.name, fact)
    mechanism = names.mechanism(ctx)
    if mechanism is not None:
        facts["mechanism"] = mechanism
    return Lookup(
        facts=facts,
        details=details(ctx, facts),
        extra_text="\n".join(t for t in [ctx.run.text if ctx.run else "", *names.findings(ctx)] if t),
        notes=notes,
    )


def details(ctx: Context, facts: dict[str, Fact]) -> dict[str, Any]:
    out: dict[str, Any] = server.details(ctx)
    inv = ctx.inventory
    if inv is not None:
        out["limits"] = {
            "tag": [v.detail() for v in inv.of_kind("tag")],
            "global": [v.detail() for v in inv.of_kind("global")],
            "deployment": [v.detail() for v in inv.of_kind("deployment")],
            "truncated": inv.truncated,
        }
        named = names.named_limits(ctx)
        out["leaks"] = [v.detail() for v in sorted(inv.leaks, key=lambda v: (v not in named, v.name))]
        tag = facts.get("tag_name") or ctx.known.get("tag_name")
        if tag and (view := inv.tag(tag.value)):
            out["tag_limit"] = view.detail()
        limit = facts.get("limit_name") or ctx.known.get("limit_name")
        if limit and (view := inv.named(limit.value)):
            out["global_limit"] = view.detail()
        limited = names.waiting_deployment(ctx)
        if limited is not None:
            out["deployment_limit"] = limited.detail()
    grace = (out.get("deployment_limit") or {}).get("grace_period_seconds")
    if grace:
        out["grace_period_seconds"] = grace
    if ctx.pools is not None:
        out["pools"] = [
            {k: v for k, v in p.detail().items() if k not in ("queues", "workers")}
            for p in ctx.pools.pools[:MAX_POOLS_IN_DETAILS]
        ]
        if ctx.pools.focus and (pool := ctx.pools.get(ctx.pools.focus[0])):
            out["pool"] = pool.detail()
    if ctx.run is not None:
        out["run"] = ctx.run.detail()
    if ctx.missing:
        out["missing"] = dict(ctx.missing)
    return out
