"""Conversations that remember: the one service adapters call for multi-turn triage.

Ties the dialogue state machine to the database and the workspace: load the conversation
by its transport key (locked on PostgreSQL), apply one message, save with a version check
(retrying on a concurrent save), and store only redacted text. The workspace is looked up
once per piece of evidence and cached in the conversation, so answering a question never
waits for the API again. Adapters (terminal, Slack) call `message`, `answer` and
`feedback`; this module must not import Slack or Prefect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from bot import dialogue, observability
from bot.dialogue import Feedback, State, Turn, TurnKind
from bot.intake import take_in
from bot.models import Fact, Inbound, Reply, TriageResult
from bot.observability import MATCHES, UNMATCHED
from bot.redact import redact
from bot.reply_marks import ReplyMarks
from bot.store import repo
from bot.store.db import Database
from bot.triage import Engine
from bot.workspace.base import Lookup, NoWorkspace, RecordingWorkspace, StaticWorkspace, Workspace

MAX_ATTEMPTS = 5


class _Duplicate(Exception):
    """A claim key was taken: roll the transaction back and report a duplicate."""


def _columns(state: State, lookup: Lookup) -> dict[str, Any]:
    """The conversation row's columns for a dialogue state and its cached workspace lookup."""
    return {
        "state": {"dialogue": state.model_dump(mode="json"), "lookup": lookup.model_dump(mode="json")},
        "status": state.status.value,
        "entry_id": state.entry,
        "diagnosis_id": state.diagnosis,
        "confidence": state.confidence,
    }


class Outcome(BaseModel):
    """What happened, for the adapter to show."""

    conversation_id: str | None
    turn: Turn | None = None
    reply: Reply | None = None
    message: str | None = None
    is_new: bool = False
    problem: str | None = None
    duplicate: bool = False
    """Another delivery of the same event or message was handled already: show nothing."""

    @property
    def result(self) -> TriageResult | None:
        return self.turn.result if self.turn else None


