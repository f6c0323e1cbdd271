"""Resolvers `mechanism` and names: which concurrency mechanism, and the user's real names.

Pure logic over what the other resolvers read (no requests). `mechanism` comes first from
what the looked-up run used (its deployment's limit, AwaitingConcurrencySlot in its history,
tagged task runs whose tag has a limit), then from the limits the text names, then from the
only leaking limit, then from what exists at all (nothing → `none`; one kind → that kind).
A weak inference never contradicts what the text already said. `tag_name`, `limit_name`,
`pool_name`, `queue_name`, `deployment_name`, `worker_type`, `flow_run_id` and
`log_source` are set only from things that exist in the workspace. This module must not
issue requests.
"""

from __future__ import annotations

import re

from bot.models import Fact
from bot.workspace.resolvers.concurrency import Inventory, LimitView
from bot.workspace.resolvers.context import Context, plural, workspace_fact

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/ -]{0,79}$")
WORKER_TYPES = {
    "process": "process",
    "docker": "docker",
    "kubernetes": "kubernetes",
    "ecs": "ecs",
    "ecs:push": "ecs",
    "cloud-run": "cloud-run",
    "cloud-run-v2": "cloud-run",
    "cloud-run:push": "cloud-run",
    "cloud-run-v2:push": "cloud-run",
    "prefect:managed": "managed",
}


def _slots(view: LimitView) -> str:
    return f"limit {view.limit}, {plural(view.active_slots, 'active slot')}"


def _leak_words(view: LimitView) -> str:
    if view.kind == "tag":
        return f"{_slots(view)} but {plural(view.running or 0, 'task run')} tagged {view.tag!r} Running"
    runs = plural(view.running or 0, "run")
    return f"{_slots(view)} but {runs} of {view.deployment or 'the deployment'} Running/Pending/Cancelling"


def run_mechanisms(ctx: Context) -> dict[str, str]:
    """Mechanisms the looked-up run used, with evidence."""
    run, inv = ctx.run, ctx.inventory
    found: dict[str, str] = {}
    if run is None:
        return found
    limited = inv.for_deployment(run.deployment_id) if inv and run.deployment_id else None
    if run.awaited_slot:
        found["deployment"] = f"flow run {run.name!r} waited in AwaitingConcurrencySlot"
    elif run.deployment_limit or limited or run.deployment_lease:
        found["deployment"] = f"flow run {run.name!r} belongs to {run.deployment}, which has a concurrency limit"
    if inv is not None:
        tags = [t for t in run.task_tags if inv.tag(t)]
        if tags:
            found["tag"] = f"task runs of {run.name!r} carry the limited tag {tags[0]!r}"
    return found


def named_limits(ctx: Context) -> list[LimitView]:
    inv = ctx.inventory
    if inv is None:
        return []
    by_name: dict[str, LimitView] = {}
    for view in inv.limits:
        if view.kind == "tag" and view.tag:
            by_name.setdefault(view.tag, view)
        if view.kind == "deployment" and view.deployment and "?" not in view.deployment:
            by_name.setdefault(view.deployment, view)
        by_name.setdefault(view.name, view)
    out: list[LimitView] = []
    for name in ctx.mentions.which(by_name):
        if by_name[name] not in out:
            out.append(by_name[name])
    for fact, key in (("tag_name", "tag"), ("limit_name", "global")):
        value = ctx.known_value(fact)
        view = (inv.tag(value) if key == "tag" else inv.named(value)) if value else None
        if view is not None and view not in out:
            out.append(view)
        elif value and view is None and not inv.truncated:
            ctx.missing.setdefault(key if key == "tag" else "limit", value)
    return out


def waiting_deployment(ctx: Context) -> LimitView | None:
    """The deployment limit the text is about: named, the run's, or the only one with waiting runs."""
    inv = ctx.inventory
    if inv is None:
        return None
    if ctx.run is not None and ctx.run.deployment_id:
        return inv.for_deployment(ctx.run.deployment_id)
    named = [v for v in named_limits(ctx) if v.kind == "deployment"]
    if len(named) == 1:
        return named[0]
    if not named and ctx.mentions.named("AwaitingConcurrencySlot"):
        waiting = [v for v in inv.of_kind("deployment") if v.awaiting]
        if len(waiting) == 1:
            return waiting[0]
    return None


def mechanism(ctx: Context) -> Fact | None:
    known = ctx.known_value("mechanism")
    strong = run_mechanisms(ctx)
    if len(strong) == 1:
        ((value, why),) = strong.items()
        return workspace_fact("mechanism", value, why)
    if len(strong) > 1:
        if known in strong:
            return workspace_fact("mechanism", known, strong[known])
        both = {k: v for k, v in _named_mechanisms(ctx).items() if k in strong}
        return _only(both)
    inv = ctx.inventory
    if inv is None:
        return None
    candidates = _named_mechanisms(ctx)
    if not candidates and not _about_something_else(ctx):
        candidates = _only_leak(inv) or _what_exists(ctx, inv)
    if known is not None:
        return workspace_fact("mechanism", known, candidates[known]) if known in candidates else None
    return _only(candidates)


def _about_something_else(ctx: Context) -> bool:
    """The text is about a run, pool or queue it names: global fallbacks would only add noise."""
    if ctx.run is not None or bool(ctx.pools and (ctx.pools.focus or ctx.pools.named_queues)):
        return True
    return waiting_deployment(ctx) is not None


def _only(candidates: dict[str, str]) -> Fact | None:
    if len(candidates) != 1:
        return None
    ((value, why),) = candidates.items()
    return workspace_fact("mechanism", value, why)


