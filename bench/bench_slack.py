"""Slack path benchmark: ack latency and event-to-reply latency with 50 events in flight.

Starts a fake Slack Web API, then — side by side in one run — the real bot (`prefect-triage
serve`, one process, or several replicas on PostgreSQL) and a bare slack-bolt app that only
acks and posts "ok" (bench/bare_bolt_app.py), and fires the same signed app_mention events
at each from 50 senders: each sends an event, waits for its threaded reply, then sends the
next, so 50 events are in flight at all times. Prints p50/p99 acks, p50/p95 event→reply,
throughput, CPU time per event (server processes and their children), and the bot's
overhead relative to the bare app. Prints figures; asserts nothing.
Usage: python bench/bench_slack.py [--events 300] [--concurrency 50] [--replicas 1] [--database URL]
(`--concurrency 1`: one event at a time, latency without queueing.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.slack_api import BOT_TOKEN, BOT_USER, SIGNING_SECRET, TEAM, free_port, sign  # noqa: E402

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


def start_fake() -> tuple[str, subprocess.Popen]:
    """The fake Slack Web API in its own process, so it never competes with the load generator."""
    process = subprocess.Popen([sys.executable, "-m", "tests.fakes.slack_api"], cwd=ROOT, stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None
    return process.stdout.readline().strip(), process


def cpu_seconds(pids: list[int]) -> float:
    """User+system CPU of these processes and all their descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    total, todo = 0.0, list(pids)
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0.0))[1]
        todo.extend(child for child, (parent, _) in stats.items() if parent == pid)
    return total


def replies_since(fake_url: str, start: int) -> tuple[list[dict], int]:
    calls = httpx.get(f"{fake_url}/__calls", timeout=30).json()
    return [c for c in calls[start:] if c["method"] == "chat.postMessage"], len(calls)


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server); shown if it does not start
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    errors.seek(0)
    tail = errors.read()[-2000:].decode(errors="replace")
    raise RuntimeError(f"{command} did not start (exit {process.poll()}):\n{tail}")


SESSION = uuid.uuid4().hex[:8]  # event ids and timestamps unique to this run, also on a database kept between runs


