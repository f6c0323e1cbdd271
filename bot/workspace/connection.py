"""How the bot connects to one Prefect workspace: its configuration and a read-only client.

`WorkspaceConfig` holds an API URL and credentials (kept as `SecretStr`, never printed) and
is built either from Prefect's own settings (`PREFECT_API_URL`, `PREFECT_API_KEY`,
`PREFECT_API_AUTH_STRING`, the active profile, `prefect.toml`) or from the bot's
channel→workspace mapping. `open_client()` returns Prefect's own `PrefectClient`, built
with the explicit URL exactly as `prefect.get_client()` builds it, so a missing URL can
never fall into Prefect's ephemeral mode (a throwaway local server). The client carries
two httpx hooks: one refuses every request that could change the workspace (only GETs
and POSTs to `.../filter`-style read endpoints pass), one records the last HTTP status so
a timeout during retries can still be explained (429, 503). This module must not issue
requests itself or log credentials.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import SecretStr

PREFECT_CLOUD_API = "https://api.prefect.cloud/api"
_CLOUD_WORKSPACE = re.compile(r"/accounts/([0-9a-fA-F-]{36})/workspaces/([0-9a-fA-F-]{36})")
# POST endpoints that only read (filters, counts, pagination, slot status, CSRF token).
_READ_POSTS = re.compile(r"/(?:filter|paginate|count|concurrency_status|history)/?$")


class NotConfigured(ValueError):
    """No API URL: there is no workspace (and the bot never starts an ephemeral one)."""


class ReadOnlyViolation(RuntimeError):
    """A request that could change the workspace was about to be sent; it was refused."""


@dataclass(frozen=True)
class WorkspaceConfig:
    """Where a workspace is and how to authenticate; secrets stay in `SecretStr`."""

    api_url: str
    api_key: SecretStr | None = field(default=None, repr=False, compare=False)
    auth_string: SecretStr | None = field(default=None, repr=False, compare=False)
    name: str = ""
    key_source: str = "PREFECT_API_KEY"
    """Where the key came from (an environment variable name), for set-up messages."""

    def __post_init__(self) -> None:
        url = (self.api_url or "").strip().rstrip("/")
        if not url:
            raise NotConfigured("no Prefect API URL is configured")
        if not url.startswith(("http://", "https://")):
            raise NotConfigured(f"the Prefect API URL must start with http:// or https:// (got {redact_url(url)})")
        object.__setattr__(self, "api_url", url)
        if not self.name:
            object.__setattr__(self, "name", default_name(url))

    def __repr__(self) -> str:
        return f"WorkspaceConfig({self.redacted_url!r}, name={self.name!r}, key={'set' if self.api_key else 'none'})"

    @property
    def cloud(self) -> bool:
        return is_cloud(self.api_url)

    @property
    def redacted_url(self) -> str:
        return redact_url(self.api_url)

    @property
    def cloud_ids(self) -> tuple[str, str] | None:
        """(account id, workspace id) of a Prefect Cloud workspace URL."""
        m = _CLOUD_WORKSPACE.search(self.api_url)
        return (m.group(1).lower(), m.group(2).lower()) if m else None


def is_cloud(api_url: str) -> bool:
    """Prefect Cloud, decided like Prefect does (URL prefix) or by the workspace path."""
    return api_url.startswith(PREFECT_CLOUD_API) or bool(_CLOUD_WORKSPACE.search(api_url))


def redact_url(url: str) -> str:
    """The URL without user info, query or fragment (they can carry credentials)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<an unparseable URL>"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = f"***@{host}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def default_name(url: str) -> str:
    ids = _CLOUD_WORKSPACE.search(url)
    if ids:
        return f"Prefect Cloud workspace {ids.group(2)[:8]}"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "Prefect server"
    host = parts.hostname or "server"
    return f"{host}:{parts.port}" if parts.port else host


def _secret(value: Any) -> SecretStr | None:
    if value is None:
        return None
    raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return SecretStr(raw) if raw.strip() else None


def config_from_prefect_settings() -> WorkspaceConfig:
    """The workspace Prefect itself would use: env, the active profile, `prefect.toml`.

    Raises `NotConfigured` when Prefect has no API URL (Prefect would go ephemeral; we don't).
    """
    from prefect.settings import Settings

    settings = Settings()  # a fresh read: environment, .env, prefect.toml, active profile
    url = str(settings.api.url or "").strip()
    if not url:
        raise NotConfigured("no Prefect API URL is configured")
    return WorkspaceConfig(
        api_url=url,
        api_key=_secret(settings.api.key),
        auth_string=_secret(settings.api.auth_string),
    )


class StatusRecorder:
    """Remembers the HTTP statuses seen, so a deadline hit during retries can be explained."""

    def __init__(self) -> None:
        self.statuses: list[int] = []

    @property
    def answered(self) -> bool:
        return bool(self.statuses)

    @property
    def ok(self) -> int:
        return sum(1 for s in self.statuses if s < 400)

    @property
    def last_error(self) -> int | None:
        errors = [s for s in self.statuses if s >= 400 and s != 422]
        return errors[-1] if errors else None

    async def on_response(self, response: httpx.Response) -> None:
        self.statuses.append(response.status_code)


async def refuse_writes(request: httpx.Request) -> None:
    """httpx request hook: only reads leave this process."""
    method = request.method.upper()
    if method in ("GET", "HEAD", "OPTIONS"):
        return
    if method == "POST" and _READ_POSTS.search(request.url.path):
        return
    raise ReadOnlyViolation(f"refused {method} {request.url.path}: the bot only reads the workspace")


def open_client(config: WorkspaceConfig, *, timeout: float, recorder: StatusRecorder | None = None):
    """Prefect's async client for this workspace, read-only, with one timeout for every phase.

    Use it as `async with open_client(...) as client:`. Built with the explicit URL, the way
    `prefect.get_client()` builds its client, so no ephemeral server can start.
    """
    from prefect.client.orchestration import PrefectClient

    hooks: dict[str, list[Any]] = {"request": [refuse_writes], "response": []}
    if recorder is not None:
        hooks["response"].append(recorder.on_response)
    return PrefectClient(
        config.api_url,
        api_key=config.api_key.get_secret_value() if config.api_key else None,
        auth_string=config.auth_string.get_secret_value() if config.auth_string else None,
        httpx_settings={"timeout": httpx.Timeout(timeout), "event_hooks": hooks},
    )
