"""Render a chosen diagnosis into a neutral `Reply` with sandboxed Jinja2 templates.

Templates live beside their entry (`reply.md.j2`) and see: `diagnosis` (its id), `entry`,
`facts` (every vocabulary fact, None when unknown), each fact by its own name, `source`
(where each known fact came from), `version_notes`, `workspace` (details a lookup found)
and `ph(value, '<placeholder>')`. Rendering is sandboxed with StrictUndefined, so a typo
fails `kb lint` instead of printing blanks; every value that came from a user or a
workspace is escaped on output. This module must not choose diagnoses or talk to Slack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.conditions import HELPERS, version_ge, version_lt
from bot.kb.loader import Entry, KnowledgeBase
from bot.kb.schema import DiagnosisSpec, FactKind
from bot.models import Fact, Link, Question, QuestionOption, Reply, Snippet

_FENCE = re.compile(r"```([A-Za-z0-9_+-]*)\n(.*?)\n```", re.DOTALL)
_BLANK_RUNS = re.compile(r"\n{3,}")


class UserValue(str):
    """A string that came from a user or a workspace: escaped whenever a template prints it."""


def escape_value(value: str) -> str:
    """Neutralise what could break Markdown code spans or turn into a mention or link."""
    return (
        value.replace("`", "'")
        .replace("<", "‹")
        .replace(">", "›")
        .replace("&", "+")
        .replace("@", "@\u200b")
        .replace("\n", " ")
        .replace("\r", " ")
    )


def _finalize(value: Any) -> Any:
    if isinstance(value, UserValue):
        return escape_value(value)
    return value


def _wrap(value: Any) -> Any:
    if isinstance(value, str):
        return UserValue(value)
    if isinstance(value, Mapping):
        return {k: _wrap(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wrap(v) for v in value]
    return value


def placeholder(value: str | None, default: str) -> str:
    """The user's own value when known, else a clear placeholder like `<your-tag>`."""
    return value if value else default


def make_environment(kb: KnowledgeBase) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader([str(root) for root in kb.roots]),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=_finalize,
    )
    env.globals.update(HELPERS)
    env.globals["ph"] = placeholder
    return env


def version_notes(entry: Entry, version: str | None) -> list[str]:
    """The entry's version notes that apply to this version (none when it is unknown)."""
    notes = []
    for note in entry.spec.versions:
        if version is None or (note.before is None and note.since is None):
            continue
        after_start = note.since is None or version_ge(version, note.since)
        before_end = note.before is None or version_lt(version, note.before)
        if after_start and before_end:
            notes.append(note.note.strip())
    return notes


def template_context(
    entry: Entry,
    diagnosis: DiagnosisSpec,
    facts: Mapping[str, Fact],
    kb: KnowledgeBase,
    workspace: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    values: dict[str, Any] = {name: None for name in kb.vocabulary}
    values.update({name: UserValue(f.value) for name, f in facts.items() if name in kb.vocabulary})
    return {
        **values,
        "facts": dict(values),
        "source": {name: f.source.value for name, f in facts.items()},
        "diagnosis": diagnosis.id,
        "entry": {"id": entry.id, "title": entry.spec.title, "summary": entry.spec.summary},
        "version_notes": version_notes(entry, facts["prefect_version"].value if "prefect_version" in facts else None),
        "workspace": _wrap(dict(workspace or {})),
    }


CORE_FACTS = ("deployment", "log_source", "mechanism", "prefect_version", "worker_type")


def relevant_facts(entry: Entry, facts: Mapping[str, Fact]) -> list[Fact]:
    """The facts worth showing for this entry: what it uses, the core five, and anything the user said."""
    from bot.diagnose import referenced_facts

    wanted = set(entry.spec.facts) | set(referenced_facts(entry)) | set(CORE_FACTS)
    return sorted(
        (f for name, f in facts.items() if name in wanted or f.source.value == "user"),
        key=lambda f: f.name,
    )


def questions_for(names: list[str], kb: KnowledgeBase, narrowed: Mapping[str, set[str]]) -> list[Question]:
    out = []
    for name in names:
        spec = kb.vocabulary[name]
        options = []
        if spec.kind is FactKind.CHOICE:
            allowed = narrowed.get(name)
            options = [
                QuestionOption(value=v.value, label=v.label)
                for v in spec.values
                if not allowed or v.value in allowed
            ]
        out.append(Question(fact=name, text=spec.question or name, options=options))
    return out


def render(
    env: ImmutableSandboxedEnvironment,
    kb: KnowledgeBase,
    entry: Entry,
    diagnosis: DiagnosisSpec,
    facts: Mapping[str, Fact],
    questions: list[Question],
    *,
    workspace: Mapping[str, Any] | None = None,
    notes: list[str] | None = None,
) -> Reply:
    """Render one diagnosis of one entry into a Reply."""
    template = env.get_template(entry.template_name(diagnosis.template))
    body = template.render(template_context(entry, diagnosis, facts, kb, workspace)).strip()
    body = _BLANK_RUNS.sub("\n\n", body)
    snippets = [Snippet(language=lang, code=code) for lang, code in _FENCE.findall(body)]
    return Reply(
        title=f"{entry.spec.title}: {diagnosis.title}",
        body=body,
        snippets=snippets,
        facts=relevant_facts(entry, facts),
        questions=questions,
        links=[Link(title=link.title, url=link.url) for link in entry.spec.links],
        notes=list(notes or []),
    )
