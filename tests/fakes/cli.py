"""Run the real `prefect-triage` console script in a subprocess with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("prefect-triage")


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SLACK_", "TRIAGE_", "DATABASE_URL"))}
    env.update(
        PREFECT_HOME=str(tmp / "prefect-home"),  # no profile: no workspace, never ephemeral mode
        TRIAGE_DATA_DIR=str(tmp / "data"),
        NO_COLOR="1",
        COLUMNS="200",
    )
    env.update(extra)
    return env


@pytest.fixture
def cli(tmp_path):
    def run(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None, timeout: float = 60):
        data = input.encode() if isinstance(input, str) else input
        return subprocess.run(
            [str(SCRIPT), *args],
            input=data,
            capture_output=True,
            env=env or clean_env(tmp_path),
            timeout=timeout,
            cwd=tmp_path,
        )

    return run
