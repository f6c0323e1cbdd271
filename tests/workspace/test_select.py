"""Choosing the workspace: Prefect's own configuration, the channel/team mapping, never ephemeral."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.workspace import select
from bot.workspace.base import NoWorkspace
from bot.workspace.connection import NotConfigured, WorkspaceConfig, config_from_prefect_settings
from bot.workspace.prefect import PrefectWorkspace
from bot.workspace.routing import MappingError, load_map

CLOUD = "https://api.prefect.cloud/api/accounts/0f0e1234-1111-2222-3333-444455556666/workspaces/0f0e1234-1111-2222-3333-444455556667"


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Prefect configuration anywhere: empty PREFECT_HOME, no env, a bare working directory."""
    for name in list(os.environ):
        if name.startswith(("PREFECT_", "TRIAGE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    select._built.clear()
    select._maps.clear()
    return tmp_path


def settings() -> Settings:
    return Settings(_env_file=None)


def test_no_url_means_no_workspace_and_never_ephemeral(clean: Path) -> None:
    assert select.configured_api_url() is None
    assert isinstance(select.workspace_for(settings()), NoWorkspace)
    with pytest.raises(NotConfigured):
        config_from_prefect_settings()  # what Prefect would answer with ephemeral mode: we refuse
    with pytest.raises(NotConfigured):
        WorkspaceConfig(api_url="")


def test_disabled(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert isinstance(select.workspace_for(settings(), enabled=False), NoWorkspace)


def test_environment(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", CLOUD)
    monkeypatch.setenv("PREFECT_API_KEY", "pnu_" + "a" * 36)
    ws = select.workspace_for(settings())
    assert isinstance(ws, PrefectWorkspace)
    assert ws.config.cloud and ws.name == "Prefect Cloud workspace 0f0e1234"
    assert ws.config.api_key is not None and "pnu_" not in repr(ws) + repr(ws.config)
    assert select.workspace_for(settings()) is ws  # built once, reused (its cache lives in it)
    assert ws.deadline == settings().workspace_deadline_seconds


def test_from_prefect_settings(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.internal:4200/api")
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", "admin:pass")
    ws = PrefectWorkspace.from_prefect_settings(deadline=2.5)
    assert ws.deadline == 2.5 and ws.config.auth_string is not None and ws.config.api_key is None
    monkeypatch.delenv("PREFECT_API_URL")
    with pytest.raises(NotConfigured):
        PrefectWorkspace.from_prefect_settings()


def test_active_profile(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = clean / "home"
    home.mkdir()
    (home / "profiles.toml").write_text(
        'active = "prod"\n[profiles.prod]\nPREFECT_API_URL = "http://prefect.internal:4200/api"\n'
    )
    assert select.configured_api_url() == "http://prefect.internal:4200/api"
    ws = select.workspace_for(settings())
    assert isinstance(ws, PrefectWorkspace) and ws.config.api_url == "http://prefect.internal:4200/api"
    assert not ws.config.cloud


def test_prefect_toml_in_the_working_directory(clean: Path) -> None:
    (clean / "prefect.toml").write_text('[api]\nurl = "http://toml-host:4200/api"\n')
    assert select.configured_api_url() == "http://toml-host:4200/api"
    ws = select.workspace_for(settings())
    assert isinstance(ws, PrefectWorkspace) and ws.config.api_url == "http://toml-host:4200/api"


MAPPING = {
    "C111": {"api_url": CLOUD, "api_key_env": "TEAM_A_KEY"},
    "T222": {"api_url": "http://team-b:4200/api", "name": "team B"},
    "*": {"api_url": "http://shared:4200/api"},
}


@pytest.mark.parametrize("as_file", [False, True])
def test_channel_and_team_mapping(clean: Path, monkeypatch: pytest.MonkeyPatch, as_file: bool) -> None:
    if as_file:
        path = clean / "workspaces.yaml"
        path.write_text(json.dumps(MAPPING))  # JSON is YAML
        monkeypatch.setenv("TRIAGE_WORKSPACES", str(path))
    else:
        monkeypatch.setenv("TRIAGE_WORKSPACES", json.dumps(MAPPING))
    monkeypatch.setenv("TEAM_A_KEY", "pnb_" + "b" * 36)
    a = select.workspace_for(settings(), channel="C111", team="T222")
    assert isinstance(a, PrefectWorkspace) and a.config.cloud
    assert a.config.api_key is not None and a.config.api_key.get_secret_value().startswith("pnb_")
    assert a.config.key_source == "TEAM_A_KEY"
    b = select.workspace_for(settings(), channel="C999", team="T222")
    assert isinstance(b, PrefectWorkspace) and b.name == "team B"
    other = select.workspace_for(settings(), channel="C999", team="T999")
    assert isinstance(other, PrefectWorkspace) and other.config.api_url == "http://shared:4200/api"


def test_an_unmapped_channel_gets_no_workspace(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://bots-own:4200/api")  # must not leak to other teams
    monkeypatch.setenv("TRIAGE_WORKSPACES", json.dumps({"C111": {"api_url": "http://a:4200/api"}}))
    assert isinstance(select.workspace_for(settings(), channel="C999", team="T999"), NoWorkspace)
    cli = select.workspace_for(settings())  # commands without a channel use Prefect's configuration
    assert isinstance(cli, PrefectWorkspace) and cli.config.api_url == "http://bots-own:4200/api"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{not json", "not valid JSON or YAML"),
        ('{"C1": {"api_url": "ftp://x"}}', "http:// or https://"),
        ('{"C1": {"url": "http://x"}}', "entry 'C1'"),
        ("/nonexistent/workspaces.yaml", "cannot read"),
    ],
)
def test_bad_mappings(clean: Path, monkeypatch: pytest.MonkeyPatch, source: str, problem: str) -> None:
    with pytest.raises(MappingError, match=problem.replace("(", r"\(")):
        load_map(source)
    monkeypatch.setenv("TRIAGE_WORKSPACES", source)
    assert isinstance(select.workspace_for(settings(), channel="C1"), NoWorkspace)


def test_secrets_never_in_names_or_urls() -> None:
    config = WorkspaceConfig(
        api_url="https://user:hunter2@prefect.example.com/api?token=abc", api_key=SecretStr("pnu_secret")
    )
    assert config.redacted_url == "https://***@prefect.example.com/api"
    assert "hunter2" not in repr(config) and "pnu_secret" not in repr(config)
    assert "hunter2" not in config.name and "abc" not in config.redacted_url
