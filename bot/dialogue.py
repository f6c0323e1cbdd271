"""The conversation state machine: pure logic, no I/O.

A conversation starts with a pasted message and gets a reply at once (the best diagnosis
for what is known plus the questions that matter). Each later message is classified:
answers to pending questions (several at once, any order), feedback ("that fixed it",
"still broken"), or new evidence (another warning, which may switch the entry). Every
change re-runs diagnosis through the `Triage` callable the caller supplies, so this
module never touches the database, Slack or a workspace.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.intake import cap
from bot.models import Fact, FactSource, TriageResult

Triage = Callable[[str, dict[str, Fact]], TriageResult]
"""Run triage over (accumulated redacted text, facts the user stated)."""

MAX_EVIDENCE_CHARS = 2_000_000

_FIXED = re.compile(
    r"(?i)\b(?:that|this|it) (?:fixed|solved|resolved|did) (?:it|the trick)\b|\b(?:fixed|solved|works?) now\b"
    r"|\bthat worked\b|\bproblem solved\b|^\s*(?:fixed|solved|resolved)[.!]*\s*$"
)
_STILL_BROKEN = re.compile(
    r"(?i)\bstill (?:broken|failing|happening|crashing|stuck|the same|not working)\b"
    r"|\bdid(?:n't| not) (?:help|work|fix)|\bnot fixed\b|\bsame (?:error|problem|issue)\b"
)
_NOT_HELPFUL = re.compile(r"(?i)\bnot helpful\b|\bwrong (?:answer|diagnosis)\b|\bunhelpful\b")
_ESCALATE = re.compile(r"(?i)\b(?:ask|talk to|get|need) (?:a )?(?:human|person|someone)\b|\bescalate\b")


class Status(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


class TurnKind(StrEnum):
    FIRST = "first"
    ANSWER = "answer"
    EVIDENCE = "evidence"
    FEEDBACK = "feedback"
    REASK = "reask"
    NOTHING = "nothing"


class Feedback(StrEnum):
    FIXED = "fixed"
    STILL_BROKEN = "still-broken"
    NOT_HELPFUL = "not-helpful"
    ESCALATED = "escalated"


class State(BaseModel):
    """Everything a conversation remembers between messages (stored as JSON)."""

    evidence: list[str] = Field(default_factory=list)
    user_facts: dict[str, Fact] = Field(default_factory=dict)
    entry: str | None = None
    diagnosis: str | None = None
    confidence: float = 0.0
    pending: list[str] = Field(default_factory=list)
    status: Status = Status.OPEN
    feedback: list[Feedback] = Field(default_factory=list)
    turns: int = 0

    @property
    def text(self) -> str:
        return "\n\n".join(self.evidence)


class Turn(BaseModel):
    """What one incoming message did to the conversation."""

    kind: TurnKind
    state: State
    result: TriageResult | None = None
    answered: dict[str, str] = Field(default_factory=dict)
    previous_diagnosis: str | None = None
    previous_entry: str | None = None
    feedback: Feedback | None = None
    message: str | None = None
    """A short text to send instead of (or before) a full reply, e.g. a re-ask."""

    @property
    def changed(self) -> bool:
        return self.result is not None and (
            self.result.diagnosis != self.previous_diagnosis or self.result.entry != self.previous_entry
        )


def _apply(state: State, result: TriageResult) -> State:
    status = state.status
    if result.entry and not result.questions and status is Status.OPEN:
        status = Status.ANSWERED
    return state.model_copy(
        update={
            "entry": result.entry,
            "diagnosis": result.diagnosis,
            "confidence": result.confidence,
            "pending": list(result.questions),
            "status": status,
            "turns": state.turns + 1,
        }
    )


def start(text: str, triage: Triage, facts: dict[str, Fact] | None = None) -> Turn:
    """The first message: triage it and reply at once, questions included."""
    state = State(evidence=[cap(text, MAX_EVIDENCE_CHARS)[0]], user_facts=dict(facts or {}))
    result = triage(state.text, state.user_facts)
    return Turn(kind=TurnKind.FIRST, state=_apply(state, result), result=result)


def classify_feedback(text: str) -> Feedback | None:
    if _ESCALATE.search(text):
        return Feedback.ESCALATED
    if _NOT_HELPFUL.search(text):
        return Feedback.NOT_HELPFUL
    if _STILL_BROKEN.search(text):
        return Feedback.STILL_BROKEN
    if _FIXED.search(text):
        return Feedback.FIXED
    return None


def give_feedback(state: State, feedback: Feedback) -> Turn:
    status = {
        Feedback.FIXED: Status.RESOLVED,
        Feedback.ESCALATED: Status.ESCALATED,
    }.get(feedback, Status.OPEN)
    new = state.model_copy(update={"feedback": [*state.feedback, feedback], "status": status, "turns": state.turns + 1})
    return Turn(kind=TurnKind.FEEDBACK, state=new, feedback=feedback)


def answer(state: State, answers: dict[str, str], triage: Triage) -> Turn:
    """Record typed or clicked answers and re-run the diagnosis."""
    facts = dict(state.user_facts)
    for name, value in answers.items():
        facts[name] = Fact(name=name, value=value, source=FactSource.USER)
    updated = state.model_copy(update={"user_facts": facts})
    result = triage(updated.text, facts)
    return Turn(
        kind=TurnKind.ANSWER,
        state=_apply(updated, result),
        result=result,
        answered=answers,
        previous_diagnosis=state.diagnosis,
        previous_entry=state.entry,
    )


def add_evidence(state: State, text: str, triage: Triage) -> Turn:
    """A new warning or log in the same conversation: triage everything seen so far."""
    evidence = [*state.evidence, cap(text, MAX_EVIDENCE_CHARS)[0]]
    while len(evidence) > 1 and sum(len(e) for e in evidence) > MAX_EVIDENCE_CHARS:
        evidence.pop(0)  # the newest evidence matters most; logs keep their head and tail
    updated = state.model_copy(update={"evidence": evidence})
    result = triage(updated.text, updated.user_facts)
    return Turn(
        kind=TurnKind.EVIDENCE,
        state=_apply(updated, result),
        result=result,
        previous_diagnosis=state.diagnosis,
        previous_entry=state.entry,
    )


def reask(state: State, question_texts: dict[str, str]) -> Turn:
    lines = ["I couldn't match that to a question. I still need to know:"]
    lines.extend(f"- {question_texts.get(name, name)}" for name in state.pending)
    return Turn(kind=TurnKind.REASK, state=state, message="\n".join(lines))


def handle(
    state: State,
    text: str,
    triage: Triage,
    parse_answer: Callable[[str, list[str]], dict[str, str]],
    recognises: Callable[[str], bool],
    askable: list[str],
    question_texts: dict[str, str],
) -> Turn:
    """Route one later message: answers, then feedback, then new evidence, else a re-ask.

    `askable` lists facts the user may volunteer even when not asked (unknown facts of
    the vocabulary); `recognises(text)` says whether the text alone matches an entry.
    """
    if not text.strip():
        return Turn(kind=TurnKind.NOTHING, state=state)
    known = set(state.user_facts)
    answers = parse_answer(text, state.pending)
    extra = parse_answer(text, [n for n in askable if n not in state.pending and n not in known])
    feedback = classify_feedback(text)
    if answers:
        return answer(state, {**extra, **answers}, triage)
    if feedback is not None:
        return give_feedback(state, feedback)
    if recognises(text):
        return add_evidence(state, text, triage)
    if extra:
        return answer(state, extra, triage)
    if state.pending:
        return reask(state, question_texts)
    return add_evidence(state, text, triage)
