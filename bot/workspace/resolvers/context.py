"""The shared state of one workspace lookup, and small helpers every resolver uses.

A `Context` carries the request (redacted text, known facts, what the text refers to) and
collects what each resolver read. A resolver writes its own view (`inventory`, `pools`,
`run`, `server_version`) only once it is complete, so a deadline that cuts the lookup
short leaves whole views or none — never half of one. Faults are recorded per resolver and
turned into notes later. This module must not issue requests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from bot.models import Fact, FactSource
from bot.workspace.connection import WorkspaceConfig
from bot.workspace.textrefs import Mentions, References

if TYPE_CHECKING:
    from bot.workspace.resolvers.concurrency import Inventory
    from bot.workspace.resolvers.pools import PoolsView
    from bot.workspace.resolvers.runs import RunView

T = TypeVar("T")
PAGE = 200
"""Page size for list reads (the server's default maximum; the client's own default is 10)."""


@dataclass
class Context:
    config: WorkspaceConfig
    text: str
    known: Mapping[str, Fact]
    refs: References
    mentions: Mentions
    deadline: float
    page: int = PAGE
    # Views, each written once by its resolver when complete.
    server_version: str | None = None
    server_read: bool = False
    inventory: Inventory | None = None
    pools: PoolsView | None = None
    run: RunView | None = None
    missing: dict[str, str] = field(default_factory=dict)
    """Things the text (or a known fact) names that do not exist: {'tag': 'x', 'flow_run': '…'}."""
    notes: list[str] = field(default_factory=list)
    faults: list[tuple[str, BaseException]] = field(default_factory=list)

    def known_value(self, name: str) -> str | None:
        fact = self.known.get(name)
        return fact.value if fact else None

    def fault(self, what: str, exc: BaseException) -> None:
        self.faults.append((what, first_leaf(exc)))


def first_leaf(exc: BaseException) -> BaseException:
    """The first real exception inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def workspace_fact(name: str, value: str, evidence: str) -> Fact:
    return Fact(name=name, value=value, source=FactSource.WORKSPACE, evidence=evidence)


async def gather(*calls: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run calls concurrently and return their results in order (the first failure wins)."""
    results: list[Any] = [None] * len(calls)

    async def one(index: int, call: Callable[[], Awaitable[Any]]) -> None:
        results[index] = await call()

    async with anyio.create_task_group() as group:
        for index, call in enumerate(calls):
            group.start_soon(one, index, call)
    return results


async def guard(what: str, read: Callable[[Any, Context], Awaitable[None]], client: Any, ctx: Context) -> None:
    """Run one resolver; its failure becomes a recorded fault, not the end of the lookup."""
    try:
        await read(client, ctx)
    except Exception as exc:  # every failure degrades to a note
        ctx.fault(what, exc)


def ago_seconds(when: datetime | None, now: datetime | None = None) -> int | None:
    if when is None:
        return None
    now = now or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int((now - when).total_seconds()))


def iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def enum_value(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))
