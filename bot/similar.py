"""Resemblance: which entry a problem report reads like, when no signature is sure enough.

Each entry is described by its own words — title, summary, the literal text of its
signatures, their evidence and its diagnoses' titles, the prose of its reply templates, its
`symptoms` in users' words, and the real user messages in its `fires`/`asks` cases — as a
TF-IDF centroid. A prompted message that describes trouble ("fails", "stuck", an exception
name, a 4xx status, …) and asks nothing, but matched no
signature well is compared with every centroid; a clear winner becomes a candidate with a
modest confidence, below the unprompted threshold, so the bot may offer it when asked but
never volunteers it in a watched channel. Pure Python, linear in the text; it must not
look at the tests' corpus or anything outside the knowledge base.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from bot.kb.loader import Entry, KnowledgeBase, compile_re2

_WORD = re.compile(r"[a-z][a-z0-9_]{2,30}")
_REGEX_SYNTAX = re.compile(r"\\[a-zA-Z]|\(\?[a-zA-Z:]+\)|[\\^$.|?*+()\[\]{}]")
TROUBLE = compile_re2(
    r"(?i)\b(?:error|errors|exception|traceback|fail\w*|crash\w*|stuck|hang\w*|hung|never|doesn'?t|does not|"
    r"didn'?t|did not|won'?t|can'?t|cannot|unable|broke|broken|not working|timed? ?out|killed|refused|denied|forever|"
    # the wider vocabulary of a report: something is wrong, missing, over a limit or ignored
    r"not|no longer|isn'?t|aren'?t|wasn'?t|weren'?t|shouldn'?t|hasn'?t|haven'?t|issues?|problems?|bug|wrong|"
    r"unexpected\w*|incorrect\w*|instead|despite|exceed\w*|exhaust\w*|too many|reject\w*|warnings?|missing|"
    r"lost|leak\w*|invalid|unavailable|unreachable|mismatch\w*|incompatible|ignor\w*|nothing|for ages)\b"
)
SIGNAL = compile_re2(
    # an exception class, an HTTP status or exit code, a run left in a state, or a word of failure
    # that is also a topic word (so it is not in TROUBLE, which decides what counts as shared)
    r"\b[A-Z][A-Za-z]*(?:Error|Exception|Timeout|Refused|Denied)\b"
    r"|(?i:\b(?:status|exit|error|http|response)(?: code)?:? ?(?:[45]\d\d|-?\d{1,3})\b"
    r"|\b(?:4[0-2]\d|50[0-4])\b(?:\s+\w+)?\s*(?:unauthori[sz]ed|forbidden|not found|gone|too many|conflict"
    r"|unprocessable|internal|bad gateway|unavailable|error|response|from)"
    r"|\b(?:still|stays?|stayed|remains?|remained|keeps?|turns?|continues? to)\b[^\n.]{0,20}"
    r"\b(?:run|runs|running|pending|scheduled|late|cancelling|queued|wait|waiting)\b"
    r"|\bdeadlock\w*|\bexpir(?:ed?|y)\b|\babort\w*|\bunauthori[sz]ed\b|\bforbidden\b|\bzombies?\b"
    r"|\bdelay(?:s|ed)?\b|\bincompatib\w*|\boom\w*|\bevict\w*|\bsig(?:term|kill)\b|\bdoesn'?t exist"
    r"|\bgone\b|\bno (?:longer|more)\b|\bnot found\b|\bno \w+(?: \w+)? found\b|\btimeouts\b"
    r"|\bcontention\b|\blimit reached\b)"
)
"""Signs of a report that TROUBLE's plain words miss: `ConnectTimeout`, `401 Unauthorized`, "runs stay Late"."""


PASTED_ERROR = compile_re2(
    r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b|\bTraceback \(most recent call last\)|\| (?:ERROR|CRITICAL) +\|"
)
"""A pasted exception or error log line: the message reports a failure even if it also asks how."""


WISH = compile_re2(
    r"(?i)\b(?:feature request|would be (?:nice|great|useful|helpful)|it would be|please add"
    r"|add (?:a|an) (?:way|option|selector|setting)|support for|does(?:n'?t| not) (?:allow|support|let)"
    r"|is there a way|wish|describe the proposed behaviou?r|proposed behaviou?r|if (?:i|we) could"
    r"|(?:i|we) (?:want|would like|need) to be able to)\b"
    # a feature request's title: an imperative first word
    r"|^\s*(?:add|allow|expose|provide|enable|support)\s"
)
"""A request for something new, not a report of something broken."""
HOW_TO = compile_re2(
    r"(?i)\bhow (?:do|can|could|should|would) (?:i|we|you|one)\b|\bhow to\b|\b(?:not (?:clear|sure)|wondering|"
    r"unsure|no idea) (?:to me )?(?:how|whether|if)\b|\bis (?:it|there) (?:possible|a way)\b"
)
"""A how-to somewhere in the message: a resemblance guess would answer a question nobody asked."""
ASKS_FOR_INFO = compile_re2(
    r"(?i)^\s*(?:<@[^>\n]{1,40}>|@\w{1,40})?[\s,:]*(?:what|which|where|when|how (?:does|do|is|are|did|will))\b"
    r"[^\n]{0,300}\?\s*$"
)
"""A one-line what/which/where/when/how-does question asks for information, not help with a failure."""


