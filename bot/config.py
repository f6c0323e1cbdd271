"""Every setting of the bot, read from the environment (and a `.env` file) in one place.

Each field is described here and in README; tokens are `SecretStr` so they never print.
Prefect's own settings (`PREFECT_API_URL`, `PREFECT_API_KEY`, profiles) are not duplicated:
the workspace adapter reads them the way Prefect does. This module must not open
connections or import Slack, Prefect or database drivers.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """A per-user data directory (XDG on Linux, the platform's own elsewhere)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("prefect-triage", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # --- triage core ---
    knowledge_path: str = Field(
        default="",
        validation_alias=AliasChoices("TRIAGE_KNOWLEDGE_PATH"),
        description="Extra knowledge directories (separated by the OS path separator) added to the shipped base.",
    )
    confidence_threshold: float = Field(
        default=0.5,
        ge=0,
        le=1,
        validation_alias=AliasChoices("TRIAGE_CONFIDENCE_THRESHOLD"),
        description="Below this score nothing is recognised (`entry: null`); applies to every reply.",
    )
    unprompted_threshold: float = Field(
        default=0.75,
        ge=0,
        le=1,
        validation_alias=AliasChoices("TRIAGE_UNPROMPTED_THRESHOLD"),
        description="Score needed to answer a message nobody addressed to the bot (watched channels).",
    )
    max_input_chars: int = Field(
        default=20_000_000,
        gt=1000,
        validation_alias=AliasChoices("TRIAGE_MAX_INPUT_CHARS"),
        description="Longer pastes are cut to their head and tail before triage (the reply says so).",
    )

    # --- storage ---
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "TRIAGE_DATABASE_URL"),
        description="SQLAlchemy URL; default: a SQLite file in the data directory.",
    )
    auto_migrate: bool = Field(
        default=True,
        validation_alias=AliasChoices("TRIAGE_AUTO_MIGRATE"),
        description="Run database migrations on start (turn off when a migration job runs them once per rollout).",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        validation_alias=AliasChoices("TRIAGE_DATA_DIR"),
        description="Where the default SQLite database lives.",
    )

    # --- workspace ---
    workspace_deadline_seconds: float = Field(
        default=4.0,
        gt=0,
        le=60,
        validation_alias=AliasChoices("TRIAGE_WORKSPACE_DEADLINE"),
        description="The whole workspace lookup for one triage must finish within this many seconds.",
    )

    workspaces: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TRIAGE_WORKSPACES"),
        description="Channel/team → workspace mapping for bots serving several workspaces (inline JSON or a file).",
    )

    # --- slack ---
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN"), description="Bot token (xoxb-…)."
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET"),
        description="Signing secret that verifies HTTP requests from Slack.",
    )
    slack_app_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_APP_TOKEN"),
        description="App-level token (xapp-…) for Socket Mode.",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias=AliasChoices("SLACK_API_URL"),
        description="Slack Web API base URL (GovSlack: https://slack-gov.com/api/; tests: a fake).",
    )
    slack_client_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_CLIENT_ID"),
        description="OAuth client id: with the secret, the bot can be installed in several workspaces.",
    )
    slack_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_CLIENT_SECRET"),
        description="OAuth client secret (multi-workspace install).",
    )
    slack_scopes: str = Field(
        default="app_mentions:read,channels:history,groups:history,im:history,mpim:history,chat:write,commands,"
        "files:read,reactions:write,im:write",
        validation_alias=AliasChoices("SLACK_SCOPES"),
        description="Bot scopes requested by the OAuth install (comma-separated).",
    )
    watch_channels: str = Field(
        default="",
        validation_alias=AliasChoices("TRIAGE_WATCH_CHANNELS"),
        description="Comma-separated channel ids whose top-level messages are triaged unprompted.",
    )
    escalation_target: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TRIAGE_ESCALATION_TARGET"),
        description="Who “Ask a human” mentions: a user group id (S…), a user id (U…) or a channel id (C…).",
    )

    slack_workers: int = Field(
        default=4,
        ge=1,
        le=256,
        validation_alias=AliasChoices("TRIAGE_SLACK_WORKERS"),
        description="How many triages run at once per process; more wait in a queue (acks never wait).",
    )
    slack_processes: int = Field(
        default=0,
        ge=0,
        le=64,
        validation_alias=AliasChoices("TRIAGE_SLACK_PROCESSES"),
        description="Event worker processes behind the HTTP front (0: handle events in the serving process). "
        "Set it to the pod's CPU count: acks stay fast and triage uses every core.",
    )
    slack_max_file_bytes: int = Field(
        default=20_000_000,
        gt=0,
        validation_alias=AliasChoices("TRIAGE_MAX_FILE_BYTES"),
        description="Most of a shared log file the bot keeps (its head and tail); memory stays bounded by it.",
    )

    log_format: str = Field(
        default="json",
        pattern="^(json|text)$",
        validation_alias=AliasChoices("TRIAGE_LOG_FORMAT"),
        description="`serve` logs: one JSON object per line (json) or plain text (text).",
    )

    def knowledge_paths(self) -> list[str]:
        return [p for p in self.knowledge_path.split(os.pathsep) if p.strip()]

    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    def watched(self) -> set[str]:
        return {c.strip() for c in self.watch_channels.split(",") if c.strip()}

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'triage.db'}"
