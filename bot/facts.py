"""Work out facts from what the user pasted, and parse typed answers to questions.

Inference uses the vocabulary's RE2 patterns (one set pass, then a capture for the patterns
that hit). A choice fact is known only when the text points one way; conflicting hints
leave it unknown, so the bot asks instead of guessing. User-derived values (tag names,
versions) are accepted only when they fully match the fact's `validate` pattern, so no
markup or mention can ride along into a reply. Precedence when merging:
user > workspace > text > default. This module must not look anything up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import re2

from bot.kb.loader import RE2_OPTIONS, KnowledgeBase, compile_re2
from bot.kb.schema import FactKind, FactSpec, Signature
from bot.match import chunks
from bot.models import Fact, FactSource

PRECEDENCE = {FactSource.USER: 3, FactSource.WORKSPACE: 2, FactSource.TEXT: 1, FactSource.DEFAULT: 0}
_VERSION_ANSWER = compile_re2(r"(?:^|[^\w.])v?(\d+\.\d+(?:\.\d+)?(?:(?:\.|-|\+)?[A-Za-z0-9]+)?)\b")
_SAFE_DEFAULT = compile_re2(r"[A-Za-z0-9][A-Za-z0-9_.:/+ -]{0,99}")


def valid_value(spec: FactSpec, value: str) -> str | None:
    """The value cleaned and accepted for this fact, or None."""
    value = value.strip().strip("'\"`")
    if spec.kind is FactKind.CHOICE:
        return value if spec.value_spec(value) else None
    pattern = compile_re2(spec.validate_pattern) if spec.validate_pattern else _SAFE_DEFAULT
    return value if value and pattern.fullmatch(value) else None


class FactInference:
    """Compiled inference patterns of a vocabulary."""

    def __init__(self, kb: KnowledgeBase):
        self.vocabulary = kb.vocabulary
        self._set = re2.Set.SearchSet(RE2_OPTIONS)
        self._rules: list[tuple[FactSpec, int]] = []
        for spec in kb.vocabulary.values():
            for i, rule in enumerate(spec.infer):
                self._set.Add(rule.pattern)
                self._rules.append((spec, i))
        self._set.Compile()
        self._synonyms = {
            spec.name: [
                (value.value, compile_re2(_synonym_pattern(value.synonyms or [value.value])))
                for value in spec.values
            ]
            for spec in kb.vocabulary.values()
            if spec.kind is FactKind.CHOICE
        }

    def infer(self, text: str) -> dict[str, Fact]:
        """Facts the text itself shows, with the evidence for each."""
        found: set[int] = set()
        for piece in chunks(text):
            found.update(self._set.Match(piece) or ())
        values: dict[str, dict[str, str]] = defaultdict(dict)
        for index in sorted(found):
            spec, rule_index = self._rules[index]
            rule = spec.infer[rule_index]
            if spec.kind is FactKind.CHOICE:
                assert rule.value is not None
                values[spec.name].setdefault(rule.value, rule.evidence or "the pasted text")
                continue
            if values.get(spec.name):
                continue  # the first (most specific) rule that yields a value wins
            for piece in chunks(text):
                m = compile_re2(rule.pattern).search(piece)
                if m and m.lastindex:
                    accepted = valid_value(spec, m.group(1))
                    if accepted:
                        values[spec.name][accepted] = rule.evidence or "the pasted text"
                        break
        facts: dict[str, Fact] = {}
        for name, candidates in values.items():
            if len(candidates) == 1:
                ((value, evidence),) = candidates.items()
                facts[name] = Fact(name=name, value=value, source=FactSource.TEXT, evidence=evidence)
        return facts

    def parse_answer(self, text: str, pending: Iterable[str]) -> dict[str, str]:
        """Values for any of the `pending` facts that a typed answer gives, in any order.

        "we're self-hosted, global limit, 3.4.14" answers three questions at once. A fact
        whose synonyms point two ways with equal strength is left out.
        """
        answers: dict[str, str] = {}
        for name in pending:
            spec = self.vocabulary.get(name)
            if spec is None:
                continue
            if spec.kind is FactKind.CHOICE:
                best: list[tuple[int, str]] = []
                for value, pattern in self._synonyms[name]:
                    m = pattern.search(text)
                    if m:
                        best.append((len(m.group(0).strip()), value))
                best.sort(reverse=True)
                if best and (len(best) == 1 or best[0][0] > best[1][0]):
                    answers[name] = best[0][1]
            elif spec.kind is FactKind.VERSION:
                m = _VERSION_ANSWER.search(text)
                if m and valid_value(spec, m.group(1)):
                    answers[name] = m.group(1)
            else:
                accepted = valid_value(spec, text)
                if accepted:
                    answers[name] = accepted
        return answers


def _synonym_pattern(synonyms: list[str]) -> str:
    alternatives = "|".join(re2.escape(s.lower()) for s in sorted(synonyms, key=len, reverse=True))
    return rf"(?i)(?:^|[^a-z0-9_])(?:{alternatives})(?:$|[^a-z0-9_])"


def narrowed_values(signatures: Iterable[Signature]) -> dict[str, set[str]]:
    """What matched signatures say each fact can still be (intersection of their hints)."""
    narrowed: dict[str, set[str]] = {}
    for signature in signatures:
        for name, values in signature.narrows.items():
            narrowed[name] = narrowed[name] & set(values) if name in narrowed else set(values)
    return narrowed


def facts_from_narrowing(
    signatures: Iterable[Signature], known: Mapping[str, Fact]
) -> dict[str, Fact]:
    """Facts pinned down to one value by the signatures that matched."""
    signatures = list(signatures)
    out: dict[str, Fact] = {}
    for name, values in narrowed_values(signatures).items():
        if name in known or len(values) != 1:
            continue
        evidence = next(
            (s.evidence for s in signatures if name in s.narrows and s.evidence), "the message you pasted"
        )
        out[name] = Fact(name=name, value=next(iter(values)), source=FactSource.TEXT, evidence=evidence)
    return out


def merge(*layers: Mapping[str, Fact]) -> dict[str, Fact]:
    """Combine fact layers; a higher-precedence source wins, then the later layer."""
    merged: dict[str, Fact] = {}
    for layer in layers:
        for name, fact in layer.items():
            current = merged.get(name)
            if current is None or PRECEDENCE[fact.source] >= PRECEDENCE[current.source]:
                merged[name] = fact
    return merged