def body_for(run: str, i: int) -> tuple[str, str]:
    ts = f"17{int(SESSION, 16) % 100_000:05d}{abs(hash(run)) % 1000:03d}.{i:06d}"
    event = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> {LEASE}", "ts": ts, "channel": "CBENCH"}
    body = json.dumps({"token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                       "event_id": f"Ev{SESSION}{run}{i:06d}", "event_time": int(time.time()), "event": event,
                       "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]})
    return ts, body


async def fire(urls: list[str], fake_url: str, run: str, events: int, concurrency: int) -> dict[str, float]:
    """`concurrency` senders; each sends an event, times its ack, waits for its threaded reply, then
    sends the next — so at most `concurrency` events are in flight (sent, not yet answered)."""
    acks: list[float] = []
    latencies: list[float] = []
    waiting: dict[str, asyncio.Future[float]] = {}
    _, seen = replies_since(fake_url, 0)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(events):
        queue.put_nowait(i)
    done = asyncio.Event()
    # aiohttp, not httpx: httpx's async pool collapses to ~80 requests/s at 50 connections here,
    # which would measure the load generator instead of the servers.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency + 2)) as client:

        async def poll_replies() -> None:  # one poller for all senders: the fake's call log, incrementally
            nonlocal seen
            while not done.is_set():
                async with client.get(f"{fake_url}/__calls?since={seen}&wait=0.5") as response:
                    calls = await response.json()
                seen += len(calls)
                for call in calls:
                    future = waiting.pop(call["thread_ts"] or "", None) if call["method"] == "chat.postMessage" else None
                    if future is not None and not future.done():
                        future.set_result(call["at"])

        async def sender() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                ts, body = body_for(run, i)
                headers = {"Content-Type": "application/json", **sign(body)}
                reply = waiting[ts] = asyncio.get_running_loop().create_future()
                sent = time.monotonic()
                began = time.perf_counter()
                async with client.post(f"{urls[i % len(urls)]}/slack/events", data=body, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status
                acks.append(time.perf_counter() - began)
                try:
                    latencies.append(await asyncio.wait_for(reply, timeout=60) - sent)
                except TimeoutError:
                    waiting.pop(ts, None)

        poller = asyncio.create_task(poll_replies())
        began = time.monotonic()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        elapsed = time.monotonic() - began
        done.set()
        await poller
    latencies.sort()
    acks.sort()

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] * 1000 if values else float("nan")

    return {
        "ack_p50": pct(acks, 50), "ack_p99": pct(acks, 99),
        "reply_p50": pct(latencies, 50), "reply_p95": pct(latencies, 95),
        "replies": len(latencies), "throughput": len(latencies) / max(elapsed, 1e-9),
        "reply_mean": statistics.mean(latencies) * 1000 if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--database", default="", help="DATABASE_URL for the bot (default: a fresh SQLite file)")
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument("--processes", type=int, default=0, help="TRIAGE_SLACK_PROCESSES for the bot")
    args = parser.parse_args()

    fake_url, fake_process = start_fake()
    home = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SLACK_", "TRIAGE_"))}
    base_env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=f"{fake_url}/api/",
                    PREFECT_HOME=str(home / "prefect"), TRIAGE_DATA_DIR=str(home / "data"), TRIAGE_LOG_FORMAT="text")
    if args.database:
        base_env["DATABASE_URL"] = args.database
    bot_env = {**base_env, "TRIAGE_SLACK_PROCESSES": str(args.processes)}
    script = Path(sys.executable).with_name("prefect-triage")
    processes = []
    try:
        bot_urls = []
        for _ in range(args.replicas):
            port = free_port()
            processes.append(start([str(script), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-workspace"],
                                   bot_env, port))
            bot_urls.append(f"http://127.0.0.1:{port}")
        asyncio.run(fire(bot_urls, fake_url, "warm", 20, 10))  # warm-up: imports, connection pools, caches
        pids = [p.pid for p in processes]
        cpu = cpu_seconds(pids)
        bot = asyncio.run(fire(bot_urls, fake_url, "bot", args.events, args.concurrency))
        bot["cpu_ms"] = (cpu_seconds(pids) - cpu) * 1000 / max(bot["replies"], 1)
        bare = None
        if not args.skip_bare:
            port = free_port()
            processes.append(start([sys.executable, str(ROOT / "bench" / "bare_bolt_app.py"), str(port)], base_env, port))
            asyncio.run(fire([f"http://127.0.0.1:{port}"], fake_url, "warmbare", 20, 10))
            cpu = cpu_seconds([processes[-1].pid])
            bare = asyncio.run(fire([f"http://127.0.0.1:{port}"], fake_url, "bare", args.events, args.concurrency))
            bare["cpu_ms"] = (cpu_seconds([processes[-1].pid]) - cpu) * 1000 / max(bare["replies"], 1)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        fake_process.terminate()

    db = "PostgreSQL" if args.database.startswith("postgres") else "SQLite"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.events} app_mention events, {args.concurrency} in flight; bot: {args.replicas} replica(s) on {db}, "
          f"{args.processes or 'no'} event worker processes each")
    rows = [("prefect-triage", bot)] + ([("bare slack-bolt", bare)] if bare else [])
    print(f"{'':18}{'ack p50':>10}{'ack p99':>10}{'reply p50':>11}{'reply p95':>11}{'events/s':>10}{'CPU/event':>11}"
          f"{'replies':>9}")
    for name, r in rows:
        print(f"{name:18}{r['ack_p50']:9.1f}ms{r['ack_p99']:9.1f}ms{r['reply_p50']:10.1f}ms{r['reply_p95']:10.1f}ms"
              f"{r['throughput']:10.1f}{r['cpu_ms']:9.2f}ms{r['replies']:9d}")
    if bare:
        print(f"bot / bare: mean event→reply {bot['reply_mean'] / bare['reply_mean']:.2f}x, "
              f"CPU per event {bot['cpu_ms'] / bare['cpu_ms']:.2f}x")


if __name__ == "__main__":
    main()
