"""Turn anything that went wrong while reading a workspace into one short, safe note.

Unreachable, timeout, 401/403, 404, 429, 5xx and anything unexpected each get a sentence
the reply can show ("I could not reach your workspace: …"). Notes name the redacted URL
and the setting to check, never a credential and never a raw exception text (those can
carry URLs with passwords). This module must not perform I/O.
"""

from __future__ import annotations

import httpx

from bot.workspace.connection import ReadOnlyViolation, WorkspaceConfig

PREFIX = "I could not reach your workspace"


def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind an exception (httpx, Prefect's wrappers, ObjectNotFound)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code
    inner = getattr(exc, "http_exc", None)
    if isinstance(inner, httpx.HTTPStatusError):
        return inner.response.status_code
    cause = exc.__cause__
    if cause is not None and cause is not exc:
        return status_of(cause)
    return None


def status_reason(status: int, config: WorkspaceConfig) -> str:
    if status == 401:
        what = "the API key" if config.api_key or config.cloud else "the credentials"
        where = config.key_source if config.api_key or config.cloud else "PREFECT_API_AUTH_STRING"
        return (
            f"{what} for {config.redacted_url} was rejected (401 Unauthorized); "
            f"check `{where}` (it is wrong, expired or for another account)"
        )
    if status == 403:
        return "the key's role may not read this (403 Forbidden); give it a role that can read runs and limits"
    if status == 404:
        if config.cloud:
            return (
                "the workspace was not found (404); check the account and workspace ids in "
                "`PREFECT_API_URL` and that the key's user or service account belongs to the workspace"
            )
        return f"nothing answers at {config.redacted_url} (404); check the `/api` path in `PREFECT_API_URL`"
    if status == 429:
        return "the API is rate limiting us (429 Too Many Requests); try again in a minute"
    if status in (502, 503, 504):
        return f"the API is unavailable ({status}); the server or its proxy is down or restarting"
    if status >= 500:
        return f"the API failed with an internal error ({status}); the server logs say why"
    if status == 422:
        return "the API rejected a read (422); the server may be much older than the bot's Prefect client"
    return f"the API answered {status}"


def describe(
    exc: BaseException | None,
    config: WorkspaceConfig,
    *,
    deadline: float,
    last_status: int | None = None,
) -> str:
    """The reason part of a note ("… : <reason>") for an exception or a deadline (exc=None)."""
    if exc is None or isinstance(exc, TimeoutError):
        if last_status is not None and last_status >= 400:
            return f"{status_reason(last_status, config)} (gave up after {deadline:g} s)"
        return f"no answer from {config.redacted_url} within {deadline:g} s"
    if isinstance(exc, ReadOnlyViolation):
        return "a lookup tried to change the workspace and was stopped (a bug; please report it)"
    status = status_of(exc)
    if status is not None:
        return status_reason(status, config)
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer from {config.redacted_url} within {deadline:g} s"
    if isinstance(exc, httpx.ConnectError | ConnectionError):
        return (
            f"nothing is listening at {config.redacted_url} or it cannot be resolved; "
            "check `PREFECT_API_URL` and that the server is running"
        )
    if isinstance(exc, httpx.TransportError | OSError):
        return f"the connection to {config.redacted_url} failed ({type(exc).__name__})"
    if isinstance(exc, ValueError) and "json" in type(exc).__name__.lower():
        return f"{config.redacted_url} did not answer like a Prefect API; check `PREFECT_API_URL`"
    return f"an unexpected error while reading ({type(exc).__name__})"


def unreachable_note(
    exc: BaseException | None, config: WorkspaceConfig, *, deadline: float, last_status: int | None = None
) -> str:
    """The whole note when nothing could be read."""
    return f"{PREFIX}: {describe(exc, config, deadline=deadline, last_status=last_status)}. I'll ask instead."


def partial_note(what: str, exc: BaseException, config: WorkspaceConfig, *, deadline: float) -> str:
    """A note when one part of the lookup failed and the rest worked."""
    return f"I could not read {what} from your workspace: {describe(exc, config, deadline=deadline)}."
