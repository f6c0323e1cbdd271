"""`kb lint`: everything about the knowledge base that loading alone does not prove.

Checks that every pattern is RE2, every fact named by an entry, a condition or a signature
exists with the values used, every diagnosis is reachable by some set of facts, every
template renders for every diagnosis (with sample facts and with nothing known) under
StrictUndefined, symptoms are plain sentences, and every entry has cases of all three kinds.
Returns problems as text; it must not change any file.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from jinja2.exceptions import TemplateError

from bot import diagnose
from bot.conditions import compile_condition, names_in
from bot.kb.loader import Entry, KnowledgeBase, compile_re2
from bot.kb.schema import FactKind
from bot.models import Fact, FactSource
from bot.render import make_environment, render

CASE_KINDS = ("fires", "near-miss", "asks")
REGEX_LOOK = re.compile(r"\(\?[a-zA-Z]|\\[bdswBDSW]|\[\^|\{\d+,\d*\}|\.\*")


def _patterns(entry: Entry) -> Iterator[str]:
    yield from (s.pattern for s in entry.spec.signatures)
    yield from entry.spec.exclude


def _facts_problems(entry: Entry, kb: KnowledgeBase) -> Iterator[str]:
    for name in entry.spec.facts:
        if name not in kb.vocabulary:
            yield f"{entry.id}: facts lists unknown fact {name!r}"
    for signature in entry.spec.signatures:
        for name, values in signature.narrows.items():
            spec = kb.vocabulary.get(name)
            if spec is None or spec.kind is not FactKind.CHOICE:
                yield f"{entry.id}: signature narrows {name!r}, which is not a choice fact"
                continue
            unknown = set(values) - {v.value for v in spec.values}
            if unknown:
                yield f"{entry.id}: signature narrows {name} to unknown values {sorted(unknown)}"
    for diagnosis in entry.spec.diagnoses:
        if diagnosis.when is None:
            continue
        try:
            compile_condition(diagnosis.when)
            used = names_in(diagnosis.when)
        except TemplateError as exc:
            yield f"{entry.id}/{diagnosis.id}: bad condition {diagnosis.when!r}: {exc}"
            continue
        for name in used - set(kb.vocabulary):
            yield f"{entry.id}/{diagnosis.id}: condition uses unknown fact {name!r}"


def _assignments(entry: Entry, kb: KnowledgeBase) -> Iterator[dict[str, str | None]]:
    names = [n for n in diagnose.referenced_facts(entry) if n in kb.vocabulary]
    domains = [[None, *diagnose.domain(kb.vocabulary[n])] for n in names]
    for combination in itertools.islice(itertools.product(*domains), diagnose.MAX_ASSIGNMENTS):
        yield dict(zip(names, combination, strict=True))


def _sample_facts(kb: KnowledgeBase, values: dict[str, str | None], with_names: bool) -> dict[str, Fact]:
    facts = {
        name: Fact(name=name, value=value, source=FactSource.USER)
        for name, value in values.items()
        if value is not None
    }
    if with_names:
        for name, spec in kb.vocabulary.items():
            if name not in facts and spec.kind is not FactKind.CHOICE and spec.samples:
                facts[name] = Fact(name=name, value=spec.samples[-1], source=FactSource.TEXT)
    return facts


def _render_problems(entry: Entry, kb: KnowledgeBase) -> Iterator[str]:
    env = make_environment(kb)
    reachable: dict[str, dict[str, str | None]] = {}
    for values in _assignments(entry, kb):
        chosen = diagnose.choose(entry, values).id
        reachable.setdefault(chosen, values)
    bodies: dict[str, str] = {}
    for diagnosis in entry.spec.diagnoses:
        if diagnosis.id not in reachable:
            yield f"{entry.id}/{diagnosis.id}: no combination of facts reaches this diagnosis"
            continue
        if not (entry.directory / diagnosis.template).exists():
            yield f"{entry.id}/{diagnosis.id}: template {diagnosis.template} does not exist"
            continue
        for with_names in (True, False):
            facts = _sample_facts(kb, reachable[diagnosis.id], with_names)
            try:
                reply = render(env, kb, entry, diagnosis, facts, [])
            except TemplateError as exc:
                yield f"{entry.id}/{diagnosis.id}: template fails to render: {exc}"
                break
            if not reply.body.strip():
                yield f"{entry.id}/{diagnosis.id}: template renders nothing"
            if with_names:
                bodies[diagnosis.id] = reply.body
    seen: dict[str, str] = {}
    for diagnosis_id, body in bodies.items():
        if body in seen:
            yield f"{entry.id}: diagnoses {seen[body]} and {diagnosis_id} render the same text"
        seen.setdefault(body, diagnosis_id)


def _symptom_problems(entry: Entry) -> Iterator[str]:
    """Symptoms are plain sentences in users' words: not patterns, not essays, not repeated."""
    seen: set[str] = set()
    for symptom in entry.spec.symptoms:
        text = " ".join(symptom.split())
        if not 10 <= len(text) <= 300:
            yield f"{entry.id}: symptom {text[:40]!r} should be 10-300 characters"
        if REGEX_LOOK.search(text):
            yield f"{entry.id}: symptom {text[:40]!r} looks like a pattern; write it as a user would"
        if text.lower() in seen:
            yield f"{entry.id}: symptom {text[:40]!r} is repeated"
        seen.add(text.lower())


def lint_entry(entry: Entry, kb: KnowledgeBase) -> list[str]:
    problems: list[str] = []
    for pattern in _patterns(entry):
        try:
            compile_re2(pattern)
        except ValueError as exc:
            problems.append(f"{entry.id}: {exc}")
    problems.extend(_facts_problems(entry, kb))
    problems.extend(_symptom_problems(entry))
    if problems:
        return problems
    problems.extend(_render_problems(entry, kb))
    kinds = {case.kind for case in entry.cases}
    for kind in CASE_KINDS:
        if kind not in kinds:
            problems.append(f"{entry.id}: cases.yaml has no {kind!r} case")
    for case in entry.cases:
        for name in case.facts:
            if name not in kb.vocabulary:
                problems.append(f"{entry.id}: case {case.name!r} uses unknown fact {name!r}")
        if case.expect.entry is not None and case.expect.entry not in kb.entries:
            problems.append(f"{entry.id}: case {case.name!r} expects unknown entry {case.expect.entry!r}")
    return problems


def lint(kb: KnowledgeBase) -> list[str]:
    """Every problem in the knowledge base (empty: it is good to ship)."""
    problems: list[str] = []
    for spec in kb.vocabulary.values():
        if spec.kind is not FactKind.CHOICE and spec.question and not spec.samples:
            problems.append(f"facts.yaml: {spec.name} is askable but has no samples")
    for entry in kb.entries.values():
        problems.extend(lint_entry(entry, kb))
    return problems
