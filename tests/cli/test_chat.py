"""`prefect-triage chat` as a user runs it: piped, on SQLite and PostgreSQL, across restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.fakes.cli import SCRIPT, clean_env

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."
SCRIPTED = f"{LEASE}\n\nwe're self-hosted\nwe use a global concurrency limit\nin the flow logs\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def chat_env(request, tmp_path):
    if request.param == "sqlite":
        return clean_env(tmp_path)
    return clean_env(tmp_path, DATABASE_URL=request.getfixturevalue("pg_url"))


def test_piped_conversation_reaches_the_self_hosted_global_diagnosis(cli, chat_env):
    proc = cli("chat", input=SCRIPTED, env=chat_env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    first, _, _rest = out.partition("Updated diagnosis")
    assert "Concurrency lease renewal failed" in first and "Are you on Prefect Cloud" in first
    assert "unknown-setup → self-hosted-in-memory-leases" in out
    assert "self-hosted-in-memory-leases → self-hosted-global-limit" in out
    final = out.rsplit("Updated diagnosis", 1)[1]
    assert "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE" in final and "concurrency(" in final
    assert "Noted: log_source = flow" in out


def test_history_lists_the_conversation(cli, chat_env):
    cli("chat", input=SCRIPTED, env=chat_env)
    proc = cli("history", env=chat_env)
    assert proc.returncode == 0
    assert b"concurrency.lease-renewal-failed" in proc.stdout and b"answered" in proc.stdout


def test_commands_facts_new_and_quit(cli, tmp_path):
    proc = cli("chat", input=f"{LEASE}\n\n/facts\nself-hosted\n/fixed\n/new\n/quit\nnever read\n")
    out = proc.stdout.decode()
    assert "Pending questions: deployment, mechanism" in out
    assert "marked this conversation resolved" in out
    assert "New conversation" in out and "never read" not in out


def test_conversation_survives_a_kill_and_resumes(chat_env, tmp_path):
    proc = subprocess.Popen([str(SCRIPT), "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=chat_env,
                            cwd=tmp_path)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{LEASE}\n\nself-hosted\n".encode())
    proc.stdin.flush()
    seen = b""
    deadline = time.monotonic() + 60
    os.set_blocking(proc.stdout.fileno(), False)
    while b"self-hosted-in-memory-leases" not in seen and time.monotonic() < deadline:
        chunk = proc.stdout.read()
        seen += chunk or b""
        time.sleep(0.1)
    assert b"self-hosted-in-memory-leases" in seen
    proc.send_signal(signal.SIGKILL)  # mid-conversation: the mechanism question is still open
    proc.wait()

    resumed = subprocess.run([str(SCRIPT), "chat", "--resume"], input=b"deployment limit\n", capture_output=True,
                             env=chat_env, cwd=tmp_path, timeout=60)
    out = resumed.stdout.decode()
    assert "Resuming: concurrency.lease-renewal-failed" in out and "pending: mechanism" in out
    assert "self-hosted-in-memory-leases → self-hosted-deployment-limit" in out


def test_report_gaps_groups_what_nothing_matched(cli, tmp_path):
    for text in ("flux capacitor leaking at 88 mph", "the flux capacitor is leaking again at 12 mph", "what is love"):
        cli("chat", input=text + "\n")
    proc = cli("report", "gaps", "--json")
    assert proc.returncode == 0, proc.stderr
    groups = json.loads(proc.stdout)
    assert [g["count"] for g in groups] == [2, 1]
    assert "flux capacitor" in groups[0]["example"]
