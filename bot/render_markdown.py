"""Lay out a `Reply` as one Markdown document (CLI, JSON `reply`, terminal chat).

Rich adapters (Slack Block Kit) use the Reply's parts instead; this is the plain layout.
Fact values printed here were validated on the way in and are escaped again. This module
must not render templates or decide anything.
"""

from __future__ import annotations

from bot.models import Fact, FactSource, Question, Reply

SOURCE_WORDS = {
    FactSource.TEXT: "from what you pasted",
    FactSource.WORKSPACE: "I checked your workspace",
    FactSource.USER: "you told me",
    FactSource.DEFAULT: "assumed",
}


def fact_line(fact: Fact) -> str:
    from bot.render import escape_value

    why = SOURCE_WORDS[fact.source]
    evidence = f": {escape_value(fact.evidence)}" if fact.evidence and fact.source is not FactSource.USER else ""
    return f"- `{fact.name}` = `{escape_value(fact.value)}` ({why}{evidence})"


def question_line(number: int, question: Question) -> str:
    options = " / ".join(f"`{o.value}`" for o in question.options)
    return f"{number}. {question.text}" + (f" ({options})" if options else "")


def reply_markdown(reply: Reply) -> str:
    parts = [f"**{reply.title}**", reply.body]
    if reply.facts:
        parts.append("**What I know**\n" + "\n".join(fact_line(f) for f in reply.facts))
    if reply.questions:
        lines = [question_line(i, q) for i, q in enumerate(reply.questions, 1)]
        parts.append("**To be sure, tell me**\n" + "\n".join(lines))
    if reply.links:
        parts.append("**Read more**\n" + "\n".join(f"- [{link.title}]({link.url})" for link in reply.links))
    if reply.notes:
        parts.append("\n".join(f"_{note}_" for note in reply.notes))
    return "\n\n".join(p for p in parts if p.strip())
