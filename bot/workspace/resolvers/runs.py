"""Resolver `flow_run`: the flow run a text points at, with its history, tasks and logs.

A run is found by a flow-run URL (Cloud or self-hosted UI, or API), a bare UUID (a flow
run, else a task run whose flow run is used), or a Prefect run name (`spiritual-oriole`,
newest first). For it the resolver reads the state and state history, tags, deployment
(with its concurrency limit), work pool and queue, task runs with their tags, and the
run's logs (the newest 200 lines plus up to 200 warnings and errors). The logs and state
messages are rendered in Prefect's console format and returned as extra text for the
matcher, so "my run abc… crashed" becomes a diagnosis. This module must only read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterName,
    LogFilter,
    LogFilterFlowRunId,
    LogFilterLevel,
    TaskRunFilter,
    TaskRunFilterId,
)
from prefect.client.schemas.sorting import FlowRunSort, LogSort

from bot.workspace.resolvers.context import Context, enum_value, gather, iso

NAME = "flow_run"
LOG_PAGE = 200
MAX_MESSAGE = 4000
MAX_TEXT = 256 * 1024
LOGGER_SOURCE = {"prefect.flow_runs": "flow", "prefect.task_runs": "task"}


@dataclass
class RunView:
    id: str
    name: str
    found_by: str
    flow: str | None
    deployment: str | None
    deployment_id: str | None
    state_type: str | None
    state_name: str | None
    state_message: str | None
    tags: list[str]
    work_pool: str | None
    work_queue: str | None
    states: list[dict[str, Any]] = field(default_factory=list)
    task_runs: list[dict[str, Any]] = field(default_factory=list)
    deployment_limit: dict[str, Any] | None = None
    awaited_slot: bool = False
    deployment_lease: bool = False
    log_lines: int = 0
    warning_sources: set[str] = field(default_factory=set)
    text: str = ""

    @property
    def task_tags(self) -> list[str]:
        return sorted({tag for t in self.task_runs for tag in t["tags"]})

    def detail(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("text", "warning_sources")}
        out["task_tags"] = self.task_tags
        return out


def _uuids(values: list[str]) -> list[UUID]:
    out = []
    for value in values:
        try:
            out.append(UUID(value))
        except ValueError:
            continue
    return out


async def _find(client: Any, ctx: Context) -> tuple[Any | None, str]:
    refs = ctx.refs
    ids = _uuids(refs.run_ids)
    if ids:
        runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)), limit=10)
        by_id = {str(r.id): r for r in runs}
        for value in refs.run_ids:
            if value in by_id:
                how = "its URL" if value in refs.flow_run_ids else "its id"
                return by_id[value], how
    task_ids = _uuids([*refs.task_run_ids, *refs.other_ids])
    if task_ids:
        tasks = await client.read_task_runs(task_run_filter=TaskRunFilter(id=TaskRunFilterId(any_=task_ids)), limit=10)
        for task in tasks:
            if task.flow_run_id:
                return await client.read_flow_run(task.flow_run_id), f"task run {task.name!r}"
    if refs.run_names:
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=refs.run_names)),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=20,
        )
        for name in refs.run_names:
            for run in runs:
                if run.name == name:
                    return run, "its name"
    if refs.run_ids or refs.task_run_ids:
        ctx.missing["flow_run"] = (refs.run_ids or refs.task_run_ids)[0]
    return None, ""


async def read(client: Any, ctx: Context) -> None:
    cloud = ctx.config.cloud_ids
    if cloud and ctx.refs.cloud_workspaces and cloud not in ctx.refs.cloud_workspaces:
        ctx.notes.append("The Prefect Cloud URL you pasted is from another workspace than the one I can read.")
    run, found_by = await _find(client, ctx)
    if run is None:
        return
    log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id]))
    warn_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id]), level=LogFilterLevel(ge_=30))
    states, tasks, tail, warnings, deployment, flow = await gather(
        lambda: client.read_flow_run_states(run.id),
        lambda: client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])), limit=200),
        lambda: client.read_logs(log_filter, limit=LOG_PAGE, sort=LogSort.TIMESTAMP_DESC),
        lambda: client.read_logs(warn_filter, limit=LOG_PAGE, sort=LogSort.TIMESTAMP_DESC),
        lambda: _maybe(client.read_deployment, run.deployment_id),
        lambda: _maybe(client.read_flow, run.flow_id),
    )
    view = RunView(
        id=str(run.id),
        name=run.name,
        found_by=found_by,
        flow=getattr(flow, "name", None),
        deployment=f"{getattr(flow, 'name', '?')}/{deployment.name}" if deployment else None,
        deployment_id=str(run.deployment_id) if run.deployment_id else None,
        state_type=enum_value(run.state_type),
        state_name=run.state_name,
        state_message=(run.state.message if run.state else None),
        tags=list(run.tags or []),
        work_pool=run.work_pool_name,
        work_queue=run.work_queue_name,
    )
    view.states = [
        {"name": s.name, "type": enum_value(s.type), "timestamp": iso(s.timestamp), "message": s.message}
        for s in sorted(states, key=lambda s: s.timestamp)
    ]
    view.awaited_slot = any(s.name == "AwaitingConcurrencySlot" for s in states)
    view.deployment_lease = any(
        getattr(s.state_details, "deployment_concurrency_lease_id", None) for s in states if s.state_details
    )
    view.task_runs = [
        {"id": str(t.id), "name": t.name, "state_name": t.state_name, "tags": list(t.tags or [])} for t in tasks
    ]
    if deployment is not None and deployment.global_concurrency_limit is not None:
        gcl = deployment.global_concurrency_limit
        view.deployment_limit = {"limit": gcl.limit, "active_slots": gcl.active_slots, "active": gcl.active}
    logs = {log.id: log for log in [*tail, *warnings]}
    ordered = sorted(logs.values(), key=lambda log: log.timestamp)
    view.log_lines = len(ordered)
    view.warning_sources = {LOGGER_SOURCE.get(log.name, "other") for log in ordered if log.level >= 30}
    view.text = _render(view, ordered, states)
    ctx.run = view


async def _maybe(read: Any, object_id: Any) -> Any:
    if object_id is None:
        return None
    from prefect.exceptions import ObjectNotFound

    try:
        return await read(object_id)
    except ObjectNotFound:
        return None


def _render(view: RunView, logs: list[Any], states: list[Any]) -> str:
    """The run's states and logs as console lines (`HH:MM:SS.mmm | LEVEL | Flow run '…' - …`)."""
    task_names = {t["id"]: t["name"] for t in view.task_runs}
    lines: list[tuple[Any, str]] = []
    for state in states:
        if state.message:
            line = f"{_stamp(state.timestamp)} | STATE   | Flow run '{view.name}' - {state.name}: {state.message}"
            lines.append((state.timestamp, line))
    for log in logs:
        level = logging.getLevelName(log.level)
        if log.name == "prefect.flow_runs":
            who = f"Flow run '{view.name}'"
        elif log.name == "prefect.task_runs":
            who = f"Task run '{task_names.get(str(log.task_run_id), 'unknown')}'"
        else:
            who = log.name
        lines.append((log.timestamp, f"{_stamp(log.timestamp)} | {level:<7} | {who} - {log.message[:MAX_MESSAGE]}"))
    lines.sort(key=lambda pair: pair[0])
    text = "\n".join(line for _, line in lines)
    return text if len(text) <= MAX_TEXT else text[-MAX_TEXT:]


def _stamp(when: Any) -> str:
    return when.strftime("%H:%M:%S.%f")[:-3]
