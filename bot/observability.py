"""Metrics and structured logs for running the bot in production.

Prometheus metrics (served at `/metrics` by the Slack server), JSON log lines carrying the
conversation id and an error id, and `error_id()` for the short id shown to users when
something unexpected fails. Log messages pass through redaction, so a secret that slipped
into an exception message is still never written. This module must not import Slack,
Prefect or a database driver.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.redact import redact

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS = Counter("triage_slack_requests_total", "Slack requests received, by payload type.", ["type"],
                 registry=REGISTRY)
ACK_SECONDS = Histogram(
    "triage_slack_ack_seconds", "Time from receiving a Slack request to answering it.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 3, 5), registry=REGISTRY,
)
TRIAGE_SECONDS = Histogram(
    "triage_job_seconds", "Time to handle one message end to end (triage, lookups, posting).",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16), registry=REGISTRY,
)
MATCHES = Counter("triage_matches_total", "Replies by recognised knowledge entry.", ["entry"], registry=REGISTRY)
UNMATCHED = Counter("triage_unmatched_total", "Messages nothing matched.", ["prompted"], registry=REGISTRY)
LOOKUPS = Counter("triage_workspace_lookups_total", "Workspace lookups by outcome.", ["outcome"], registry=REGISTRY)
SLACK_ERRORS = Counter("triage_slack_api_errors_total", "Slack Web API errors, by error code.", ["error"],
                       registry=REGISTRY)
JOB_ERRORS = Counter("triage_job_errors_total", "Unexpected failures while handling a message.", registry=REGISTRY)
IN_FLIGHT = Gauge("triage_jobs_in_flight", "Messages being handled right now.", registry=REGISTRY,
                  multiprocess_mode="livesum")
QUEUED = Gauge("triage_jobs_queued", "Messages acked and waiting for a worker.", registry=REGISTRY,
               multiprocess_mode="livesum")

conversation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("conversation_id", default=None)


def error_id() -> str:
    """A short id users can quote and operators can grep for."""
    return uuid.uuid4().hex[:10]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, redacted message, conversation and error ids."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()).text,
        }
        if conversation_id.get():
            data["conversation"] = conversation_id.get()
        for key in ("error_id", "event", "team", "channel"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exception"] = redact(self.formatException(record.exc_info)).text
        return json.dumps(data, ensure_ascii=False)


def configure_logging(level: int = logging.INFO, *, json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    text_format = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    handler.setFormatter(JsonFormatter() if json_lines else text_format)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start