class Conversations:
    def __init__(
        self,
        engine: Engine,
        db: Database,
        workspace_for: Callable[[str], Workspace] | None = None,
    ):
        self.engine = engine
        self.db = db
        self.workspace_for = workspace_for or (lambda _key: NoWorkspace())
        self.marks = ReplyMarks(db)

    # --- helpers -------------------------------------------------------------------
    def _clean(self, text: str | bytes) -> tuple[str, str | None]:
        intake = take_in(text, max_chars=self.engine.settings.max_input_chars)
        if intake.problem:
            return "", intake.problem
        return redact(intake.text).text, None

    def _triage(self, workspace: Workspace, unprompted: bool) -> dialogue.Triage:
        def run(text: str, facts: dict[str, Fact]) -> TriageResult:
            return self.engine.triage(Inbound(text=text, facts=facts, unprompted=unprompted), workspace)

        return run

    def _question_texts(self) -> dict[str, str]:
        return {name: spec.question or name for name, spec in self.engine.kb.vocabulary.items()}

    def _askable(self) -> list[str]:
        return [name for name, spec in self.engine.kb.vocabulary.items() if spec.question]

    def _recognises(self, text: str) -> bool:
        best = self.engine.matcher.match(text).best
        return best is not None and best[1] >= self.engine.settings.confidence_threshold

    # --- public API ----------------------------------------------------------------
    def message(
        self,
        *,
        key: str,
        transport: str,
        text: str | bytes,
        unprompted: bool = False,
        facts: dict[str, Fact] | None = None,
        answers: dict[str, str] | None = None,
        claims: Sequence[str] = (),
        fresh: bool = False,
    ) -> Outcome:
        """Handle one incoming message of the conversation `key` (created on first use).

        `answers` are clicked answers (fact -> value); they bypass parsing the text.
        `claims` are dedupe keys (Slack event id, message ts) taken in the same transaction
        that records the outcome: a redelivery finds them taken and gets `duplicate`, and a
        crash before that commit leaves them free for Slack's retry. `fresh` says the
        conversation cannot exist yet (a thread's root message), which skips one read.
        """
        clean, problem = self._clean(text)
        if problem:
            if claims and not self.claim(*claims):
                return Outcome(conversation_id=None, duplicate=True)
            return Outcome(conversation_id=None, problem=problem, message=problem)
        for attempt in range(MAX_ATTEMPTS):
            try:
                return self._message_once(
                    key, transport, clean, unprompted, facts or {}, answers, tuple(claims), fresh and attempt == 0
                )
            except repo.StaleConversation:
                continue
            except _Duplicate:
                return Outcome(conversation_id=None, duplicate=True)
        raise RuntimeError(f"conversation {key} kept changing under us")

    @staticmethod
    def _take(session: Any, claims: tuple[str, ...]) -> None:
        if claims and not repo.claim_events(session=session, keys=claims):
            raise _Duplicate()

    def _read(self, key: str) -> tuple[str, int, State, Lookup] | None:
        """A short read: the conversation's id, version, dialogue state and cached lookup."""
        with self.db.session(readonly=True) as session:
            row = repo.read_conversation(session=session, key=key)
        if row is None:
            return None
        conversation_id, version, stored = row
        state = State.model_validate(stored.get("dialogue", {}))
        return conversation_id, version, state, Lookup.model_validate(stored.get("lookup", {}))

    def _message_once(
        self,
        key: str,
        transport: str,
        clean: str,
        unprompted: bool,
        facts: dict[str, Fact],
        answers: dict[str, str] | None,
        claims: tuple[str, ...],
        fresh: bool,
    ) -> Outcome:
        # Slow work (matching, workspace lookups) happens outside any transaction; the write
        # that follows is short and version-checked, so nothing waits on a held lock.
        current = None if fresh else self._read(key)
        if current is None:
            return self._first(key, transport, clean, unprompted, facts, claims)
        conversation_id, version, state, lookup = current
        cached = self._triage(StaticWorkspace(lookup), False)
        if answers:
            turn = dialogue.answer(state, answers, cached)
        else:
            turn = dialogue.handle(
                state,
                clean,
                cached,
                self.engine.inference.parse_answer,
                self._recognises,
                self._askable(),
                self._question_texts(),
            )
            if turn.kind is TurnKind.EVIDENCE:
                # new evidence may name a new run or pool: look again, once
                fresh = RecordingWorkspace(self.workspace_for(key))
                turn = dialogue.add_evidence(state, clean, self._triage(fresh, False))
                lookup = fresh.result or lookup
        with self.db.session() as session:
            row = repo.get_conversation(session=session, key=key, lock=True)
            if row is None or row.id != conversation_id or row.version != version:
                raise repo.StaleConversation(conversation_id)
            self._take(session, claims)
            repo.add_message(session=session, conversation_id=row.id, direction="in", text=clean)
            return self._save(session, row, turn, lookup)

    def _first(
        self, key: str, transport: str, clean: str, unprompted: bool, facts: dict[str, Fact], claims: tuple[str, ...]
    ) -> Outcome:
        recorder = RecordingWorkspace(self.workspace_for(key))
        turn = dialogue.start(clean, self._triage(recorder, unprompted), facts)
        result = turn.result
        assert result is not None
        if result.entry is None and unprompted:
            UNMATCHED.labels("no").inc()
            return Outcome(conversation_id=None, turn=turn)  # chatter: nothing to record, nothing to claim
        with self.db.session() as session:
            self._take(session, claims)
            if result.entry is None:
                best = result.candidates[0] if result.candidates else None
                repo.record_unmatched(
                    session=session,
                    transport=transport,
                    text=clean,
                    best_entry=best.entry if best else None,
                    best_score=best.score if best else 0.0,
                )
            state = turn.state
            lookup = recorder.result or Lookup()
            conversation_id = repo.insert_conversation(
                session=session,
                key=key,
                transport=transport,
                **_columns(state, lookup),
            )
            if conversation_id is None:
                raise repo.StaleConversation(key)  # a concurrent first message won: replay as a follow-up
            observability.conversation_id.set(conversation_id)
            repo.set_facts(session=session, conversation_id=conversation_id, facts=list(result.facts.values()))
            reply = result.reply
            outgoing = reply.markdown() if reply else None
            repo.add_messages(
                session=session,
                conversation_id=conversation_id,
                messages=[("in", clean), *([("out", outgoing)] if outgoing else [])],
            )
            outcome = Outcome(conversation_id=conversation_id, turn=turn, reply=reply, message=turn.message)
        # counted once committed: a redelivery that lost its claim is not a second match
        if result.entry:
            MATCHES.labels(result.entry).inc()
        else:
            UNMATCHED.labels("yes").inc()
        outcome.is_new = True
        return outcome

    def _save(self, session: Any, row: Any, turn: Turn, lookup: Lookup) -> Outcome:
        observability.conversation_id.set(row.id)
        state = turn.state
        repo.save_conversation(session=session, row=row, **_columns(state, lookup))
        if turn.result is not None:
            repo.set_facts(session=session, conversation_id=row.id, facts=list(turn.result.facts.values()))
        if turn.feedback is not None:
            repo.add_feedback(
                session=session,
                conversation_id=row.id,
                kind=turn.feedback.value,
                entry_id=state.entry,
                diagnosis_id=state.diagnosis,
            )
        reply = turn.result.reply if turn.result else None
        outgoing = turn.message or (reply.markdown() if reply else None)
        if outgoing:
            repo.add_message(session=session, conversation_id=row.id, direction="out", text=outgoing)
        return Outcome(conversation_id=row.id, turn=turn, reply=reply, message=turn.message)

    def answer(self, *, key: str, fact: str, value: str) -> Outcome:
        """A clicked answer (button): same as typing it."""
        if fact not in self.engine.kb.vocabulary:
            return Outcome(conversation_id=None, message=f"unknown question {fact!r}")
        spec = self.engine.kb.vocabulary[fact]
        if spec.values and spec.value_spec(value) is None:
            return Outcome(conversation_id=None, message=f"{value!r} is not an answer to {fact!r}")
        label = next((v.label for v in spec.values if v.value == value), value)
        return self.message(key=key, transport="button", text=label, answers={fact: value})

    def feedback(self, *, key: str, kind: Feedback, user: str | None = None) -> Outcome:
        for _ in range(MAX_ATTEMPTS):
            try:
                with self.db.session() as session:
                    row = repo.get_conversation(session=session, key=key, lock=True)
                    if row is None:
                        return Outcome(conversation_id=None, message="That conversation is gone.")
                    state = State.model_validate((row.state or {}).get("dialogue", {}))
                    turn = dialogue.give_feedback(state, kind)
                    lookup = Lookup.model_validate((row.state or {}).get("lookup", {}))
                    return self._save(session, row, turn, lookup)
            except repo.StaleConversation:
                continue
        raise RuntimeError(f"conversation {key} kept changing under us")

    def load(self, key: str) -> tuple[str, State] | None:
        with self.db.session(readonly=True) as session:
            row = repo.get_conversation(session=session, key=key)
            if row is None:
                return None
            return row.id, State.model_validate((row.state or {}).get("dialogue", {}))

    def record_reply(self, conversation_id: str, external_id: str) -> None:
        """Remember the transport's id (Slack ts) of the bot's newest reply, to update it later.

        Written in batches in the background (`reply_marks.py`); `reply_id` sees it at once."""
        self.marks.add(conversation_id, external_id)

    def reply_id(self, conversation_id: str) -> str | None:
        pending = self.marks.pending(conversation_id)
        if pending is not None:
            return pending
        with self.db.session(readonly=True) as session:
            row = repo.last_reply(session=session, conversation_id=conversation_id)
            return row.external_id if row else None

    def close(self) -> None:
        """Write what is still waiting (reply ids) before the process ends."""
        self.marks.close()

    def exists(self, key: str) -> bool:
        with self.db.session(readonly=True) as session:
            return repo.get_conversation(session=session, key=key) is not None

    def forget_old_events(self, days: float = 7.0) -> int:
        """Drop event claims older than `days` (Slack stops redelivering after minutes)."""
        cutoff = datetime.now(UTC) - timedelta(days=days)
        with self.db.session() as session:
            return repo.forget_events_before(session=session, cutoff=cutoff)

    def claim(self, *keys: str) -> bool:
        """Claim event keys across retries and replicas in one transaction (True: all were new; handle it)."""
        with self.db.session() as session:
            return repo.claim_events(session=session, keys=keys)

    def overview(self) -> tuple[list[tuple[str, str, str]], list[tuple[str, int]], list[tuple[str, str]]]:
        """For a dashboard: recent triages, most common entries, conversations waiting on answers."""
        with self.db.session(readonly=True) as session:
            recent = [
                (row.updated_at.strftime("%Y-%m-%d %H:%M"), row.entry_id or "unrecognised", row.status)
                for row in repo.recent_conversations(session=session, limit=15)
            ]
            common = repo.entry_counts(session=session)
            waiting = []
            for row in repo.open_conversations(session=session):
                pending = State.model_validate((row.state or {}).get("dialogue", {})).pending
                if pending:
                    waiting.append((row.entry_id or "?", ", ".join(pending)))
        return recent, common, waiting