def reports_trouble(text: str) -> bool:
    """The text reads like a problem report (not necessarily one the bot knows)."""
    return TROUBLE.search(text) is not None or SIGNAL.search(text) is not None


def asks_rather_than_reports(text: str) -> bool:
    """A feature request or a how-to, with no pasted error to say something actually broke."""
    if PASTED_ERROR.search(text):
        return False
    return WISH.search(text) is not None or HOW_TO.search(text) is not None


STOP = frozenset(
    (
        "the and for with that this from have has was were are but not you your our their they them then than "
        "when what which who how why where there here into onto also just only very can could would should "
        "will been being its it's does did doing done get got use used using after before about again any "
        "all some more most other such same each both few own over under out off she him her his hers ours "
        "yours prefect flow flows run runs running "
    ).split()
)


_SUFFIX = re.compile(r"(?:ations?|ings?|ed|es|s|ly|ions?)$")


def stem(word: str) -> str:
    """A light suffix strip, so `evicted`/`eviction`/`evictions` or `timeouts`/`timeout` meet.
    (Chosen by leave-one-out over the entries' own cases: top-1 0.82 -> 0.85, same precision.)"""
    if len(word) <= 4:
        return word
    stripped = _SUFFIX.sub("", word)
    return stripped if len(stripped) >= 3 else word


_STATUS = re.compile(r"(?<![\w.:/])\b[1-5]\d\d\b(?![.:/]\d)")
"""A three-digit number standing alone — an HTTP status or an exit code (`429`, `137`), not a version or time."""


def words(text: str) -> list[str]:
    """The topic words of a text, lightly stemmed, and its status codes as `n429`-style words.
    (Status codes: +5 right of 574 in leave-one-out, same precision.)"""
    found = [stem(w) for w in _WORD.findall(text.lower()) if w not in STOP]
    return found + ["n" + code for code in _STATUS.findall(text)]


def _normalise(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {k: v / norm for k, v in vector.items()}


@dataclass(frozen=True)
class Resemblance:
    entry: str
    similarity: float
    margin: float
    shared: int = 0
    """How many distinct topic words of the message (not trouble words) the entry's own words contain."""


_JINJA = re.compile(r"\{[%#{].*?[%#}]\}", re.S)
_FENCE = re.compile(r"```.*?```", re.S)


def reply_prose(entry: Entry) -> str:
    """The explanations in an entry's reply templates: Jinja and fenced snippets removed."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(entry.directory.glob("*.j2"))]
    return _FENCE.sub(" ", _JINJA.sub(" ", "\n".join(texts)))


def describing_texts(entry: Entry) -> list[str]:
    """What the entry says about itself: title and summary, its signatures' literal words, what
    each signature's evidence and each diagnosis is called, its replies' explanations, and the
    symptoms as users put them."""
    spec = entry.spec
    return [
        f"{spec.title} {spec.summary}",
        " ".join(_REGEX_SYNTAX.sub(" ", s.pattern) for s in spec.signatures),
        " ".join([s.evidence for s in spec.signatures] + [d.title for d in spec.diagnoses]),
        reply_prose(entry),
        *spec.symptoms,  # one document each: a symptom reads like a short report (+4 of 574 right in LOO)
    ]


def own_reports(entry: Entry) -> list[tuple[int, str]]:
    """The entry's real reports: its `fires`/`asks` cases that expect it, by case position."""
    return [
        (n, case.text)
        for n, case in enumerate(entry.cases)
        if case.kind in ("fires", "asks") and case.expect.entry == entry.id
    ]


class SimilarityIndex:
    def __init__(self, kb: KnowledgeBase):
        documents: dict[str, list[list[str]]] = {}
        for entry in kb.entries.values():
            docs = [words(text) for text in describing_texts(entry)]
            docs.extend(words(text) for _, text in own_reports(entry))
            documents[entry.id] = [d for d in docs if d]
        frequency: Counter[str] = Counter()
        total = 0
        for docs in documents.values():
            for doc in docs:
                frequency.update(set(doc))
                total += 1
        self.idf = {w: math.log((1 + total) / (1 + n)) + 1.0 for w, n in frequency.items()}
        self.centroids: dict[str, dict[str, float]] = {}
        for entry_id, docs in documents.items():
            centroid: Counter[str] = Counter()
            for doc in docs:
                for word, weight in self.vector(doc).items():
                    centroid[word] += weight
            self.centroids[entry_id] = _normalise(dict(centroid))

    def vector(self, tokens: list[str]) -> dict[str, float]:
        counts = Counter(tokens)
        return _normalise(
            {w: (1 + math.log(n)) * self.idf[w] for w, n in counts.items() if w in self.idf}
        )

    def rank(self, text: str, limit: int = 3) -> list[Resemblance]:
        vector = self.vector(words(text[:200_000]))
        if not vector:
            return []
        scores = sorted(
            ((sum(weight * centroid.get(w, 0.0) for w, weight in vector.items()), entry_id)
             for entry_id, centroid in self.centroids.items()),
            reverse=True,
        )
        out = []
        for i, (score, entry_id) in enumerate(scores[:limit]):
            following = scores[i + 1][0] if i + 1 < len(scores) else 0.0
            # trouble words ("failed", "stuck") are in every report: only topic words count
            shared = sum(1 for w in vector if w in self.centroids[entry_id] and not TROUBLE.fullmatch(w))
            out.append(Resemblance(entry=entry_id, similarity=round(score, 4), margin=round(score - following, 4),
                                   shared=shared))
        return out
