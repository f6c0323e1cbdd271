"""The one entry point every adapter calls: text (plus known facts) in, a triage out.

Pipeline: intake → redact → match → facts (text, then workspace, then what the user said)
→ diagnose → render. The `Engine` holds the compiled knowledge base and is built once per
process; `triage()` is safe to call from many threads. This module must not import Slack,
Prefect's client or a database driver: adapters, `workspace/` and `store/` do that.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot import diagnose
from bot.config import Settings
from bot.facts import FactInference, facts_from_narrowing, merge, narrowed_values
from bot.intake import take_in
from bot.kb.loader import KnowledgeBase, load_cached
from bot.match import Matcher
from bot.models import Candidate, Fact, FactSource, Inbound, Reply, TriageResult
from bot.redact import redact
from bot.render import make_environment, questions_for, render
from bot.similar import ASKS_FOR_INFO, SimilarityIndex, asks_rather_than_reports, reports_trouble
from bot.workspace.base import LookupRequest, NoWorkspace, Workspace

RESEMBLANCE_MIN = 0.15
"""Least cosine similarity to an entry's own words for a resemblance match. Calibrated by
leave-one-out over the entries' own cases (each case left out of its entry's words;
`bench/calibrate_resemblance.py`): in session 2, with a margin of 0.03, 290 of 345 cases
answered at 90% precision; in session 3, with twice the real cases, 404 of 535 at 85%.
Session 4 gave each entry more of its own words (evidence, diagnosis titles, reply prose,
symptoms in users' words) and status codes, and let exception names and "stays Late" count as
trouble: 454 of 576 at 88% (0.17 would answer 7 fewer, 5 of them right)."""
RESEMBLANCE_MARGIN = 0.03
"""How much the best resemblance must beat the second."""
RESEMBLANCE_SHARED = 2
"""A resemblance needs at least this many distinct words in common: one word ("leaking") is a coincidence."""
AGREEMENT_MIN = 0.3
"""A signature score that, too weak on its own, settles a close resemblance race for its entry:
two independent weak signals naming the same entry."""
EXCLUDED_HANDOFF = 0.8
"""When the entry a message reads most like is excluded by its own patterns, the runner-up may answer
only if it resembles the message nearly as much (this share of the excluded entry's similarity)."""
NEAR_FACTOR = 0.5
"""Candidates scoring at least this fraction of the threshold are offered when nothing matched."""


class Engine:
    """A compiled knowledge base ready to triage."""

    def __init__(self, kb: KnowledgeBase, settings: Settings | None = None):
        self.kb = kb
        self.settings = settings or Settings()
        self.matcher = Matcher(kb)
        self.inference = FactInference(kb)
        self.env = make_environment(kb)
        self.similar = SimilarityIndex(kb)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Engine:
        settings = settings or Settings()
        return cls(load_cached(settings.knowledge_paths()), settings)

    def user_facts(self, values: Mapping[str, str]) -> dict[str, Fact]:
        """Facts the user stated (CLI `--fact`, answers); unknown names and bad values raise ValueError."""
        from bot.facts import valid_value

        out: dict[str, Fact] = {}
        for name, value in values.items():
            spec = self.kb.vocabulary.get(name)
            if spec is None:
                raise ValueError(f"unknown fact {name!r}; known facts: {', '.join(sorted(self.kb.vocabulary))}")
            accepted = valid_value(spec, value)
            if accepted is None:
                allowed = ", ".join(v.value for v in spec.values) if spec.values else "a valid value"
                raise ValueError(f"{value!r} is not a value of {name} (expected {allowed})")
            out[name] = Fact(name=name, value=accepted, source=FactSource.USER)
        return out

    def triage(self, inbound: Inbound, workspace: Workspace | None = None) -> TriageResult:
        intake = take_in(inbound.text, max_chars=self.settings.max_input_chars)
        if intake.problem:
            return TriageResult(entry=None, confidence=0.0, facts=dict(inbound.facts), problem=intake.problem)
        text = redact(intake.text).text
        notes = list(intake.notes)

        text_facts = self.inference.infer(text)
        known = merge(text_facts, inbound.facts)
        workspace = workspace or NoWorkspace()
        lookup = workspace.lookup(
            LookupRequest(
                text=text, known=known, deadline_seconds=self.settings.workspace_deadline_seconds
            )
        )
        notes.extend(lookup.notes)
        if lookup.extra_text:
            extra = redact(lookup.extra_text).text
            text = f"{text}\n{extra}"
            text_facts = merge(text_facts, self.inference.infer(extra))
        known = merge(text_facts, self._valid(lookup.facts), inbound.facts)

        match = self.matcher.match(text)
        candidates = [
            Candidate(entry=entry_id, score=score, title=self.kb.entries[entry_id].spec.title)
            for entry_id, score in match.ranked[:5]
        ]
        threshold = (
            max(self.settings.unprompted_threshold, self.settings.confidence_threshold)
            if inbound.unprompted
            else self.settings.confidence_threshold
        )
        best = match.best
        close: list[str] = []
        if (best is None or best[1] < threshold) and not inbound.unprompted:
            guess, close = self._resemblance(text, threshold, match.excluded, dict(match.ranked))
            if guess is not None:
                best = guess
                notes.append(
                    "I matched this by its resemblance to reports I know, not by an exact Prefect message. "
                    "If it doesn't fit, paste the error or the worker/pod logs."
                )
                if all(c.entry != guess[0] for c in candidates):
                    candidates.insert(0, Candidate(entry=guess[0], score=guess[1],
                                                   title=self.kb.entries[guess[0]].spec.title))
        if best is None or best[1] < threshold:
            confidence = best[1] if best else 0.0
            near = self._near(candidates, threshold, close)
            reply = None if inbound.unprompted else self._unmatched_reply(near, known, notes)
            return TriageResult(
                entry=None, confidence=confidence, candidates=candidates, facts=known, reply=reply,
                suggested=[] if inbound.unprompted else [c.entry for c in near],
            )

        entry = self.kb.entries[best[0]]
        hits = match.hits.get(entry.id, [])
        narrowed = narrowed_values(hits)
        for name, allowed in narrowed.items():
            fact = known.get(name)
            if fact is not None and fact.source is FactSource.WORKSPACE and fact.value not in allowed:
                del known[name]  # the pasted message itself rules this value out: the text wins
        known = merge(facts_from_narrowing(hits, known), known)
        values: dict[str, str | None] = {name: fact.value for name, fact in known.items()}
        chosen = diagnose.choose(entry, values)
        asked = diagnose.questions(entry, values, self.kb.vocabulary, narrowed)
        reply = render(
            self.env,
            self.kb,
            entry,
            chosen,
            known,
            questions_for(asked, self.kb, narrowed),
            workspace=lookup.details,
            notes=notes,
        )
        return TriageResult(
            entry=entry.id,
            confidence=best[1],
            candidates=candidates,
            facts=known,
            questions=asked,
            diagnosis=chosen.id,
            reply=reply,
        )

    def _valid(self, facts: Mapping[str, Fact]) -> dict[str, Fact]:
        """Workspace facts checked like user facts: known names, allowed values only."""
        from bot.facts import valid_value

        out = {}
        for name, fact in facts.items():
            spec = self.kb.vocabulary.get(name)
            value = valid_value(spec, fact.value) if spec else None
            if value is not None:
                out[name] = fact if value == fact.value else fact.model_copy(update={"value": value})
        return out

    def _resemblance(
        self, text: str, threshold: float, excluded: set[str], signature_scores: Mapping[str, float]
    ) -> tuple[tuple[str, float] | None, list[str]]:
        """A prompted trouble report no signature recognised: the entry it clearly reads like, if
        one does, and the entries it reads a little like (close, but no clear winner)."""
        head = text[:200_000]
        if (
            not reports_trouble(head)
            or asks_rather_than_reports(head)
            or ASKS_FOR_INFO.search(head)
            or self.matcher.is_question(head)
        ):
            return None, []
        everything = self.similar.rank(text, limit=5)
        ranked = [r for r in everything if r.entry not in excluded]
        if not ranked:
            return None, []
        close = [r.entry for r in ranked[:2]
                 if r.similarity >= RESEMBLANCE_MIN and r.shared >= RESEMBLANCE_SHARED]
        top = ranked[0]
        if top is not everything[0] and top.similarity < EXCLUDED_HANDOFF * everything[0].similarity:
            # it reads most like an entry whose exclusion says "not this": a near-miss of that
            # entry, not a report of a distant runner-up
            return None, []
        agreed = signature_scores.get(top.entry, 0.0) >= AGREEMENT_MIN
        if top.similarity < RESEMBLANCE_MIN or top.shared < RESEMBLANCE_SHARED:
            return None, close
        if top.margin < RESEMBLANCE_MARGIN and not agreed:
            return None, close
        ceiling = max(threshold, self.settings.unprompted_threshold - 0.01)
        confidence = threshold + (ceiling - threshold) * min(1.0, top.similarity / 0.6)
        return (top.entry, round(min(confidence, ceiling), 4)), []

    def _near(self, candidates: list[Candidate], threshold: float, close: list[str]) -> list[Candidate]:
        """What an unrecognised message looks a little like: weak signature hits first, then the
        entries its words resemble without a clear winner; three at most."""
        near = [c for c in candidates if c.score >= threshold * NEAR_FACTOR]
        for entry_id in close:
            if all(c.entry != entry_id for c in near):
                near.append(Candidate(entry=entry_id, score=0.0, title=self.kb.entries[entry_id].spec.title))
        return near[:3]

    def _unmatched_reply(self, near: list[Candidate], known: Mapping[str, Fact], notes: list[str]) -> Reply:
        lines = [
            "I don't recognise this one yet, so I won't guess.",
        ]
        if near:
            lines.append("It looks a little like:")
            lines.extend(f"- {c.title} (`{c.entry}`)" for c in near)
        lines.append(
            "What would help: the full error or traceback from the **worker or pod logs** "
            "(not only the UI), the flow run's state message, and the output of `prefect version`."
        )
        return Reply(
            title="Not recognised",
            body="\n".join(lines),
            facts=sorted(known.values(), key=lambda f: f.name),
            notes=notes,
        )
