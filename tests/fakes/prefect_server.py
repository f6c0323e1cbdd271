"""A real Prefect server for the test session, and a seeded workspace on it.

`prefect_server` starts ONE `prefect server start` per session on a free port, with a
temporary PREFECT_HOME and SQLite database, analytics off, and `--no-services`: the
background services (late-runs marker, lease repossessor, foreman) would change the seeded
workspace on their own and make "the bot changed nothing" impossible to check. It polls
`/api/health`, yields the API URL and stops the server at the end. The migrated empty
database is kept in pytest's cache (per Prefect version), so later sessions start warm.

`seeded_workspace` writes, through Prefect's client, the situations the bot must recognise
(writes are fine here: it is the tests' own server; the bot's code only reads):

- tag limit `db-write` (1 slot) with a leaked slot: GCL `tag:db-write` active_slots 1, no
  task run Running, one tagged task run waiting in Pending; tag limit `api-calls` (5, free);
- global limits `db-global` (3), `api-rate` (rate limit) and 8 `bulk-*` limits, so the
  workspace has more limits than the client's default page of 10;
- work pool `etl-pool` (process, paused, limit 2) and `k8s-pool` (kubernetes) with a worker;
- deployment `etl/nightly` (limit 1, on etl-pool): one run Running, one in
  AwaitingConcurrencySlot, two Late;
- deployment `reports/hourly` (limit 1) whose slot leaked (active_slots 1, no runs);
- deployment `lease-demo/prod` (limit 1): a Crashed run whose logs contain a lease-renewal failure.

`snapshot(url)` reads everything the bot might touch, to compare before and after.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

STARTUP_TIMEOUT = 120.0
STATS: dict[str, float] = {}
"""Measured timings (server start-up, seeding) for reports."""

LEASE_WARNING = (
    "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent "
    "over-allocation. Lease ID: 7c1e2f4a-3b5d-4e6f-8a9b-0c1d2e3f4a5b, exception: Client error '410 Gone' for url "
    "'http://127.0.0.1:4200/api/v2/concurrency_limits/leases/7c1e2f4a-3b5d-4e6f-8a9b-0c1d2e3f4a5b/renew' - "
    "Response: {'detail': 'Lease not found - it may have expired or been revoked'}"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prefect_executable() -> str:
    beside = Path(sys.executable).with_name("prefect")
    return str(beside) if beside.exists() else (shutil.which("prefect") or "prefect")


def _server_env(home: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_PROFILES_PATH=str(home / "profiles.toml"),
        PREFECT_SERVER_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
        PREFECT_SERVER_LOGGING_LEVEL="WARNING",
        PREFECT_API_URL=url,
        DO_NOT_TRACK="1",
    )
    return env


def _template(config: pytest.Config) -> Path | None:
    """A migrated, empty database kept in pytest's cache: a warm start takes ~4 s, a fresh one ~10 s."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return None
    from importlib.metadata import version

    return Path(cache.mkdir("prefect-server-db")) / f"prefect-{version('prefect')}.db"


def _backup(source: Path, target: Path) -> None:
    """Copy a live SQLite database safely (SQLite's online backup), then move it into place."""
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    src, dst = sqlite3.connect(source), sqlite3.connect(partial)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    partial.replace(target)


