"""Start real `prefect-triage serve` processes (replicas) against one database and a fake Slack."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, free_port

SCRIPT = Path(sys.executable).with_name("prefect-triage")


class Replica:
    def __init__(self, database_url: str, slack_url: str, home: Path, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SLACK_", "TRIAGE_"))}
        environment.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=f"{slack_url}/api/",
            DATABASE_URL=database_url,
            TRIAGE_WATCH_CHANNELS="CWATCH",
            TRIAGE_LOG_FORMAT="text",
            PREFECT_HOME=str(home / "prefect-home"),
            TRIAGE_DATA_DIR=str(home / "data"),
        )
        environment.update(env)
        self.log = open(home / f"replica-{self.port}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(SCRIPT), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--no-workspace"],
            env=environment, stdout=self.log, stderr=subprocess.STDOUT, cwd=home,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"replica exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"replica on {self.port} did not become ready")

    def read_log(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def start_replicas(n: int, database_url: str, slack_url: str, home: Path, **env: str) -> list[Replica]:
    replicas = [Replica(database_url, slack_url, home, **env) for _ in range(n)]
    for replica in replicas:
        replica.wait_ready()
    return replicas