def _named_mechanisms(ctx: Context) -> dict[str, str]:
    """Mechanisms of the limits (and full pools) the text or a known fact names."""
    found: dict[str, str] = {}
    for view in named_limits(ctx):
        label = view.tag if view.kind == "tag" else (view.deployment or view.name)
        found.setdefault(view.kind, f"the {view.kind} limit {label!r} exists ({_slots(view)})")
    if ctx.pools is not None:
        for name in ctx.pools.focus:
            pool = ctx.pools.get(name)
            if pool and pool.full and ctx.pools.why.get(name, "").startswith("the pool you named"):
                found.setdefault(
                    "work-pool", f"work pool {name!r} is full ({pool.active_slots}/{pool.concurrency_limit})"
                )
    return found


def _only_leak(inv: Inventory) -> dict[str, str]:
    leaks = inv.leaks
    if len(leaks) != 1:
        return {}
    return {leaks[0].kind: f"the only leaking limit: {leaks[0].name!r} has {_leak_words(leaks[0])}"}


def _what_exists(ctx: Context, inv: Inventory) -> dict[str, str]:
    if inv.truncated or ctx.pools is None:
        return {}
    kinds = {v.kind for v in inv.limits if v.active}
    if any(p.concurrency_limit is not None for p in ctx.pools.pools):
        kinds.add("work-pool")
    if any(q.concurrency_limit is not None for q in ctx.pools.queues):
        kinds.add("work-queue")
    if not kinds:
        return {"none": "your workspace has no concurrency limits of any kind"}
    if len(kinds) == 1:
        (kind,) = kinds
        return {kind: f"the only kind of concurrency limit in your workspace is a {kind} limit"}
    return {}


def name_facts(ctx: Context) -> list[Fact]:
    out: list[Fact] = []
    inv, run, pools = ctx.inventory, ctx.run, ctx.pools
    named = named_limits(ctx)
    if inv is not None:
        tags = [v for v in named if v.kind == "tag"]
        if not tags and run is not None:
            tags = [lim for t in run.task_tags if (lim := inv.tag(t))]
            why = f"task runs of {run.name!r} carry it" if tags else ""
        else:
            why = "you named it and it has a tag limit"
        leaking = [v for v in inv.leaks if v.kind == "tag"]
        fallback = ctx.known_value("mechanism") in (None, "tag") and not _about_something_else(ctx)
        if not tags and len(leaking) == 1 and fallback:
            tags = leaking
            why = "the only tag limit with a leaked slot"
        if len(tags) == 1 and tags[0].tag:
            out.append(workspace_fact("tag_name", tags[0].tag, f"{why} ({_slots(tags[0])})"))
        globals_ = [v for v in named if v.kind == "global"]
        if len(globals_) == 1:
            only = globals_[0]
            out.append(workspace_fact("limit_name", only.name, f"the global limit exists ({_slots(only)})"))
        limited = waiting_deployment(ctx)
        if run is None and limited is not None and limited.deployment and "?" not in limited.deployment:
            why = "you named it" if limited in named else "the only deployment with runs in AwaitingConcurrencySlot"
            out.append(workspace_fact("deployment_name", limited.deployment, f"{why} ({_slots(limited)})"))
    if pools is not None and pools.focus:
        first = pools.get(pools.focus[0])
        if first is not None:
            out.append(workspace_fact("pool_name", first.name, pools.why.get(first.name, "it exists")))
            worker = WORKER_TYPES.get(first.type)
            if worker:
                out.append(workspace_fact("worker_type", worker, f"work pool {first.name!r} is of type {first.type!r}"))
        if len(pools.named_queues) == 1:
            queue = pools.named_queues[0]
            out.append(workspace_fact("queue_name", queue.name, f"the work queue exists in pool {queue.pool!r}"))
    if run is not None:
        out.append(workspace_fact("flow_run_id", run.id, f"flow run {run.name!r} found by {run.found_by}"))
        if run.deployment and "?" not in run.deployment:
            out.append(workspace_fact("deployment_name", run.deployment, f"flow run {run.name!r} belongs to it"))
        if run.work_queue and pools is None:
            out.append(workspace_fact("queue_name", run.work_queue, f"flow run {run.name!r} was sent to it"))
        if len(run.warning_sources) == 1:
            (source,) = run.warning_sources
            if source in ("flow", "task"):
                why = f"the warnings of flow run {run.name!r} are in its {source} logs"
                out.append(workspace_fact("log_source", source, why))
    return [f for f in out if _SAFE.match(f.value)]


def findings(ctx: Context) -> list[str]:
    """Lines for the matcher about leaks in limits the text (or its run) is about.

    Worded like a report of what the bot saw ("leaked slots"), so the knowledge base's own
    signatures recognise it, the way a run's logs are recognised.
    """
    inv = ctx.inventory
    if inv is None:
        return []
    about = list(named_limits(ctx))
    if ctx.run is not None:
        about += [lim for t in ctx.run.task_tags if (lim := inv.tag(t))]
        if ctx.run.deployment_id and (lim := inv.for_deployment(ctx.run.deployment_id)):
            about.append(lim)
    lines: list[str] = []
    seen: set[str] = set()
    for view in about:
        if view.leaked and view.name not in seen:
            seen.add(view.name)
            holder = "task run" if view.kind == "tag" else "flow run"
            lines.append(
                f"Workspace check: concurrency limit '{view.name}' has {view.active_slots} of {view.limit} slots "
                f"taken but only {plural(view.running or 0, holder)} holding them: leaked slots."
            )
    return lines
