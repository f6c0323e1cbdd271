"""The contributor guide's example entry (README, `examples/knowledge/`) lints and passes its
own cases next to the shipped knowledge base, run the way a team would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "knowledge"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRIAGE_KNOWLEDGE_PATH": str(EXAMPLES)}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_example_entry_lints_and_passes_its_cases():
    lint = run("kb", "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    cases = run("kb", "test", "team.warehouse-vpn", "-v")
    assert cases.returncode == 0, cases.stdout + cases.stderr
    assert "3 passed, 0 failed" in cases.stdout


def test_the_example_entry_answers_a_pasted_error():
    text = 'psycopg2.OperationalError: connection to server at "warehouse.internal" (10.2.0.5) failed: Connection refused'
    env = {**os.environ, "TRIAGE_KNOWLEDGE_PATH": str(EXAMPLES)}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "diagnose", "--no-workspace", "--fact",
                             "worker_type=kubernetes"], input=text, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "team.warehouse-vpn" in result.stdout and "egress-gateway" in result.stdout
