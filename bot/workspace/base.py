"""The interface the core uses to look facts up in a Prefect workspace.

The core hands a `LookupRequest` (the redacted text, what is known, which facts are
wanted) to a `Workspace` and gets a `Lookup` back: facts with `source=workspace`, details
for reply templates (real tag, limit and pool names), extra log text to match (a flow
run's own logs), and notes when something could not be read. Implementations must only
read, must respect the deadline, and must turn every failure into a note, never raise.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, Field

from bot.models import Fact
from bot.observability import LOOKUPS


class LookupRequest(BaseModel):
    text: str
    known: dict[str, Fact] = Field(default_factory=dict)
    wanted: list[str] = Field(default_factory=list)
    """Facts the core would otherwise ask about (empty: whatever the workspace can tell)."""
    deadline_seconds: float = 4.0


class Lookup(BaseModel):
    facts: dict[str, Fact] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)
    extra_text: str = ""
    """Text found in the workspace worth matching (e.g. a flow run's logs)."""
    notes: list[str] = Field(default_factory=list)


class Workspace(Protocol):
    """Something that can answer fact lookups; `name` says which workspace for replies."""

    name: str

    def lookup(self, request: LookupRequest) -> Lookup: ...


class NoWorkspace:
    """No workspace connected: nothing is looked up, every unknown fact is asked."""

    name = "none"

    def lookup(self, request: LookupRequest) -> Lookup:
        return Lookup()


class StaticWorkspace:
    """Replays a cached lookup: answers never wait for the API twice."""

    name = "cached"

    def __init__(self, lookup: Lookup):
        self._lookup = lookup

    def lookup(self, request: LookupRequest) -> Lookup:
        return self._lookup


class RecordingWorkspace:
    """Runs a real lookup once and keeps its result for the conversation's cache."""

    def __init__(self, inner: Workspace):
        self.inner = inner
        self.name = inner.name
        self.result: Lookup | None = None

    def lookup(self, request: LookupRequest) -> Lookup:
        self.result = self.inner.lookup(request)
        if self.inner.name != "none":
            LOOKUPS.labels("degraded" if self.result.notes else "ok").inc()
        return self.result
