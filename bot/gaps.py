"""Knowledge-gap reports: group the messages nothing matched, most frequent first.

Texts are reduced to a signature (numbers, ids, quoted names and paths replaced by
placeholders, lowercased, the first error-looking line preferred) and grouped greedily by
the Jaccard similarity of their words, so "flow X crashed with code 3" and "flow Y crashed with
code 7" land together. Pure logic over (text, best entry) pairs; it must not read the
database itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel

_ERROR_LINE = re.compile(r"(?i)\b(?:error|exception|failed|traceback|crash|warning|refused|denied|timed? ?out)\b")
_NOISE = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), " <id> "),
    (re.compile(r"(?:/[\w.-]+){2,}"), " <path> "),
    (re.compile(r"https?://\S+"), " <url> "),
    (re.compile(r"'[^'\n]{1,80}'|\"[^\"\n]{1,80}\""), " <name> "),
    (re.compile(r"\b\d+(?:[.:]\d+)*\b"), " <n> "),
    (re.compile(r"\b0x[0-9a-f]+\b"), " <hex> "),
]
_WORD = re.compile(r"[a-z<>_]+")


class GapGroup(BaseModel):
    count: int
    example: str
    signature: str
    near: str | None = None


def signature(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    chosen = next((line for line in lines if _ERROR_LINE.search(line)), lines[0] if lines else "")
    chosen = chosen.lower()[:300]
    for pattern, replacement in _NOISE:
        chosen = pattern.sub(replacement, chosen)
    return " ".join(_WORD.findall(chosen))


_STOP = {"the", "a", "an", "is", "are", "was", "at", "in", "on", "of", "to", "and", "or", "it", "my", "our", "we",
         "i", "again", "with", "for", "this", "that", "be", "from", "after", "when"}


def _shingles(sig: str) -> set[str]:
    return {word for word in sig.split() if word not in _STOP}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def group_gaps(items: Iterable[tuple[str, str | None]], threshold: float = 0.5, limit: int = 20) -> list[GapGroup]:
    """Group (text, best near entry) pairs by similarity; the biggest groups first."""
    groups: list[tuple[set[str], GapGroup]] = []
    for text, near in items:
        sig = signature(text)
        shingles = _shingles(sig)
        for group_shingles, group in groups:
            if sig == group.signature or _jaccard(shingles, group_shingles) >= threshold:
                group.count += 1
                group_shingles |= shingles
                break
        else:
            groups.append((shingles, GapGroup(count=1, example=text[:300], signature=sig, near=near)))
    ranked = sorted((g for _, g in groups), key=lambda g: -g.count)
    return ranked[:limit]
