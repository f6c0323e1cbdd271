"""Pick an entry's diagnosis from the known facts, and decide which questions matter.

A diagnosis is the first in the entry's order whose `when` holds (the last one always
holds). A fact is asked about only when it is unknown, askable, and some possible value of
it would pick a different diagnosis than another value would — so the bot never asks what
cannot change its answer. This module must not render text or look anything up.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from bot.conditions import holds, names_in
from bot.kb.loader import Entry
from bot.kb.schema import DiagnosisSpec, FactKind, FactSpec

MAX_ASSIGNMENTS = 20_000


def referenced_facts(entry: Entry) -> list[str]:
    """Facts the entry's conditions use: its declared order first, then the rest sorted."""
    used: set[str] = set()
    for diagnosis in entry.spec.diagnoses:
        if diagnosis.when:
            used |= names_in(diagnosis.when)
    ordered = [name for name in entry.spec.facts if name in used]
    return ordered + sorted(used - set(ordered))


def choose(entry: Entry, facts: Mapping[str, str | None]) -> DiagnosisSpec:
    """The first diagnosis whose condition holds; unknown facts are None."""
    names = referenced_facts(entry)
    scope = {name: facts.get(name) for name in names}
    for diagnosis in entry.spec.diagnoses:
        if holds(diagnosis.when, scope):
            return diagnosis
    return entry.spec.diagnoses[-1]


def domain(spec: FactSpec, narrowed: set[str] | None = None) -> list[str]:
    """Values a fact could take, for deciding whether its answer matters."""
    if spec.kind is FactKind.CHOICE:
        values = [v.value for v in spec.values]
        if narrowed:
            values = [v for v in values if v in narrowed] or values
        return values
    return list(spec.samples) or ["?"]


def questions(
    entry: Entry,
    facts: Mapping[str, str | None],
    vocabulary: Mapping[str, FactSpec],
    narrowed: Mapping[str, set[str]] | None = None,
) -> list[str]:
    """Unknown facts whose value would change the chosen diagnosis, in asking order."""
    narrowed = narrowed or {}
    unknown = [
        name
        for name in referenced_facts(entry)
        if facts.get(name) is None and name in vocabulary and vocabulary[name].question
    ]
    domains = {name: domain(vocabulary[name], narrowed.get(name)) for name in unknown}
    known = {name: value for name, value in facts.items() if value is not None}
    asked: list[str] = []
    for name in unknown:
        others = [n for n in unknown if n != name]
        other_domains = [[None, *domains[n]] for n in others]
        for count, combination in enumerate(itertools.product(*other_domains)):
            if count >= MAX_ASSIGNMENTS:
                break
            scope: dict[str, str | None] = {**known, **dict(zip(others, combination, strict=True))}
            picked = {choose(entry, {**scope, name: value}).id for value in domains[name]}
            if len(picked) > 1:
                asked.append(name)
                break
    return asked
