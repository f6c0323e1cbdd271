"""Memory at peak for a 50 MB upload, on the CLI path and through Slack (a file shared with the bot).

CLI: `prefect-triage diagnose` on a 50 MB log vs a one-line file (max RSS of the process).
Slack: one `serve` process (with `--processes N`: the front and its N event workers, summed)
gets a 50 MB log shared in a DM (downloaded from a fake Slack); its peak RSS (VmHWM) before
and after. Prints figures; asserts nothing.
Usage: python bench/bench_memory.py [--mb 50]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.slack_api import BOT_TOKEN, BOT_USER, SIGNING_SECRET, TEAM, FakeSlack, _handler, free_port, sign  # noqa: E402

SCRIPT = Path(sys.executable).with_name("prefect-triage")
LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


def make_log(path: Path, megabytes: int) -> None:
    line = "13:00:00.000 | INFO    | Flow run 'calm-cat' - processed batch 1234 of rows, all good\n"
    with path.open("w") as out:
        for _ in range(megabytes * 1_000_000 // len(line)):
            out.write(line)
        out.write(f"13:59:59.000 | ERROR   | Flow run 'calm-cat' - {LEASE}\n")


def cli_peak(path: Path, env: dict[str, str]) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([str(SCRIPT), "diagnose", str(path), "--json", "--no-workspace"], capture_output=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    entry = json.loads(proc.stdout)["entry"] if proc.returncode == 0 else f"exit {proc.returncode}"
    return max(after, before) / 1024, entry


def vm_hwm(pid: int) -> float:
    """Peak RSS of a process plus its descendants (event worker processes), in MB."""
    total = 0.0
    for member in [pid, *descendants(pid)]:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found += children
        todo += children
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--processes", type=int, default=0, help="TRIAGE_SLACK_PROCESSES for serve")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SLACK_", "TRIAGE_"))}
    env.update(PREFECT_HOME=str(home / "prefect"), TRIAGE_DATA_DIR=str(home / "data"))
    small, big = home / "small.log", home / "big.log"
    small.write_text(LEASE + "\n")
    make_log(big, args.mb)

    small_rss, _ = cli_peak(small, env)
    big_rss, entry = cli_peak(big, env)

    fake = FakeSlack()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.add_file("FBIG", "big.log", big.read_bytes())
    port = free_port()
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=f"{fake.url}/api/",
               TRIAGE_LOG_FORMAT="text", TRIAGE_SLACK_PROCESSES=str(args.processes))
    process = subprocess.Popen([str(SCRIPT), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-workspace"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        time.sleep(8 if args.processes else 0)  # event workers load the knowledge base after /healthz is up
        idle = vm_hwm(process.pid)
        event = {"type": "message", "subtype": "file_share", "user": "U1", "text": "log attached", "ts": "1.000100",
                 "channel": "DUSER", "channel_type": "im", "files": [{"id": "FBIG"}]}
        body = json.dumps({"token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                           "event_id": "EvMem", "event_time": int(time.time()), "event": event,
                           "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]})
        httpx.post(f"http://127.0.0.1:{port}/slack/events", content=body,
                   headers={"Content-Type": "application/json", **sign(body)})
        deadline = time.monotonic() + 120
        while not fake.posts() and time.monotonic() < deadline:
            time.sleep(0.1)
        peak = vm_hwm(process.pid)
        posted = json.dumps([c.body for c in fake.posts()]).lower()
        replied = "lease renewal" in posted
        if not replied:
            print("posted:", posted[:600])
    finally:
        process.terminate()
        process.wait(timeout=10)
        server.shutdown()

    print(f"upload: {big.stat().st_size / 1e6:.0f} MB log, the warning on its last line")
    print(f"CLI diagnose, 1-line file:      peak RSS {small_rss:7.0f} MB")
    print(f"CLI diagnose, {args.mb} MB file:      peak RSS {big_rss:7.0f} MB  -> {entry}")
    where = f" (front + {args.processes} event workers)" if args.processes else ""
    print(f"Slack serve{where}, idle:              peak RSS {idle:7.0f} MB")
    print(f"Slack serve, {args.mb} MB file shared: peak RSS {peak:7.0f} MB  -> recognised: {replied}")


if __name__ == "__main__":
    main()
