"""`prefect-triage workspace …`: set-up commands for the connected Prefect workspace.

`workspace check` shows what the bot can see — the URL (secrets redacted), Cloud or
self-hosted, the server version, counts of limits, pools and deployments, and any error —
for the workspace Prefect's own configuration selects, or for a Slack channel/team through
`TRIAGE_WORKSPACES`. It only reads and never prints a credential. Registered in `cli.py`.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

workspace = typer.Typer(
    name="workspace",
    help="Check the Prefect workspace the bot reads (read-only).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, highlight=False)



@workspace.callback()
def _group() -> None:
    """Check the Prefect workspace the bot reads (read-only)."""


COUNT_LABELS = {
    "tag_limits": "task tag limits",
    "global_limits": "global limits",
    "deployment_limits": "deployment limits",
    "work_pools": "work pools",
    "work_queues": "work queues",
    "deployments": "deployments",
    "late_runs": "Late runs in pools",
}


def _config(channel: str | None, team: str | None):  # -> WorkspaceConfig | None
    from bot.config import Settings
    from bot.workspace.connection import NotConfigured, config_from_prefect_settings
    from bot.workspace.routing import MappingError
    from bot.workspace.select import configured_api_url, workspace_map

    if channel or team:
        try:
            mapping = workspace_map(Settings())
        except MappingError as exc:
            err.print(f"TRIAGE_WORKSPACES is unusable: {exc}", markup=False)
            raise typer.Exit(2) from None
        if mapping is None:
            err.print("--channel/--team need TRIAGE_WORKSPACES (a channel/team → workspace mapping).")
            raise typer.Exit(2)
        route = mapping.route(channel, team)
        if route is None:
            err.print("No workspace is mapped to that channel or team (and there is no '*' entry).")
            raise typer.Exit(1)
        return route.config()
    if not configured_api_url():
        return None
    try:
        return config_from_prefect_settings()
    except NotConfigured:
        return None


@workspace.command()
def check(
    channel: Annotated[str | None, typer.Option(help="Check the workspace mapped to this Slack channel id.")] = None,
    team: Annotated[str | None, typer.Option(help="Check the workspace mapped to this Slack team id.")] = None,
    deadline: Annotated[float, typer.Option(help="Give up after this many seconds.", min=0.5, max=120)] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Show what the bot can see in the workspace: URL, Cloud or self-hosted, version, counts, errors."""
    from bot.workspace.check import check as run_check

    config = _config(channel, team)
    if config is None:
        message = (
            "No workspace is configured: set PREFECT_API_URL (and PREFECT_API_KEY for Prefect Cloud), "
            "or select a Prefect profile that has them. Without one the bot asks instead of looking."
        )
        if as_json:
            print(json.dumps({"configured": False, "ok": False, "errors": [message]}))
        else:
            out.print(message, markup=False)
        raise typer.Exit(1)
    report = run_check(config, deadline=deadline)
    if as_json:
        print(json.dumps({"configured": True, **report.as_dict()}, ensure_ascii=False, indent=2))
        raise typer.Exit(0 if report.ok else 1)
    out.print(f"[bold]{escape(report.name)}[/bold]  {escape(report.url)}")
    out.print(f"  kind:        {report.kind}", markup=False)
    out.print(f"  credentials: {report.credentials}", markup=False)
    out.print(f"  version:     {report.version or 'unknown'}", markup=False)
    for key, label in COUNT_LABELS.items():
        if key in report.counts:
            out.print(f"  {label + ':':<19}{report.counts[key]}", markup=False)
    if report.paused_pools:
        out.print(f"  paused pools:      {', '.join(report.paused_pools)}", markup=False)
    for leak in report.leaks:
        out.print(f"  leaked slots:      {leak}", markup=False)
    for error in report.errors:
        out.print(f"[red]  error:[/red] {escape(error)}")
    out.print(f"  ({report.seconds:g} s, read-only)", markup=False)
    raise typer.Exit(0 if report.ok else 1)
