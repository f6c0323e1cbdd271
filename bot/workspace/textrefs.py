"""Find what a pasted text refers to in a workspace: run ids, UI URLs, run names, names.

`references(text)` pulls flow/task run ids (bare UUIDs or UI/API URLs, Cloud or
self-hosted), deployment ids, work pool names from URLs, Prefect-style run names
(`spiritual-oriole`) and the Cloud account/workspace a pasted URL belongs to; UUIDs that
are account, workspace or lease ids are not mistaken for runs. `Mentions` answers "which
of these existing names does the text name?" in time linear in the text. Patterns are RE2
(no pasted text can make them slow). This module must not talk to the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.kb.loader import compile_re2

_ID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID = compile_re2(
    r"((?i)accounts?/|workspaces?/|leases/|lease[ _]id[=:\s]+|deployment[:/]\s*|deployments/deployment/"
    r"|task-run/|task_runs/|flow-run/|flow_runs/|flow-runs/flow-run/)?(" + _ID + r")"
)
_CLOUD = compile_re2(r"/accounts?/(" + _ID + r")/workspaces?/(" + _ID + r")")
_POOL_URL = compile_re2(r"/work-pools/work-pool/([A-Za-z0-9][A-Za-z0-9_.-]{0,79})")
_RUN_NAME = compile_re2(
    r"(?:Flow run '|(?i)\b(?:flow[ _-]?run|run)(?: named| called)?\s+[`'\"]?)([a-z]{2,20}-[a-z]{2,20})\b"
)
_NAME_THEN_RUN = compile_re2(r"\b([a-z]{2,20}-[a-z]{2,20})[`'\"]?\s+(?:flow[ -])?run\b")
_LATE = compile_re2(r"(?i)\blate\b")
_TOKEN = compile_re2(r"[A-Za-z0-9][A-Za-z0-9_.:/@+-]*")

HEAD = 512 * 1024
TAIL = 256 * 1024
MAX_IDS = 5
MAX_NAMES = 10


def _window(text: str) -> str:
    """The part of a long paste worth scanning for names: its head and tail."""
    if len(text) <= HEAD + TAIL:
        return text
    return text[:HEAD] + "\n" + text[-TAIL:]


def _add(seq: list[str], value: str, cap: int) -> None:
    if value not in seq and len(seq) < cap:
        seq.append(value)


@dataclass
class References:
    flow_run_ids: list[str] = field(default_factory=list)
    """Ids that are flow runs for sure (from a flow-run URL)."""
    task_run_ids: list[str] = field(default_factory=list)
    other_ids: list[str] = field(default_factory=list)
    """Bare UUIDs: a flow run, or maybe a task run."""
    deployment_ids: list[str] = field(default_factory=list)
    run_names: list[str] = field(default_factory=list)
    pool_names: list[str] = field(default_factory=list)
    cloud_workspaces: list[tuple[str, str]] = field(default_factory=list)
    mentions_late: bool = False

    @property
    def run_ids(self) -> list[str]:
        return [*self.flow_run_ids, *self.other_ids]

    @property
    def any_run(self) -> bool:
        return bool(self.flow_run_ids or self.task_run_ids or self.other_ids or self.run_names)


def references(text: str, extra_ids: Iterable[str] = ()) -> References:
    """What the text points at. `extra_ids`: run ids already known (e.g. a `flow_run_id` fact)."""
    refs = References()
    window = _window(text)
    skip: set[str] = set()
    for m in _CLOUD.finditer(window):
        pair = (m.group(1).lower(), m.group(2).lower())
        skip.update(pair)
        if pair not in refs.cloud_workspaces:
            refs.cloud_workspaces.append(pair)
    for m in _UUID.finditer(window):
        prefix, value = (m.group(1) or "").lower(), m.group(2).lower()
        if value in skip or prefix.startswith(("account", "workspace", "lease")):
            continue
        if prefix.startswith("deployment"):
            _add(refs.deployment_ids, value, MAX_IDS)
        elif prefix.startswith(("task-run", "task_runs")):
            _add(refs.task_run_ids, value, MAX_IDS)
        elif prefix.startswith(("flow-run", "flow_runs", "flow-runs")):
            _add(refs.flow_run_ids, value, MAX_IDS)
        else:
            _add(refs.other_ids, value, MAX_IDS)
    for value in extra_ids:
        value = value.lower()
        if value not in refs.flow_run_ids and value not in refs.task_run_ids:
            _add(refs.other_ids, value, MAX_IDS)
    refs.other_ids = [i for i in refs.other_ids if i not in refs.flow_run_ids]
    for m in _POOL_URL.finditer(window):
        _add(refs.pool_names, m.group(1), MAX_NAMES)
    for pattern in (_RUN_NAME, _NAME_THEN_RUN):
        for m in pattern.finditer(window):
            _add(refs.run_names, m.group(1), MAX_NAMES)
    refs.mentions_late = bool(_LATE.search(window))
    return refs


class Mentions:
    """Which existing names a text names, by whole-token match (case-insensitive)."""

    def __init__(self, text: str):
        self._window = _window(text).lower()
        tokens: set[str] = set()
        for m in _TOKEN.finditer(self._window):
            token = m.group(0).rstrip(".:/-+@")
            tokens.add(token)
            for sep in (":", "/", "@"):
                if sep in token:
                    tokens.update(part for part in token.split(sep) if part)
            if token.startswith("'") or token.endswith("'"):
                tokens.add(token.strip("'"))
        self._tokens = tokens

    def named(self, name: str) -> bool:
        low = name.lower().strip()
        if not low:
            return False
        if " " not in low:
            return low in self._tokens
        start = self._window.find(low)
        while start != -1:
            before = self._window[start - 1] if start else " "
            end = start + len(low)
            after = self._window[end] if end < len(self._window) else " "
            if not (before.isalnum() or before in "_-") and not (after.isalnum() or after in "_-"):
                return True
            start = self._window.find(low, start + 1)
        return False

    def which(self, names: Iterable[str]) -> list[str]:
        """The names the text names, in the given order, without repeats."""
        out: list[str] = []
        for name in names:
            if name not in out and self.named(name):
                out.append(name)
        return out


def mentions_late(text: str) -> bool:
    return bool(_LATE.search(_window(text)))
