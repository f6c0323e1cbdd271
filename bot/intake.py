"""Turn whatever a user pasted into plain text the matcher can read.

Handles bytes (invalid UTF-8 is replaced, binary is refused with a message), Slack markup
(`<url|label>`, `<@U…>`, `<#C…|name>`, `<!here>`), HTML entities, code fences, CRLF, ANSI
colour codes and invisible characters, and caps huge inputs by keeping their head and
tail. Multi-line logs keep their lines.

It must not redact (that is `redact.py`, which runs right after), match, or log the text.
Every pattern here is a bounded character-class scan, so run time is linear in the input.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

_ANSI = re.compile(r"\x1b\[[0-9;?]{0,40}[ -/]{0,4}[@-~]|\x1b\][^\x07\x1b]{0,400}(?:\x07|\x1b\\)")
_SLACK_ENTITY = re.compile(r"<([^<>\n]{1,2000})>")
_FENCE = re.compile(r"```[A-Za-z0-9_+-]{0,20}[ \t]*")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile("[\u00a0\u2007\u202f\u3000]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SMART_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


@dataclass
class Intake:
    """The normalised text and what happened to it on the way."""

    text: str
    problem: str | None = None
    """A user-facing reason the text cannot be triaged at all (empty, binary)."""
    notes: list[str] = field(default_factory=list)
    original_size: int = 0


def _slack_entity(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith(("@U", "@W", "@B")):
        return "@" + (label or "user")
    if target.startswith(("#C", "#G")):
        return "#" + (label or "channel")
    if target.startswith("!"):
        # <!here>, <!channel>, <!everyone>, <!subteam^S1|@team>, <!date^…|fallback>
        if label:
            return label
        return "@" + target[1:].split("^", 1)[0]
    if target.startswith(("http://", "https://", "mailto:")):
        if not label or label == target or target.endswith(label) or label.startswith(("http", "www")):
            return target
        return f"{label} ({target})"
    return match.group(0)


def looks_binary(data: bytes) -> bool:
    """True for data that is not text: NUL bytes or mostly undecodable bytes in its head."""
    head = data[:65536]
    if not head:
        return False
    if b"\x00" in head:
        return True
    bad = head.decode("utf-8", errors="replace").count("\ufffd")
    return bad > max(8, len(head) // 10)


def decode(data: bytes | str) -> tuple[str, str | None]:
    """Decode bytes as UTF-8 (invalid sequences replaced); refuse binary with a message."""
    if isinstance(data, str):
        if "\x00" in data[:65536]:
            return "", "That looks like a binary file, not a log or a message. Paste the text of the log instead."
        return data, None
    if looks_binary(data):
        return "", "That looks like a binary file, not a log or a message. Paste the text of the log instead."
    return data.decode("utf-8", errors="replace"), None


def cap(text: str, max_chars: int) -> tuple[str, str | None]:
    """Keep the head and the tail of a text longer than `max_chars` (the tail matters most in logs)."""
    if len(text) <= max_chars:
        return text, None
    head = max_chars // 4
    tail = max_chars - head
    kept = text[:head] + "\n[… middle of a long paste skipped …]\n" + text[-tail:]
    mb = len(text) / 1_000_000
    note = (
        f"Your paste was {mb:.1f} MB; I read its first {head / 1_000_000:.1f} MB "
        f"and last {tail / 1_000_000:.1f} MB."
    )
    return kept, note


def normalise(text: str) -> str:
    """Plain text from Slack/Markdown/terminal markup; line structure kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI.sub("", text)
    text = _SLACK_ENTITY.sub(_slack_entity, text)
    text = html.unescape(text) if "&" in text else text
    text = _FENCE.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _CONTROL.sub("", text)
    return text.translate(_SMART_QUOTES).strip()


def take_in(data: bytes | str, *, max_chars: int = 20_000_000) -> Intake:
    """Decode, cap and normalise one pasted message."""
    size = len(data)
    text, problem = decode(data)
    if problem:
        return Intake(text="", problem=problem, original_size=size)
    text, note = cap(text, max_chars)
    text = normalise(text)
    if not text:
        return Intake(
            text="",
            problem=(
                "I got an empty message. Paste the warning or log lines you see "
                "(or describe the symptom, e.g. “runs stay Late”)."
            ),
            original_size=size,
        )
    return Intake(text=text, notes=[note] if note else [], original_size=size)
