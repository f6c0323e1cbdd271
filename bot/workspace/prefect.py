"""`PrefectWorkspace`: the `Workspace` the core calls, backed by Prefect's own client.

`lookup()` may be called from any thread, with or without a running event loop: it runs
the async client in `asyncio.run` on a fresh daemon thread, bounds the work with
`anyio.fail_after`, and waits at most the deadline (plus a short grace) for the thread. It
never raises: unreachable, timeout, 401/403, 404, 429, 5xx and anything unexpected become
a note and no facts, and the core asks instead. Successful lookups are cached briefly per
(text, known facts), so a conversation's follow-up messages do not read the workspace
again. This module must only read (the client refuses writes, see `connection.py`) and
must never print or log a credential.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from typing import Any

import anyio

from bot.workspace.base import Lookup, LookupRequest
from bot.workspace.connection import (
    StatusRecorder,
    WorkspaceConfig,
    config_from_prefect_settings,
    open_client,
)
from bot.workspace.faults import unreachable_note
from bot.workspace.resolvers import conclude, investigate
from bot.workspace.resolvers.context import Context
from bot.workspace.textrefs import Mentions, references

log = logging.getLogger(__name__)

DEFAULT_DEADLINE = 4.0
CLOSE_MARGIN = 0.25
"""Seconds of the deadline kept for closing connections and assembling the answer."""
JOIN_GRACE = 0.5
CACHE_SECONDS = 60.0
CACHE_SIZE = 256


class PrefectWorkspace:
    """A Prefect Cloud workspace or self-hosted server, read through `PrefectClient`."""

    def __init__(
        self,
        config: WorkspaceConfig,
        *,
        deadline: float = DEFAULT_DEADLINE,
        cache_seconds: float = CACHE_SECONDS,
    ):
        self.config = config
        self.name = config.name
        self.deadline = deadline
        self.cache_seconds = cache_seconds
        self._cache: OrderedDict[str, tuple[float, Lookup]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_prefect_settings(cls, deadline: float = DEFAULT_DEADLINE) -> PrefectWorkspace:
        """The workspace Prefect itself would use (raises `NotConfigured` when it has no API URL)."""
        return cls(config_from_prefect_settings(), deadline=deadline)

    def __repr__(self) -> str:
        return f"PrefectWorkspace({self.config.redacted_url!r})"

    # --- the Workspace protocol ---

    def lookup(self, request: LookupRequest) -> Lookup:
        try:
            deadline = max(0.2, min(request.deadline_seconds or self.deadline, self.deadline))
            key = _cache_key(request)
            cached = self._cached(key)
            if cached is not None:
                return cached
            started = time.monotonic()
            result, clean = self._lookup_on_thread(request, deadline)
            elapsed = time.monotonic() - started
            log.info("workspace %s: %d facts in %.2f s", self.name, len(result.facts), elapsed)
            for note in result.notes:
                log.info("workspace %s: %s", self.name, note)  # notes never contain credentials
            if clean:
                self._store(key, result)
            return result
        except Exception as exc:  # the contract: never raise out of lookup()
            log.warning("workspace lookup failed: %s", type(exc).__name__)
            return Lookup(notes=[f"I could not read your workspace: an unexpected error ({type(exc).__name__})."])

    # --- internals ---

    def _lookup_on_thread(self, request: LookupRequest, deadline: float) -> tuple[Lookup, bool]:
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["result"] = asyncio.run(self._lookup_async(request, deadline))
            except BaseException as exc:  # reported below; a thread must not die silently
                box["error"] = exc

        thread = threading.Thread(target=work, name="prefect-workspace-lookup", daemon=True)
        thread.start()
        thread.join(deadline + JOIN_GRACE)
        if thread.is_alive() or "result" not in box:
            return Lookup(notes=[unreachable_note(box.get("error"), self.config, deadline=deadline)]), False
        return box["result"]

    async def _lookup_async(self, request: LookupRequest, deadline: float) -> tuple[Lookup, bool]:
        flow_run = request.known.get("flow_run_id")
        ctx = Context(
            config=self.config,
            text=request.text,
            known=dict(request.known),
            refs=references(request.text, [flow_run.value] if flow_run else []),
            mentions=Mentions(request.text),
            deadline=deadline,
        )
        recorder = StatusRecorder()
        timed_out = False
        client = open_client(self.config, timeout=deadline, recorder=recorder)
        try:
            await client.__aenter__()
            with anyio.fail_after(max(0.1, deadline - CLOSE_MARGIN)):
                await investigate(client, ctx)
        except TimeoutError:
            timed_out = True
        except Exception as exc:  # opening the client failed
            ctx.fault("workspace", exc)
        finally:
            with anyio.move_on_after(CLOSE_MARGIN, shield=True):
                await client.__aexit__(None, None, None)
        result = conclude(ctx, recorder, timed_out=timed_out)
        return result, not (timed_out or ctx.faults)

    def _cached(self, key: str) -> Lookup | None:
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                return None
            expires, result = hit
            if expires < time.monotonic():
                del self._cache[key]
                return None
            self._cache.move_to_end(key)
            return result.model_copy(deep=True)

    def _store(self, key: str, result: Lookup) -> None:
        if self.cache_seconds <= 0:
            return
        with self._lock:
            self._cache[key] = (time.monotonic() + self.cache_seconds, result.model_copy(deep=True))
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)


def _cache_key(request: LookupRequest) -> str:
    digest = hashlib.sha256(request.text.encode("utf-8", "replace"))
    for name, fact in sorted(request.known.items()):
        digest.update(f"\0{name}={fact.value}".encode("utf-8", "replace"))
    return digest.hexdigest()
