"""`kb test`: run every entry's own cases through the real triage engine.

A case gives the pasted text and the facts the user stated, and expects an entry (or none),
a diagnosis, questions, facts and reply fragments. The workspace is off: cases test the
knowledge, not a connection. Returns failures as text; it must not change any file.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.kb.loader import Entry
from bot.kb.schema import CaseSpec
from bot.models import Inbound, TriageResult
from bot.triage import Engine


@dataclass
class CaseOutcome:
    entry: str
    case: CaseSpec
    failures: list[str]
    result: TriageResult

    @property
    def ok(self) -> bool:
        return not self.failures


def check(case: CaseSpec, result: TriageResult) -> list[str]:
    """What differs between a case's expectations and a triage result."""
    expect = case.expect
    failures: list[str] = []
    if result.entry != expect.entry:
        top = ", ".join(f"{c.entry}={c.score:.2f}" for c in result.candidates[:3]) or "no candidates"
        failures.append(f"entry {result.entry!r}, expected {expect.entry!r} ({top})")
        return failures
    if expect.diagnosis is not None and result.diagnosis != expect.diagnosis:
        failures.append(f"diagnosis {result.diagnosis!r}, expected {expect.diagnosis!r}")
    if expect.questions is not None and result.questions != expect.questions:
        failures.append(f"questions {result.questions}, expected {expect.questions}")
    missing = [q for q in expect.asks if q not in result.questions]
    if missing:
        failures.append(f"does not ask {missing} (asks {result.questions})")
    for name, value in expect.facts.items():
        got = result.facts.get(name)
        if got is None or got.value != value:
            failures.append(f"fact {name}={got.value if got else None!r}, expected {value!r}")
    reply = result.reply.markdown() if result.reply else ""
    for fragment in expect.reply_contains:
        if fragment not in reply:
            failures.append(f"reply lacks {fragment!r}")
    for fragment in expect.reply_excludes:
        if fragment in reply:
            failures.append(f"reply contains {fragment!r}")
    return failures


def run_case(engine: Engine, entry: Entry, case: CaseSpec) -> CaseOutcome:
    facts = engine.user_facts(case.facts)
    result = engine.triage(Inbound(text=case.text, facts=facts))
    return CaseOutcome(entry=entry.id, case=case, failures=check(case, result), result=result)


def run_all(engine: Engine, entry_id: str | None = None) -> list[CaseOutcome]:
    outcomes = []
    for entry in engine.kb.entries.values():
        if entry_id and entry.id != entry_id:
            continue
        outcomes.extend(run_case(engine, entry, case) for case in entry.cases)
    return outcomes
