"""Choose the workspace for a command or a Slack conversation: the one Prefect would use, or none.

Without a channel/team mapping, Prefect's own configuration decides: `PREFECT_API_URL` in
the environment, else a `.env` or `prefect.toml` in the working directory, else the active
profile in `profiles.toml`. With no API URL there is no workspace — never Prefect's
ephemeral mode, which would start a throwaway local server. Reading these files here keeps
the common no-workspace case from importing Prefect (about 2 s).

A bot serving several teams sets `TRIAGE_WORKSPACES` (see `routing.py`): a conversation
then gets the workspace of its channel, else of its team, else the `*` entry — and no
workspace at all when none matches, so one team never sees another team's workspace.
Commands without a channel (the CLI) keep using Prefect's own configuration. Workspaces
are built once per configuration and reused (their lookup cache lives in them).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import tomllib
from pathlib import Path

from bot.config import Settings
from bot.workspace.base import NoWorkspace, Workspace
from bot.workspace.connection import NotConfigured, WorkspaceConfig
from bot.workspace.routing import MappingError, WorkspaceMap, load_map, mapping_source

log = logging.getLogger(__name__)
_built: dict[str, Workspace] = {}
_maps: dict[str, tuple[float, WorkspaceMap]] = {}
_lock = threading.Lock()


def _profiles_path() -> Path:
    explicit = os.environ.get("PREFECT_PROFILES_PATH")
    if explicit:
        return Path(explicit).expanduser()
    home = Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
    return home / "profiles.toml"


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def _dotenv_url(path: Path) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        name, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and name.strip() == "PREFECT_API_URL":
            return value.strip().strip("'\"") or None
    return None


def configured_api_url() -> str | None:
    """The API URL Prefect would use, without importing Prefect; None when unset."""
    url = os.environ.get("PREFECT_API_URL", "").strip()
    if url:
        return url
    cwd = Path.cwd()
    url = _dotenv_url(cwd / ".env")
    if url:
        return url
    for path, keys in ((cwd / "prefect.toml", ("api",)), (cwd / "pyproject.toml", ("tool", "prefect", "api"))):
        node: object = _toml(path)
        for key in keys:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        value = node.get("url") if isinstance(node, dict) else None
        if isinstance(value, str) and value.strip():
            return value.strip()
    data = _toml(_profiles_path())
    active = os.environ.get("PREFECT_PROFILE") or data.get("active")
    profile = data.get("profiles", {}).get(active or "", {})
    value = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return str(value).strip() or None if value else None


def _build(config: WorkspaceConfig, deadline: float) -> Workspace:
    secret = config.api_key.get_secret_value() if config.api_key else ""
    secret += "\0" + (config.auth_string.get_secret_value() if config.auth_string else "")
    key = "\0".join(
        [config.api_url, config.name, hashlib.sha256(secret.encode()).hexdigest(), f"{deadline:g}"]
    )
    with _lock:
        if key not in _built:
            from bot.workspace.prefect import PrefectWorkspace

            _built[key] = PrefectWorkspace(config, deadline=deadline)
        return _built[key]


def workspace_map(settings: Settings | None = None) -> WorkspaceMap | None:
    """The channel/team mapping, re-read when its file changes; None when not configured."""
    source = mapping_source(settings)
    if not source:
        return None
    path = Path(source).expanduser()
    stamp = path.stat().st_mtime if not source.lstrip().startswith("{") and path.exists() else 0.0
    with _lock:
        cached = _maps.get(source)
        if cached and cached[0] == stamp:
            return cached[1]
    mapping = load_map(source)
    with _lock:
        _maps[source] = (stamp, mapping)
    return mapping


def workspace_for(
    settings: Settings,
    *,
    enabled: bool = True,
    channel: str | None = None,
    team: str | None = None,
) -> Workspace:
    """The workspace for this conversation (or command), or NoWorkspace."""
    if not enabled:
        return NoWorkspace()
    deadline = settings.workspace_deadline_seconds
    if channel or team:
        try:
            mapping = workspace_map(settings)
        except (MappingError, OSError) as exc:
            log.warning("TRIAGE_WORKSPACES is unusable, no workspace is used: %s", exc)
            return NoWorkspace()
        if mapping is not None:
            route = mapping.route(channel, team)
            return _build(route.config(), deadline) if route else NoWorkspace()
    if not configured_api_url():
        return NoWorkspace()
    from bot.workspace.connection import config_from_prefect_settings

    try:
        return _build(config_from_prefect_settings(), deadline)
    except NotConfigured:
        return NoWorkspace()
