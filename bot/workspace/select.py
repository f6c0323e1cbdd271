"""Choose the workspace for a command: the one Prefect itself would use, or none.

Prefect's own configuration decides: `PREFECT_API_URL` in the environment, else the active
profile in `profiles.toml`. With no API URL there is no workspace — never Prefect's
ephemeral mode, which would start a throwaway local server. Reading the profile file here
keeps the common no-workspace case from importing Prefect (about 2 s).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from bot.config import Settings
from bot.workspace.base import NoWorkspace, Workspace


def _profiles_path() -> Path:
    explicit = os.environ.get("PREFECT_PROFILES_PATH")
    if explicit:
        return Path(explicit).expanduser()
    home = Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
    return home / "profiles.toml"


def configured_api_url() -> str | None:
    """The API URL Prefect would use, without importing Prefect; None when unset."""
    url = os.environ.get("PREFECT_API_URL", "").strip()
    if url:
        return url
    path = _profiles_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active")
    profile = data.get("profiles", {}).get(active or "", {})
    value = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return str(value).strip() or None if value else None


def workspace_for(settings: Settings, *, enabled: bool = True) -> Workspace:
    """The Prefect workspace configured like Prefect does, or NoWorkspace."""
    if not enabled or not configured_api_url():
        return NoWorkspace()
    from bot.workspace.prefect import PrefectWorkspace

    return PrefectWorkspace.from_prefect_settings(deadline=settings.workspace_deadline_seconds)