def _start(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    command = [_prefect_executable(), "server", "start", "--host", "127.0.0.1", "--port", str(port),
               "--no-ui", "--no-services", "--analytics-off"]
    with open(home / "server.log", "wb") as log:
        process = subprocess.Popen(
            command, env=_server_env(home, url), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return process, url


def _healthy(process: subprocess.Popen[bytes], url: str, started: float) -> bool:
    while process.poll() is None and time.monotonic() - started < STARTUP_TIMEOUT:
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[str]:
    """The API URL of a real Prefect server started for this test session."""
    home = tmp_path_factory.mktemp("prefect-home")
    database = home / "prefect.db"
    template = _template(pytestconfig)
    warm = template is not None and template.exists()
    if warm:
        shutil.copyfile(template, database)
    started = time.monotonic()
    process, url = _start(home)
    try:
        if not _healthy(process, url, started) and warm:  # a bad template: start from scratch
            _stop(process)
            template.unlink(missing_ok=True)
            database.unlink(missing_ok=True)
            warm, started = False, time.monotonic()
            process, url = _start(home)
        if not _healthy(process, url, started):
            tail = (home / "server.log").read_text(errors="replace")[-3000:]
            pytest.fail(f"prefect server did not come up (exit code {process.poll()}):\n{tail}")
        STATS["server_start_seconds"] = round(time.monotonic() - started, 2)
        STATS["server_start_warm"] = float(warm)
        if template is not None and not warm:
            _backup(database, template)
        yield url
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # the server's own session: only what we started
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@dataclass
class Seed:
    url: str
    ids: dict[str, str] = field(default_factory=dict)
    before: dict[str, Any] = field(default_factory=dict)


def _client(url: str) -> Any:
    from prefect.client.orchestration import PrefectClient

    return PrefectClient(url)


async def _seed(url: str) -> dict[str, str]:
    from prefect import flow, task
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
        LogCreate,
        WorkPoolCreate,
    )
    from prefect.states import Crashed, Late, Pending, Running

    @flow(name="loader")
    def loader() -> None: ...

    @task(name="write_rows", tags=["db-write"])
    def write_rows() -> None: ...

    ids: dict[str, str] = {}
    now = datetime.now(UTC)
    async with _client(url) as c:
        await c.create_concurrency_limit(tag="db-write", concurrency_limit=1)
        await c.update_global_concurrency_limit("tag:db-write", GlobalConcurrencyLimitUpdate(active_slots=1))
        await c.create_concurrency_limit(tag="api-calls", concurrency_limit=5)
        await c.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name="db-global", limit=3))
        await c.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name="api-rate", limit=10, slot_decay_per_second=1.0)
        )
        for i in range(8):
            await c.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=f"bulk-{i:02d}", limit=2))

        await c.create_work_pool(WorkPoolCreate(name="etl-pool", type="process", is_paused=True, concurrency_limit=2))
        await c.create_work_pool(WorkPoolCreate(name="k8s-pool", type="kubernetes"))
        await c.send_worker_heartbeat("k8s-pool", "k8s-worker-1", heartbeat_interval_seconds=30)

        etl = await c.create_flow_from_name("etl")
        nightly = await c.create_deployment(flow_id=etl, name="nightly", work_pool_name="etl-pool", concurrency_limit=1)
        running = await c.create_flow_run_from_deployment(nightly)
        waiting = await c.create_flow_run_from_deployment(nightly)
        await c.set_flow_run_state(running.id, Pending())
        await c.set_flow_run_state(running.id, Running())
        rejected = await c.set_flow_run_state(waiting.id, Pending())
        assert rejected.state is not None and rejected.state.name == "AwaitingConcurrencySlot", rejected
        for _ in range(2):
            late = await c.create_flow_run_from_deployment(nightly)
            await c.set_flow_run_state(late.id, Late(scheduled_time=now - timedelta(minutes=20)), force=True)
        ids.update(nightly=str(nightly), nightly_running=str(running.id), nightly_waiting=str(waiting.id))

        reports = await c.create_flow_from_name("reports")
        hourly = await c.create_deployment(flow_id=reports, name="hourly", work_pool_name="k8s-pool",
                                           concurrency_limit=1)
        await c.update_global_concurrency_limit(f"deployment:{hourly}", GlobalConcurrencyLimitUpdate(active_slots=1))
        ids["hourly"] = str(hourly)

        demo = await c.create_flow_from_name("lease-demo")
        prod = await c.create_deployment(flow_id=demo, name="prod", work_pool_name="k8s-pool", concurrency_limit=1)
        crashed = await c.create_flow_run_from_deployment(prod)
        await c.set_flow_run_state(crashed.id, Pending())
        await c.set_flow_run_state(crashed.id, Running())
        await c.create_logs([
            LogCreate(name="prefect.flow_runs", level=20, message=f"Beginning flow run '{crashed.name}' for flow "
                      "'lease-demo'", timestamp=now, flow_run_id=crashed.id),
            LogCreate(name="prefect.flow_runs", level=30, message=LEASE_WARNING,
                      timestamp=now + timedelta(minutes=4), flow_run_id=crashed.id),
        ])
        await c.set_flow_run_state(crashed.id, Crashed(message="Execution was cancelled by the runtime environment."))
        ids.update(prod=str(prod), crashed=str(crashed.id), crashed_name=crashed.name)

        tagged = await c.create_flow_run(loader, name="tagged-loader")
        await c.set_flow_run_state(tagged.id, Pending())
        await c.set_flow_run_state(tagged.id, Running())
        task_run = await c.create_task_run(write_rows, flow_run_id=tagged.id, dynamic_key="0")
        ids.update(tagged=str(tagged.id), task_run=str(task_run.id))
    return ids


async def _snapshot(url: str) -> dict[str, Any]:
    from prefect.client.schemas.filters import LogFilter

    async with _client(url) as c:
        gcls = await c.read_global_concurrency_limits(limit=200)
        v1 = await c.read_concurrency_limits(limit=200, offset=0)
        pools = await c.read_work_pools()
        queues = await c.read_work_queues()
        deployments = await c.read_deployments()
        runs = await c.read_flow_runs(limit=200)
        tasks = await c.read_task_runs(limit=200)
        logs = await c.read_logs(LogFilter(), limit=200)
        workers = {p.name: sorted(w.name for w in await c.read_workers_for_work_pool(p.name)) for p in pools}
    return {
        "limits": sorted((g.name, g.limit, g.active_slots, g.active, g.slot_decay_per_second) for g in gcls),
        "tag_limits": sorted((v.tag, v.concurrency_limit, len(v.active_slots)) for v in v1),
        "pools": sorted((p.name, p.type, p.is_paused, p.concurrency_limit) for p in pools),
        "queues": sorted((q.name, q.work_pool_name, q.is_paused, q.concurrency_limit, str(q.last_polled))
                         for q in queues),
        "deployments": sorted((str(d.id), d.name, d.paused, str(d.updated)) for d in deployments),
        "runs": sorted((str(r.id), r.state_type.value if r.state_type else None, r.state_name, str(r.updated))
                       for r in runs),
        "tasks": sorted((str(t.id), t.state_name, str(t.updated)) for t in tasks),
        "logs": len(logs),
        "workers": workers,
    }


def snapshot(url: str) -> dict[str, Any]:
    """Everything the bot could have changed, without timestamps that move on their own."""
    return asyncio.run(_snapshot(url))


@pytest.fixture(scope="session")
def seeded_workspace(prefect_server: str) -> Seed:
    """The session server, seeded once with the situations above."""
    started = time.monotonic()
    ids = asyncio.run(_seed(prefect_server))
    STATS["seed_seconds"] = round(time.monotonic() - started, 2)
    return Seed(url=prefect_server, ids=ids, before=snapshot(prefect_server))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print how long the session's Prefect server took to start and seed (when it ran)."""
    if STATS:
        terminalreporter.write_line("prefect server: " + ", ".join(f"{k} {v:g}" for k, v in STATS.items()))
