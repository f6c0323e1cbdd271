"""Slack path benchmark: ack latency and event-to-reply latency with 50 events in flight.

Starts a fake Slack Web API, then — side by side in one run — the real bot (`prefect-triage
serve`, one process, or several replicas on PostgreSQL) and a bare slack-bolt app that only
acks and posts "ok" (bench/bare_bolt_app.py), and fires the same signed app_mention events
at each with 50 in flight. Prints p50/p95/p99 for acks and event→reply, throughput, and the
bot's overhead relative to the bare app. Prints figures; asserts nothing.
Usage: python bench/bench_slack.py [--events 300] [--concurrency 50] [--replicas 1] [--database URL]
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


def replies_since(fake_url: str, start: int) -> tuple[list[dict], int]:
    calls = httpx.get(f"{fake_url}/__calls", timeout=30).json()
    return [c for c in calls[start:] if c["method"] == "chat.postMessage"], len(calls)


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command} did not start")


def body_for(run: str, i: int) -> tuple[str, str]:
    ts = f"17{abs(hash(run)) % 10000:04d}0000.{i:06d}"
    event = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> {LEASE}", "ts": ts, "channel": "CBENCH"}
    body = json.dumps({"token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                       "event_id": f"Ev{run}{i:06d}", "event_time": int(time.time()), "event": event,
                       "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]})
    return ts, body


async def fire(urls: list[str], fake_url: str, run: str, events: int, concurrency: int,
               paced: bool = False) -> dict[str, float]:
    acks: list[float] = []
    sent_at: dict[str, float] = {}
    _, start_calls = replies_since(fake_url, 0)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(events):
        queue.put_nowait(i)
    # aiohttp, not httpx: httpx's async pool collapses to ~80 requests/s at 50 connections here,
    # which would measure the load generator instead of the servers.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as client:

        async def sender() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                ts, body = body_for(run, i)
                headers = {"Content-Type": "application/json", **sign(body)}
                began = time.perf_counter()
                sent_at[ts] = time.monotonic()
                async with client.post(f"{urls[i % len(urls)]}/slack/events", data=body, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status
                acks.append(time.perf_counter() - began)
                while paced:  # wait for this event's reply before sending the next: latency without queueing
                    posted, _ = replies_since(fake_url, start_calls)
                    if any(c["thread_ts"] == ts for c in posted):
                        break
                    await asyncio.sleep(0.005)

        began = time.monotonic()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
    deadline = time.monotonic() + 300
    replies: dict[str, float] = {}
    while len(replies) < events and time.monotonic() < deadline:
        posted, _ = replies_since(fake_url, start_calls)
        for call in posted:
            if call["thread_ts"] in sent_at and call["thread_ts"] not in replies:
                replies[call["thread_ts"]] = call["at"]
        await asyncio.sleep(0.2)
    finished = max(replies.values()) if replies else time.monotonic()
    latencies = sorted(replies[ts] - sent_at[ts] for ts in replies)
    acks.sort()

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] * 1000 if values else float("nan")

    return {
        "ack_p50": pct(acks, 50), "ack_p99": pct(acks, 99),
        "reply_p50": pct(latencies, 50), "reply_p95": pct(latencies, 95),
        "replies": len(replies), "throughput": len(replies) / max(finished - began, 1e-9),
        "reply_mean": statistics.mean(latencies) * 1000 if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--database", default="", help="DATABASE_URL for the bot (default: a fresh SQLite file)")
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument("--paced", action="store_true", help="one event at a time, each after the previous reply")
    args = parser.parse_args()

    fake_url, fake_process = start_fake()
    home = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SLACK_", "TRIAGE_"))}
    base_env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=f"{fake_url}/api/",
                    PREFECT_HOME=str(home / "prefect"), TRIAGE_DATA_DIR=str(home / "data"), TRIAGE_LOG_FORMAT="text")
    if args.database:
        base_env["DATABASE_URL"] = args.database
    script = Path(sys.executable).with_name("prefect-triage")
    processes = []
    try:
        bot_urls = []
        for _ in range(args.replicas):
            port = free_port()
            processes.append(start([str(script), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-workspace"],
                                   base_env, port))
            bot_urls.append(f"http://127.0.0.1:{port}")
        asyncio.run(fire(bot_urls, fake_url, "warm", 20, 10))  # warm-up: imports, connection pools, caches
        bot = asyncio.run(fire(bot_urls, fake_url, "bot", args.events, args.concurrency, args.paced))
        bare = None
        if not args.skip_bare:
            port = free_port()
            processes.append(start([sys.executable, str(ROOT / "bench" / "bare_bolt_app.py"), str(port)], base_env, port))
            asyncio.run(fire([f"http://127.0.0.1:{port}"], fake_url, "warmbare", 20, 10))
            bare = asyncio.run(fire([f"http://127.0.0.1:{port}"], fake_url, "bare", args.events, args.concurrency,
                                    args.paced))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        fake_process.terminate()

    db = "PostgreSQL" if args.database.startswith("postgres") else "SQLite"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.events} app_mention events, {args.concurrency} in flight; bot: {args.replicas} replica(s) on {db}")
    rows = [("prefect-triage", bot)] + ([("bare slack-bolt", bare)] if bare else [])
    print(f"{'':18}{'ack p50':>10}{'ack p99':>10}{'reply p50':>11}{'reply p95':>11}{'events/s':>10}{'replies':>9}")
    for name, r in rows:
        print(f"{name:18}{r['ack_p50']:9.1f}ms{r['ack_p99']:9.1f}ms{r['reply_p50']:10.1f}ms{r['reply_p95']:10.1f}ms"
              f"{r['throughput']:10.1f}{r['replies']:9d}")
    if bare:
        print(f"bot / bare, mean event→reply: {bot['reply_mean'] / bare['reply_mean']:.2f}x")


if __name__ == "__main__":
    main()
