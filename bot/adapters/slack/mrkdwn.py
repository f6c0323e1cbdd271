"""Convert the core's neutral Markdown into Slack mrkdwn, safely.

Everything is escaped first (`&`, `<`, `>` — Slack's only control characters), so no text,
pasted or ours, can become a mention, a broadcast or a disguised link; only then are our
own Markdown links turned into `<url|label>`. Runs of three backticks inside code are
broken up so user text cannot end a code block. This module must not build blocks.
"""

from __future__ import annotations

import re

_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https://[^)\s]{1,2000})\)")
_BOLD = re.compile(r"\*\*([^*\n]{1,500})\*\*")
_HEADING = re.compile(r"(?m)^#{1,6}\s+(.{1,200})$")
_BULLET = re.compile(r"(?m)^(\s*)[-*] ")
_FENCE = re.compile(r"```([A-Za-z0-9_+-]*)\n(.*?)\n```", re.DOTALL)


def escape(text: str) -> str:
    """Slack's three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code_safe(code: str) -> str:
    """Code for a ``` block: escaped, and no ``` run that could end the block early."""
    return escape(code).replace("```", "`\u200b``")


def _prose(text: str) -> str:
    text = escape(text)
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1).replace('|', '/')}>", text)
    text = _BOLD.sub(r"*\1*", text)
    text = _HEADING.sub(r"*\1*", text)
    return _BULLET.sub(r"\1• ", text)


def to_mrkdwn(markdown: str) -> str:
    """Markdown (our templates' dialect) to Slack mrkdwn; code blocks kept verbatim but safe."""
    out: list[str] = []
    last = 0
    for m in _FENCE.finditer(markdown):
        out.append(_prose(markdown[last : m.start()]))
        out.append("```" + code_safe(m.group(2)) + "```")
        last = m.end()
    out.append(_prose(markdown[last:]))
    return "".join(out)


def split_text(text: str, limit: int = 2900) -> list[str]:
    """Split mrkdwn into pieces under `limit`, at paragraph or line boundaries, never inside code."""
    pieces: list[str] = []
    current = ""
    for paragraph in re.split(r"(\n\n)", text):
        if len(current) + len(paragraph) <= limit:
            current += paragraph
            continue
        if current.strip():
            pieces.append(current.strip("\n"))
        current = paragraph
        while len(current) > limit:
            cut = current.rfind("\n", 0, limit)
            cut = cut if cut > limit // 2 else limit
            head, current = current[:cut], current[cut:]
            if head.count("```") % 2:  # never leave a code block open
                head += "```"
                current = "```" + current
            pieces.append(head.strip("\n"))
    if current.strip():
        pieces.append(current.strip("\n"))
    return pieces
