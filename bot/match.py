"""Recognise which knowledge entries a text is about, in one linear pass.

Every signature and exclusion pattern of every entry goes into one RE2 set, so the cost of
matching grows with the length of the text, not with text × patterns. An entry's score is
the noisy-or of its matched signatures' strengths; an exclusion hit (a how-to question that
merely names the topic) or a question-form or feature-request text with only prose hits
lowers it. This module must not infer facts, choose diagnoses or render anything.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import re2

from bot.kb.loader import RE2_OPTIONS, KnowledgeBase, compile_re2
from bot.kb.schema import Signature, SignatureKind

CHUNK = 1 << 20
OVERLAP = 4096
EXCLUDED_FACTOR = 0.15
QUESTION_FORM_FACTOR = 0.55

# A message that asks how to do something, rather than reporting a problem.
QUESTION_FORM = (
    r"(?i)^\s*(?:<@[^>]{1,40}>|@[\w.-]{1,40})?[ ,:!]*(?:hi|hey|hello)?[ ,!]*"
    r"(?:how (?:do|can|should|would) (?:i|we|you)|how to|is there a way"
    r"|can (?:i|we|you)|what(?:'s| is) the (?:best|right|recommended) way|what (?:does|do) \S+(?: \S+)? mean"
    r"|which is better|should (?:i|we)"
    r"|does (?:prefect|anyone))\b"
)

# A feature request (GitHub's template headings or the words themselves): it proposes a change,
# so prose symptoms in it describe today's behaviour, not a problem to triage.
PROPOSAL_FORM = r"(?i)\b(?:describe the (?:proposed|current) behaviou?r|proposed behaviou?r|feature request)\b"


@dataclass(frozen=True)
class Hit:
    entry: str
    signature: Signature


@dataclass
class Match:
    """Ranked candidates and, per entry, the signatures that hit."""

    ranked: list[tuple[str, float]]
    hits: dict[str, list[Signature]] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)
    """Entries whose `exclude` patterns matched: nothing may pick them, not even by resemblance."""

    @property
    def best(self) -> tuple[str, float] | None:
        return self.ranked[0] if self.ranked else None


def chunks(text: str, size: int = CHUNK, overlap: int = OVERLAP) -> list[str]:
    """Split a long text into overlapping pieces, so RE2's DFA budget is never the limit."""
    if len(text) <= size:
        return [text]
    return [text[i : i + size + overlap] for i in range(0, len(text), size)]


class Matcher:
    """Compiled signatures of a whole knowledge base."""

    def __init__(self, kb: KnowledgeBase):
        self._set = re2.Set.SearchSet(RE2_OPTIONS)
        self._index: list[tuple[str, Signature | None]] = []
        for entry in kb.entries.values():
            for signature in entry.spec.signatures:
                self._add(signature.pattern, entry.id, signature)
            for pattern in entry.spec.exclude:
                self._add(pattern, entry.id, None)
        self._question_index = len(self._index)
        self._add(QUESTION_FORM, "", None)
        self._proposal_index = len(self._index)
        self._add(PROPOSAL_FORM, "", None)
        self._question = compile_re2(QUESTION_FORM)
        self._set.Compile()
        self.patterns = len(self._index)

    def _add(self, pattern: str, entry_id: str, signature: Signature | None) -> None:
        compile_re2(pattern)  # a clear error for a bad pattern instead of RE2's generic one
        if self._set.Add(pattern) != len(self._index):
            raise ValueError(f"RE2 set rejected pattern {pattern!r}")
        self._index.append((entry_id, signature))

    def is_question(self, text: str) -> bool:
        """The text asks how to do something (rather than reporting a problem)."""
        return self._question.search(text[:2000]) is not None

    def indices(self, text: str) -> set[int]:
        found: set[int] = set()
        for piece in chunks(text):
            found.update(self._set.Match(piece) or ())
        return found

    def match(self, text: str) -> Match:
        found = self.indices(text)
        # a how-to question or a feature request: prose hits alone are damped
        question_form = self._question_index in found or self._proposal_index in found
        hits: dict[str, list[Signature]] = defaultdict(list)
        excluded: set[str] = set()
        for i in found:
            entry_id, signature = self._index[i]
            if not entry_id:
                continue
            if signature is None:
                excluded.add(entry_id)
            else:
                hits[entry_id].append(signature)
        ranked: list[tuple[str, float]] = []
        for entry_id, signatures in hits.items():
            miss = 1.0
            for signature in signatures:
                miss *= 1.0 - signature.strength
            score = 1.0 - miss
            has_exact = any(s.kind is SignatureKind.EXACT for s in signatures)
            if entry_id in excluded:
                score *= EXCLUDED_FACTOR
            elif question_form and not has_exact:
                score *= QUESTION_FORM_FACTOR
            ranked.append((entry_id, round(score, 4)))
        ranked.sort(key=lambda pair: (-pair[1], pair[0]))
        return Match(ranked=ranked, hits=dict(hits), excluded=excluded)
