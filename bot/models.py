"""The neutral data that flows through the triage pipeline.

Everything an adapter hands to the core, and everything the core hands back, is one of
these pydantic models. They know nothing about Slack, the terminal, Prefect's client or
the database: adapters translate to and from them at the edges.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FactSource(StrEnum):
    """Where a known fact came from; replies say so."""

    TEXT = "text"
    WORKSPACE = "workspace"
    USER = "user"
    DEFAULT = "default"


class Fact(BaseModel):
    """One known fact with its provenance and a short piece of evidence."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: str
    source: FactSource
    evidence: str = ""


class Inbound(BaseModel):
    """A message as the core sees it: text plus where it came from.

    `text` may be anything the user pasted; the pipeline normalises and redacts it.
    `facts` are facts already known for this conversation (answers, lookups).
    """

    text: str
    facts: dict[str, Fact] = Field(default_factory=dict)
    unprompted: bool = False
    """True when nobody asked the bot (a watched channel): only confident matches answer."""
    transport: str = "cli"


class Candidate(BaseModel):
    entry: str
    score: float
    title: str = ""


class QuestionOption(BaseModel):
    value: str
    label: str


class Question(BaseModel):
    """A question the bot asks because the fact would change the diagnosis."""

    fact: str
    text: str
    options: list[QuestionOption] = Field(default_factory=list)


class Snippet(BaseModel):
    """A fenced code block lifted from the rendered reply."""

    language: str = ""
    code: str


class Link(BaseModel):
    title: str
    url: str


class Reply(BaseModel):
    """A rendered reply in neutral Markdown, with its parts kept apart for rich adapters."""

    title: str
    body: str
    """The diagnosis text in Markdown, code fences included."""
    snippets: list[Snippet] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    """Short notes about how the answer was reached (e.g. workspace unreachable)."""

    def markdown(self) -> str:
        """The whole reply as one Markdown document (what `diagnose` prints)."""
        from bot.render_markdown import reply_markdown

        return reply_markdown(self)


class TriageResult(BaseModel):
    """The outcome of one triage: the public `diagnose --json` object and the reply."""

    entry: str | None
    confidence: float
    candidates: list[Candidate] = Field(default_factory=list)
    facts: dict[str, Fact] = Field(default_factory=dict)
    questions: list[str] = Field(default_factory=list)
    diagnosis: str | None = None
    reply: Reply | None = None
    problem: str | None = None
    """Set when the input itself could not be triaged (empty, binary): a user-facing message."""
    suggested: list[str] = Field(default_factory=list)
    """When nothing was recognised: the entries the reply offers as closest (not in the JSON contract)."""

    def public(self) -> dict[str, Any]:
        """The JSON contract of `prefect-triage diagnose --json`."""
        return {
            "entry": self.entry,
            "confidence": round(self.confidence, 3),
            "candidates": [{"entry": c.entry, "score": round(c.score, 3)} for c in self.candidates],
            "facts": {
                name: {"value": f.value, "source": f.source.value} for name, f in sorted(self.facts.items())
            },
            "questions": list(self.questions),
            "diagnosis": self.diagnosis,
            "reply": self.reply.markdown() if self.reply else (self.problem or ""),
        }
