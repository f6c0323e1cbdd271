"""What the bot can see in a workspace, for set-up (`prefect-triage workspace check`).

Runs the same read-only resolvers a lookup uses (with no text, so no run is looked up),
plus a deployment count, under one deadline, and summarises: the redacted URL, Cloud or
self-hosted, the server version, counts of limits, leaks, pools, queues, workers and
deployments, and every error as the same note a reply would show. This module must only
read and must never print a credential.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio

from bot.workspace.connection import StatusRecorder, WorkspaceConfig, open_client
from bot.workspace.resolvers import conclude, investigate
from bot.workspace.resolvers.context import Context
from bot.workspace.textrefs import Mentions, references

MAX_DEPLOYMENTS = 2000


@dataclass
class CheckReport:
    name: str
    url: str
    kind: str
    credentials: str
    version: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    leaks: list[str] = field(default_factory=list)
    paused_pools: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _credentials(config: WorkspaceConfig) -> str:
    if config.api_key:
        return f"an API key from {config.key_source}"
    if config.auth_string:
        return "basic auth from PREFECT_API_AUTH_STRING"
    return "none (fine for a self-hosted server without auth)" if not config.cloud else "none: Cloud needs a key"


async def _count_deployments(client: Any) -> int:
    total, offset = 0, 0
    while total < MAX_DEPLOYMENTS:
        batch = await client.read_deployments(limit=200, offset=offset)
        total += len(batch)
        if len(batch) < 200:
            break
        offset += 200
    return total


async def _check(config: WorkspaceConfig, deadline: float) -> CheckReport:
    loop = asyncio.get_running_loop()
    started = loop.time()
    report = CheckReport(
        name=config.name,
        url=config.redacted_url,
        kind="Prefect Cloud" if config.cloud else "self-hosted Prefect server",
        credentials=_credentials(config),
    )
    ctx = Context(config=config, text="", known={}, refs=references(""), mentions=Mentions(""), deadline=deadline)
    recorder = StatusRecorder()
    timed_out = False
    deployments: list[int] = []
    client = open_client(config, timeout=deadline, recorder=recorder)
    try:
        await client.__aenter__()
        with anyio.fail_after(deadline):
            await investigate(client, ctx)
            if not ctx.faults:
                deployments.append(await _count_deployments(client))
    except TimeoutError:
        timed_out = True
    except Exception as exc:
        ctx.fault("deployments", exc)
    finally:
        with anyio.move_on_after(0.5, shield=True):
            await client.__aexit__(None, None, None)
    lookup = conclude(ctx, recorder, timed_out=timed_out)
    report.errors = list(lookup.notes)
    report.version = ctx.server_version or ("always the newest" if config.cloud and recorder.ok else None)
    if ctx.inventory is not None:
        inv = ctx.inventory
        report.counts.update(
            tag_limits=len(inv.of_kind("tag")),
            global_limits=len(inv.of_kind("global")),
            deployment_limits=len(inv.of_kind("deployment")),
        )
        report.leaks = [f"{v.name}: {v.active_slots} active, {v.running} holding" for v in inv.leaks]
    if ctx.pools is not None:
        report.counts.update(work_pools=len(ctx.pools.pools), work_queues=len(ctx.pools.queues))
        report.counts["late_runs"] = sum(p.late_runs for p in ctx.pools.pools)
        report.paused_pools = [p.name for p in ctx.pools.pools if p.paused]
    if deployments:
        report.counts["deployments"] = deployments[0]
    report.seconds = round(loop.time() - started, 2)
    return report


def check(config: WorkspaceConfig, deadline: float = 10.0) -> CheckReport:
    """Check one workspace (blocking; call from a thread without a running loop)."""
    return asyncio.run(_check(config, deadline))
