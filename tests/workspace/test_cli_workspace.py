"""`prefect-triage workspace check`: what the bot can see, for set-up."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli_workspace import workspace
from bot.workspace import select
from tests.fakes.prefect_server import Seed

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("PREFECT_", "TRIAGE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    select._maps.clear()
    return monkeypatch


@pytest.mark.prefect_server
def test_check_shows_what_the_bot_sees(env: pytest.MonkeyPatch, workspace_unchanged: Seed) -> None:
    env.setenv("PREFECT_API_URL", workspace_unchanged.url)
    result = runner.invoke(workspace, ["check"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert workspace_unchanged.url in out and "self-hosted Prefect server" in out
    assert "version:     3.9" in out
    assert "global limits:     10" in out and "task tag limits:   2" in out and "deployment limits: 3" in out
    assert "work pools:        2" in out and "deployments:       3" in out
    assert "paused pools:      etl-pool" in out and "leaked slots:      tag:db-write" in out


@pytest.mark.prefect_server
def test_check_json(env: pytest.MonkeyPatch, workspace_unchanged: Seed) -> None:
    env.setenv("PREFECT_API_URL", workspace_unchanged.url)
    result = runner.invoke(workspace, ["check", "--json"])
    report = json.loads(result.output)
    assert report["ok"] and report["configured"] and report["counts"]["late_runs"] == 2


def test_check_unconfigured(env: pytest.MonkeyPatch) -> None:
    result = runner.invoke(workspace, ["check"])
    assert result.exit_code == 1 and "No workspace is configured" in result.output


def test_check_unreachable_redacts_secrets(env: pytest.MonkeyPatch, dead_url: str) -> None:
    url = dead_url.replace("http://", "http://admin:hunter2@")
    env.setenv("PREFECT_API_URL", url)
    env.setenv("PREFECT_API_KEY", "pnu_" + "s" * 36)
    result = runner.invoke(workspace, ["check", "--deadline", "2"])
    assert result.exit_code == 1
    assert "I could not reach your workspace" in result.output and "***@127.0.0.1" in result.output
    assert "hunter2" not in result.output and "pnu_" not in result.output
    assert "an API key from PREFECT_API_KEY" in result.output


def test_check_a_channel_route(env: pytest.MonkeyPatch, dead_url: str) -> None:
    env.setenv("TRIAGE_WORKSPACES", json.dumps({"C1": {"api_url": dead_url, "name": "team one"}}))
    result = runner.invoke(workspace, ["check", "--channel", "C1", "--deadline", "1"])
    assert "team one" in result.output and result.exit_code == 1
    missing = runner.invoke(workspace, ["check", "--channel", "C2"])
    assert missing.exit_code == 1 and "No workspace is mapped" in missing.output
