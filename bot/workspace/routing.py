"""Which workspace serves which Slack channel or team, for a bot that serves several.

`TRIAGE_WORKSPACES` is either inline JSON or the path of a JSON or YAML file mapping Slack
channel ids (`C…`), team ids (`T…`) or `*` (everyone else) to a workspace:

```yaml
C0123ABCD: {api_url: "https://api.prefect.cloud/api/accounts/<id>/workspaces/<id>", api_key_env: TEAM_A_PREFECT_KEY}
T0456EFGH: {api_url: "http://prefect.internal:4200/api", auth_string_env: PREFECT_BASIC_AUTH, name: platform}
```

The file names environment variables, never keys. A channel's own entry wins over its
team's, and a team's over `*`. This module must not import Prefect or open connections.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from bot.workspace.connection import NotConfigured, WorkspaceConfig

DEFAULT_KEY = "*"


class WorkspaceRoute(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_url: str = Field(description="The workspace's PREFECT_API_URL.")
    api_key_env: str | None = Field(default=None, description="Environment variable holding its API key.")
    auth_string_env: str | None = Field(
        default=None, description="Environment variable holding a self-hosted server's `user:password`."
    )
    name: str | None = Field(default=None, description="How replies name this workspace.")

    def config(self) -> WorkspaceConfig:
        """The connection settings, with secrets read from the environment now."""
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        auth = os.environ.get(self.auth_string_env, "") if self.auth_string_env else ""
        return WorkspaceConfig(
            api_url=self.api_url,
            api_key=SecretStr(key) if key.strip() else None,
            auth_string=SecretStr(auth) if auth.strip() else None,
            name=self.name or "",
            key_source=self.api_key_env or "PREFECT_API_KEY",
        )


@dataclass(frozen=True)
class WorkspaceMap:
    routes: dict[str, WorkspaceRoute]

    def route(self, channel: str | None = None, team: str | None = None) -> WorkspaceRoute | None:
        for key in (channel, team, DEFAULT_KEY):
            if key and key in self.routes:
                return self.routes[key]
        return None


class MappingError(ValueError):
    """`TRIAGE_WORKSPACES` cannot be read or is not a valid mapping."""


def _parse(text: str, where: str) -> object:
    try:
        return yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise MappingError(f"{where}: not valid JSON or YAML ({type(exc).__name__})") from None


def load_map(source: str) -> WorkspaceMap:
    """Parse the mapping from inline JSON/YAML or from a file path."""
    source = source.strip()
    if source.startswith("{"):
        data, where = _parse(source, "TRIAGE_WORKSPACES"), "TRIAGE_WORKSPACES"
    else:
        path = Path(source).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise MappingError(f"TRIAGE_WORKSPACES: cannot read {path} ({reason})") from None
        data, where = _parse(text, str(path)), str(path)
    if isinstance(data, dict) and isinstance(data.get("workspaces"), dict):
        data = data["workspaces"]
    if not isinstance(data, dict):
        raise MappingError(f"{where}: expected a mapping of channel or team ids to workspaces")
    routes: dict[str, WorkspaceRoute] = {}
    for key, value in data.items():
        try:
            route = WorkspaceRoute.model_validate(value)
            route.config()  # the URL must be usable
        except (ValidationError, NotConfigured) as exc:
            reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise MappingError(f"{where}: entry {str(key)!r}: {reason}") from None
        routes[str(key)] = route
    return WorkspaceMap(routes=routes)


def mapping_source(settings: object | None = None) -> str | None:
    """Where the mapping comes from: a `workspaces` setting if the core has one, else the env."""
    value = getattr(settings, "workspaces", None) if settings is not None else None
    value = value or os.environ.get("TRIAGE_WORKSPACES", "")
    value = str(value).strip()
    return value or None
