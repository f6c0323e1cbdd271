"""Resolver `pools`: work pools and queues — status, paused, limits, slots, workers, Late runs.

Reads every pool (status READY/NOT_READY/PAUSED, `is_paused`, `concurrency_limit`,
`active_slots`), every queue, and how many runs are Late in each pool. Then, for the pools
that matter (named in the text or a known fact, the looked-up run's pool, the only pool
with Late runs, or the only pool), it reads the workers' heartbeats and the runs holding
pool slots (Running/Pending: zombies fill a pool limit until their state changes).
Work pool and queue limits are counted from run states; they have no leases. This module
must only read (no `get_scheduled_flow_runs`: polling marks queues as polled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateName,
    FlowRunFilterStateType,
    WorkPoolFilter,
    WorkPoolFilterName,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort

from bot.workspace.resolvers.context import Context, ago_seconds, enum_value, gather, iso

NAME = "pools"
MAX_FOCUS = 3
PUSH_TYPES = ("prefect:managed",)
GENERIC_QUEUE_NAMES = {"default"}


@dataclass
class QueueView:
    name: str
    pool: str | None
    paused: bool
    concurrency_limit: int | None
    status: str | None
    last_polled: str | None
    seconds_since_poll: int | None

    def detail(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PoolView:
    name: str
    type: str
    status: str | None
    paused: bool
    concurrency_limit: int | None
    active_slots: int
    queues: list[QueueView] = field(default_factory=list)
    workers: list[dict[str, Any]] | None = None
    late_runs: int = 0
    running_runs: int | None = None
    pending_runs: int | None = None
    oldest_running_minutes: int | None = None

    @property
    def full(self) -> bool:
        return self.concurrency_limit is not None and self.active_slots >= self.concurrency_limit

    @property
    def push(self) -> bool:
        return self.type.endswith(":push") or self.type in PUSH_TYPES

    @property
    def online_workers(self) -> int | None:
        if self.workers is None:
            return None
        return sum(1 for w in self.workers if w["status"] == "ONLINE")

    def detail(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "status": self.status,
            "paused": self.paused,
            "concurrency_limit": self.concurrency_limit,
            "active_slots": self.active_slots,
            "full": self.full,
            "push": self.push,
            "late_runs": self.late_runs,
            "running_runs": self.running_runs,
            "pending_runs": self.pending_runs,
            "oldest_running_minutes": self.oldest_running_minutes,
            "workers": list(self.workers or []),
            "workers_read": self.workers is not None,
            "online_workers": self.online_workers,
            "queues": [q.detail() for q in self.queues],
            "paused_queues": [q.name for q in self.queues if q.paused],
            "limited_queues": [q.name for q in self.queues if q.concurrency_limit is not None],
        }


@dataclass
class PoolsView:
    pools: list[PoolView]
    queues: list[QueueView]
    focus: list[str] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)
    """Why each focus pool was chosen (evidence for the `pool_name` fact)."""
    named_queues: list[QueueView] = field(default_factory=list)

    def get(self, name: str | None) -> PoolView | None:
        return next((p for p in self.pools if p.name == name), None) if name else None


def _queue(q: Any) -> QueueView:
    return QueueView(
        name=q.name,
        pool=q.work_pool_name,
        paused=bool(q.is_paused),
        concurrency_limit=q.concurrency_limit,
        status=enum_value(q.status),
        last_polled=iso(q.last_polled),
        seconds_since_poll=ago_seconds(q.last_polled),
    )


def _pool(p: Any) -> PoolView:
    return PoolView(
        name=p.name,
        type=p.type or "",
        status=enum_value(p.status),
        paused=bool(p.is_paused),
        concurrency_limit=p.concurrency_limit,
        active_slots=int(p.active_slots or 0),
    )


def _choose(ctx: Context, view: PoolsView) -> None:
    names = [p.name for p in view.pools]
    queue_names = [q.name for q in view.queues if q.name.lower() not in GENERIC_QUEUE_NAMES]
    view.named_queues = [q for q in view.queues if q.name in ctx.mentions.which(queue_names)]
    picks: list[tuple[str, str]] = [(n, "the pool you named exists") for n in ctx.mentions.which(names)]
    picks += [(n, "the pool in the URL you pasted") for n in ctx.refs.pool_names if n in names]
    known = ctx.known_value("pool_name")
    if known in names:
        picks.append((known, "the pool you named exists"))
    elif known:
        ctx.missing.setdefault("pool", known)
    picks += [(q.pool, f"queue {q.name!r} belongs to it") for q in view.named_queues if q.pool]
    if ctx.run is not None and ctx.run.work_pool in names:
        picks.append((ctx.run.work_pool, f"flow run {ctx.run.name!r} was sent to it"))
    late = [p.name for p in view.pools if p.late_runs]
    if not picks and ctx.refs.mentions_late and len(late) == 1:
        picks.append((late[0], "the only work pool with Late runs"))
    if not picks and ctx.refs.mentions_late and len(names) == 1:
        picks.append((names[0], "the only work pool in your workspace"))
    for name, why in picks:
        if name not in view.focus and len(view.focus) < MAX_FOCUS:
            view.focus.append(name)
            view.why[name] = why


async def read(client: Any, ctx: Context) -> None:
    pools, queues, late = await gather(
        lambda: client.read_work_pools(limit=ctx.page),
        lambda: client.read_work_queues(limit=ctx.page),
        lambda: client.read_flow_runs(
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Late"]))),
            limit=ctx.page,
        ),
    )
    view = PoolsView(pools=[_pool(p) for p in pools], queues=[_queue(q) for q in queues])
    for pool in view.pools:
        pool.queues = [q for q in view.queues if q.pool == pool.name]
        pool.late_runs = sum(1 for r in late if r.work_pool_name == pool.name)
    _choose(ctx, view)
    await gather(*[lambda p=view.get(name): _details(client, p) for name in view.focus])
    ctx.pools = view


async def _details(client: Any, pool: PoolView | None) -> None:
    if pool is None:
        return
    workers, holding = await gather(
        lambda: client.read_workers_for_work_pool(pool.name, limit=50),
        lambda: client.read_flow_runs(
            work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool.name])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING])
                )
            ),
            sort=FlowRunSort.START_TIME_ASC,
            limit=200,
        ),
    )
    pool.workers = [
        {
            "name": w.name,
            "status": enum_value(w.status),
            "last_heartbeat": iso(w.last_heartbeat_time),
            "seconds_since_heartbeat": ago_seconds(w.last_heartbeat_time),
        }
        for w in sorted(workers, key=lambda w: ago_seconds(w.last_heartbeat_time) or 10**9)
    ]
    pool.running_runs = sum(1 for r in holding if r.state_type == StateType.RUNNING)
    pool.pending_runs = sum(1 for r in holding if r.state_type == StateType.PENDING)
    starts = [r.start_time or r.expected_start_time for r in holding if r.state_type == StateType.RUNNING]
    starts = [s for s in starts if s is not None]
    if starts:
        oldest = ago_seconds(min(starts), datetime.now(UTC))
        pool.oldest_running_minutes = None if oldest is None else oldest // 60
