"""Resolver `deployment`: Prefect Cloud or a self-hosted server, and the server's version.

Cloud vs self-hosted comes from the API URL (the way Prefect's client decides). On a
self-hosted server the Prefect version comes from `client.api_version()`
(`GET /api/admin/version`, e.g. `3.9.1`; `/api/version` is the REST schema version and is
not used). Cloud always runs the newest Prefect, so no version is read there. The server
version becomes the `prefect_version` fact only when the text did not already give one
(a pasted client version is more specific). This module must only read.
"""

from __future__ import annotations

import re
from typing import Any

from bot.models import Fact
from bot.workspace.resolvers.context import Context, workspace_fact

NAME = "deployment"
FACTS = ("deployment", "prefect_version")
_VERSION = re.compile(r"^\d+\.\d+(?:\.\d+)?(?:[.+-]?[A-Za-z0-9]+){0,3}$")


async def read(client: Any, ctx: Context) -> None:
    """Self-hosted: read the server version (this is also the first call, so it checks access)."""
    if ctx.config.cloud:
        ctx.server_read = True
        return
    version = await client.api_version()
    if isinstance(version, str) and _VERSION.match(version.strip()):
        ctx.server_version = version.strip()
    ctx.server_read = True


def facts(ctx: Context) -> list[Fact]:
    out = []
    if ctx.config.cloud:
        out.append(workspace_fact("deployment", "cloud", f"the bot's workspace URL is Prefect Cloud ({_short(ctx)})"))
    else:
        out.append(
            workspace_fact("deployment", "self-hosted", f"the bot's workspace is a Prefect server at {_short(ctx)}")
        )
    if ctx.server_version and not ctx.known_value("prefect_version"):
        out.append(
            workspace_fact(
                "prefect_version",
                ctx.server_version,
                f"your server reports Prefect {ctx.server_version} (/api/admin/version)",
            )
        )
    return out


def details(ctx: Context) -> dict[str, Any]:
    return {
        "server": {
            "kind": "cloud" if ctx.config.cloud else "self-hosted",
            "url": ctx.config.redacted_url,
            "name": ctx.config.name,
            "version": ctx.server_version,
        }
    }


def _short(ctx: Context) -> str:
    return ctx.config.name if ctx.config.cloud else ctx.config.redacted_url
