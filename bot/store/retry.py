"""Ride out a database restart: retry a call while the database is unreachable.

`with_database_retries` retries connection-level failures (a restart, a failover, a
dropped connection) with backoff for up to 90 s; other errors raise at once.
`RetryingConversations` wraps every method of `Conversations` that way, so an adapter's
single database steps are retried one by one — never a whole job, which could post twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

log = logging.getLogger("prefect_triage.store")
RETRY_SECONDS = 90.0


def with_database_retries(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    deadline = time.monotonic() + RETRY_SECONDS
    delay = 0.5
    while True:
        try:
            return fn(*args, **kwargs)
        except DBAPIError as exc:
            if not exc.connection_invalidated and not isinstance(exc, OperationalError):
                raise
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database unavailable (%s); retrying in %.1f s", exc.__class__.__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, 8.0)


class RetryingConversations:
    """`Conversations` whose public methods retry while the database is unreachable."""

    def __init__(self, inner: Any):
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            return with_database_retries(attribute, *args, **kwargs)

        return call
