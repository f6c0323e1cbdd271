"""Resolver `concurrency`: every concurrency limit in the workspace, and the leaked ones.

Since Prefect 3.4.19 every limit except work pool/queue limits is a global concurrency
limit (GCL): task tag limits are named `tag:<tag>`, deployment limits `deployment:<id>`,
anything else is a user's global limit. This resolver reads them all (paginated — the
client's default page is 10), the v1 tag view for each tag's holders (task run ids), the
deployments behind `deployment:` limits (name, collision strategy), and then checks for
leaks:

- a `tag:<tag>` limit whose active slots exceed the task runs with that tag in Running;
- a deployment limit whose active slots exceed its Running/Pending/Cancelling flow runs.

Limits with slot decay (rate limits) are never called leaked. This module must only read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowFilter,
    FlowFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateName,
    FlowRunFilterStateType,
    TaskRunFilter,
    TaskRunFilterState,
    TaskRunFilterStateType,
    TaskRunFilterTags,
)
from prefect.client.schemas.objects import StateType

from bot.workspace.resolvers.context import Context, enum_value, gather

NAME = "concurrency"
MAX_LIMITS = 2000
MAX_LEAK_CHECKS = 25
HOLDING_STATES = [StateType.RUNNING, StateType.PENDING, StateType.CANCELLING]


@dataclass
class LimitView:
    name: str
    kind: str
    """tag | global | deployment"""
    limit: int
    active_slots: int
    active: bool = True
    slot_decay_per_second: float = 0.0
    tag: str | None = None
    lease_holders: int | None = None
    """Tag limits: task runs the v1 view lists as holding a slot (lease holders)."""
    deployment_id: str | None = None
    deployment: str | None = None
    """Deployment limits: `flow-name/deployment-name`."""
    work_pool: str | None = None
    collision_strategy: str | None = None
    grace_period_seconds: int | None = None
    running: int | None = None
    """Tag: task runs Running with the tag. Deployment: flow runs Running/Pending/Cancelling."""
    awaiting: int | None = None
    """Deployment limits: flow runs waiting in AwaitingConcurrencySlot."""

    @property
    def full(self) -> bool:
        return self.active and self.active_slots >= self.limit

    @property
    def leaked(self) -> int:
        if self.running is None or self.slot_decay_per_second > 0 or self.kind == "global":
            return 0
        return max(0, self.active_slots - self.running)

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "limit": self.limit,
            "active_slots": self.active_slots,
            "active": self.active,
            "full": self.full,
            "slot_decay_per_second": self.slot_decay_per_second,
        }
        if self.kind == "tag":
            out.update(
                tag=self.tag,
                holders=self.running,
                running=self.running,
                lease_holders=self.lease_holders,
                leaked=self.leaked,
            )
        if self.kind == "deployment":
            out.update(
                deployment_id=self.deployment_id,
                deployment=self.deployment,
                work_pool=self.work_pool,
                collision_strategy=self.collision_strategy or "ENQUEUE",
                grace_period_seconds=self.grace_period_seconds,
                holders=self.running,
                running=self.running,
                awaiting=self.awaiting,
                leaked=self.leaked,
            )
        if self.leaked:
            out["fix"] = f"prefect gcl update '{self.name}' --active-slots {self.active_slots - self.leaked}"
        return out


@dataclass
class Inventory:
    limits: list[LimitView] = field(default_factory=list)
    truncated: bool = False

    def of_kind(self, kind: str) -> list[LimitView]:
        return [lim for lim in self.limits if lim.kind == kind]

    def tag(self, tag: str) -> LimitView | None:
        return next((lim for lim in self.limits if lim.kind == "tag" and lim.tag == tag), None)

    def named(self, name: str) -> LimitView | None:
        return next((lim for lim in self.limits if lim.name == name), None)

    def for_deployment(self, deployment_id: str) -> LimitView | None:
        return next((lim for lim in self.limits if lim.deployment_id == deployment_id), None)

    @property
    def leaks(self) -> list[LimitView]:
        return [lim for lim in self.limits if lim.leaked > 0]


async def _pages(fetch: Any, page: int) -> tuple[list[Any], bool]:
    out: list[Any] = []
    offset = 0
    while True:
        batch = await fetch(limit=page, offset=offset)
        out.extend(batch)
        if len(batch) < page:
            return out, False
        offset += page
        if len(out) >= MAX_LIMITS:
            return out, True


def _classify(gcl: Any) -> LimitView:
    name = gcl.name
    view = LimitView(
        name=name,
        kind="global",
        limit=int(gcl.limit),
        active_slots=int(gcl.active_slots or 0),
        active=bool(gcl.active),
        slot_decay_per_second=float(gcl.slot_decay_per_second or 0.0),
    )
    if name.startswith("tag:"):
        view.kind, view.tag = "tag", name[4:]
    elif name.startswith("deployment:"):
        view.kind, view.deployment_id = "deployment", name[len("deployment:") :].lower()
    return view


async def read(client: Any, ctx: Context) -> None:
    (gcls, more_gcls), (v1, more_v1) = await gather(
        lambda: _pages(client.read_global_concurrency_limits, ctx.page),
        lambda: _pages(client.read_concurrency_limits, ctx.page),
    )
    inventory = Inventory(limits=[_classify(g) for g in gcls], truncated=more_gcls or more_v1)
    holders = {lim.tag: len(lim.active_slots or []) for lim in v1}
    for lim in v1:
        if inventory.tag(lim.tag) is None:  # a server older than 3.4.19 keeps tag limits apart
            inventory.limits.append(
                LimitView(name=f"tag:{lim.tag}", kind="tag", tag=lim.tag, limit=lim.concurrency_limit,
                          active_slots=len(lim.active_slots or []))
            )
    for view in inventory.of_kind("tag"):
        view.lease_holders = holders.get(view.tag)
    await gather(
        lambda: _deployments(client, inventory),
        lambda: _deployment_runs(client, inventory, ctx.page),
        lambda: _tag_running(client, inventory),
    )
    ctx.inventory = inventory


async def _deployments(client: Any, inventory: Inventory) -> None:
    views = {v.deployment_id: v for v in inventory.of_kind("deployment") if v.deployment_id}
    if not views:
        return
    ids = [UUID(i) for i in list(views)[:200]]
    deployments = await client.read_deployments(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=ids)))
    flow_ids = list({d.flow_id for d in deployments})
    flows = await client.read_flows(flow_filter=FlowFilter(id=FlowFilterId(any_=flow_ids))) if flow_ids else []
    flow_names = {f.id: f.name for f in flows}
    for d in deployments:
        view = views.get(str(d.id))
        if view is None:
            continue
        view.deployment = f"{flow_names.get(d.flow_id, '?')}/{d.name}"
        view.work_pool = d.work_pool_name
        options = d.concurrency_options
        if options is not None:
            view.collision_strategy = enum_value(options.collision_strategy)
            view.grace_period_seconds = getattr(options, "grace_period_seconds", None)


async def _deployment_runs(client: Any, inventory: Inventory, page: int) -> None:
    views = {v.deployment_id: v for v in inventory.of_kind("deployment") if v.deployment_id}
    if not views:
        return
    ids = [UUID(i) for i in list(views)[:200]]
    deployment_filter = DeploymentFilter(id=DeploymentFilterId(any_=ids))
    holding, awaiting = await gather(
        lambda: client.read_flow_runs(
            deployment_filter=deployment_filter,
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=HOLDING_STATES))),
            limit=page,
        ),
        lambda: client.read_flow_runs(
            deployment_filter=deployment_filter,
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["AwaitingConcurrencySlot"]))
            ),
            limit=page,
        ),
    )
    exact = len(holding) < page
    for view in views.values():
        running = sum(1 for r in holding if str(r.deployment_id) == view.deployment_id)
        view.running = running if exact or running >= view.active_slots else None
        view.awaiting = sum(1 for r in awaiting if str(r.deployment_id) == view.deployment_id)


async def _tag_running(client: Any, inventory: Inventory) -> None:
    candidates = [v for v in inventory.of_kind("tag") if v.active_slots > 0][:MAX_LEAK_CHECKS]

    async def count(view: LimitView) -> None:
        runs = await client.read_task_runs(
            task_run_filter=TaskRunFilter(
                tags=TaskRunFilterTags(all_=[view.tag]),
                state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.RUNNING])),
            ),
            limit=view.active_slots + 1,
        )
        view.running = len(runs)

    await gather(*[lambda v=v: count(v) for v in candidates])
