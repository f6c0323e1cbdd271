"""The shape of the knowledge base files, as pydantic models.

`knowledge/facts.yaml` is a `Vocabulary`; each `knowledge/<family>/<slug>/entry.yaml` is an
`EntrySpec`; each `cases.yaml` is a list of `CaseSpec`. Loading and cross-checks (pattern
syntax, fact names, templates) live in `loader.py` and `lint.py`; this module only
describes the data and must not read files.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ENTRY_ID = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FACT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactKind(StrEnum):
    CHOICE = "choice"
    """One of a closed set of values (`deployment`, `mechanism`)."""
    VERSION = "version"
    """A version string such as 3.4.14."""
    NAME = "name"
    """A user's own name for something (a tag, a limit, a pool): never asked, used in snippets."""


class FactValueSpec(_Strict):
    value: str
    label: str
    synonyms: list[str] = Field(default_factory=list)
    """Phrases that mean this value in a typed answer ("we're on cloud", "self hosted")."""

    @field_validator("value", "label", mode="before")
    @classmethod
    def _scalar_text(cls, v: object) -> object:
        return str(v) if isinstance(v, int | float) else v

    @field_validator("synonyms", mode="before")
    @classmethod
    def _synonyms_text(cls, v: object) -> object:
        """YAML reads `401` or `3.9` as numbers; synonyms are always text."""
        return [str(x) if isinstance(x, int | float) else x for x in v] if isinstance(v, list) else v


class InferRule(_Strict):
    pattern: str
    """RE2 pattern over the pasted text."""
    value: str | None = None
    """For choice facts: the value this pattern implies. For other kinds, group 1 is the value."""
    evidence: str = ""
    """How the reply explains the inference ("a Prefect Cloud API URL")."""


class FactSpec(_Strict):
    name: str
    kind: FactKind = FactKind.CHOICE
    description: str = ""
    question: str | None = None
    """What the bot asks when this fact would change the diagnosis; None: never asked."""
    values: list[FactValueSpec] = Field(default_factory=list)
    infer: list[InferRule] = Field(default_factory=list)
    resolver: str | None = None
    """Name of the workspace resolver that can look this fact up."""
    samples: list[str] = Field(default_factory=list)
    """For version/name facts: representative values used to decide whether to ask."""
    validate_pattern: str | None = Field(default=None, alias="validate")
    """For version/name facts: a value must fully match this RE2 pattern to be accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not FACT_NAME.match(v):
            raise ValueError(f"fact name {v!r} must be lower_snake_case")
        return v

    @model_validator(mode="after")
    def _kind_rules(self) -> FactSpec:
        if self.kind is FactKind.CHOICE:
            if not self.values:
                raise ValueError(f"choice fact {self.name!r} needs values")
            allowed = {v.value for v in self.values}
            for rule in self.infer:
                if rule.value not in allowed:
                    raise ValueError(f"fact {self.name!r}: inference value {rule.value!r} is not one of {allowed}")
        elif self.values:
            raise ValueError(f"{self.kind} fact {self.name!r} takes no values list")
        return self

    def value_spec(self, value: str) -> FactValueSpec | None:
        return next((v for v in self.values if v.value == value), None)


class Vocabulary(_Strict):
    facts: list[FactSpec]

    @model_validator(mode="after")
    def _unique(self) -> Vocabulary:
        names = [f.name for f in self.facts]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"facts defined twice: {sorted(dupes)}")
        return self


class SignatureKind(StrEnum):
    EXACT = "exact"
    """A string Prefect prints; pasted logs contain it verbatim."""
    SYMPTOM = "symptom"
    """Prose a user writes about the problem ("stuck in Late")."""


class Signature(_Strict):
    pattern: str
    kind: SignatureKind = SignatureKind.EXACT
    weight: float | None = Field(default=None, gt=0, le=1)
    """How sure a hit makes us on its own; defaults to 0.9 for exact, 0.6 for symptom."""
    narrows: dict[str, list[str]] = Field(default_factory=dict)
    """Facts whose possible values this signature narrows (one value left: the fact is known)."""
    evidence: str = ""

    @property
    def strength(self) -> float:
        if self.weight is not None:
            return self.weight
        return 0.9 if self.kind is SignatureKind.EXACT else 0.6


class DiagnosisSpec(_Strict):
    id: str
    title: str
    when: str | None = None
    """A sandboxed Jinja2 expression over facts; None: always holds (the fallback)."""
    template: str = "reply.md.j2"

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"diagnosis id {v!r} must be a lowercase slug")
        return v


class LinkSpec(_Strict):
    title: str
    url: str

    @field_validator("url")
    @classmethod
    def _https(cls, v: str) -> str:
        if not v.startswith("https://"):
            raise ValueError(f"link {v!r} must be https")
        return v


class VersionNote(_Strict):
    """A note shown when the user's version is known and inside [since, before)."""

    before: str | None = None
    """The note applies to versions older than this one."""
    since: str | None = None
    """The note applies from this version on (both set: only inside the range)."""
    note: str


class EntrySpec(_Strict):
    id: str
    title: str
    summary: str
    signatures: list[Signature] = Field(min_length=1)
    exclude: list[str] = Field(default_factory=list)
    """RE2 patterns that veto this entry (a how-to question that merely names the topic)."""
    symptoms: list[str] = Field(default_factory=list, max_length=40)
    """How users describe this problem in their own words (plain text, not patterns): what they
    see, where, and what they tried. Resemblance compares unrecognised reports with them;
    signatures never use them."""
    facts: list[str] = Field(default_factory=list)
    """Facts this entry depends on, in the order questions are asked."""
    diagnoses: list[DiagnosisSpec] = Field(min_length=1)
    links: list[LinkSpec] = Field(default_factory=list)
    versions: list[VersionNote] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ENTRY_ID.match(v):
            raise ValueError(f"entry id {v!r} must look like family.slug")
        return v

    @model_validator(mode="after")
    def _diagnoses(self) -> EntrySpec:
        ids = [d.id for d in self.diagnoses]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.id}: diagnosis ids repeat")
        if self.diagnoses[-1].when is not None:
            raise ValueError(f"{self.id}: the last diagnosis must have no `when` (it is the fallback)")
        if any(d.when is None for d in self.diagnoses[:-1]):
            raise ValueError(f"{self.id}: only the last diagnosis may omit `when`")
        return self


class CaseExpect(_Strict):
    entry: str | None
    """The entry that must be chosen (None: nothing may answer)."""
    diagnosis: str | None = None
    questions: list[str] | None = None
    """Exactly these questions, in this order (None: not checked)."""
    asks: list[str] = Field(default_factory=list)
    """At least these questions."""
    facts: dict[str, str] = Field(default_factory=dict)
    """Facts that must be known with these values."""
    reply_contains: list[str] = Field(default_factory=list)
    reply_excludes: list[str] = Field(default_factory=list)


class CaseSpec(_Strict):
    name: str
    kind: Literal["fires", "near-miss", "asks"]
    text: str
    facts: dict[str, str] = Field(default_factory=dict)
    expect: CaseExpect
