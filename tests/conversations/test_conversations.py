"""Multi-turn conversations through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from bot.conversations import Conversations
from bot.dialogue import Feedback, Status, TurnKind
from bot.store import repo
from bot.store.db import open_database
from bot.store.tables import FactRow, MessageRow, UnmatchedRow
from bot.workspace.base import Lookup, LookupRequest

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


@pytest.fixture
def conversations(engine, database):
    return Conversations(engine, database)


def test_first_reply_never_waits_and_asks(conversations):
    outcome = conversations.message(key="console:1", transport="console", text=LEASE)
    assert outcome.is_new and outcome.turn.kind is TurnKind.FIRST
    assert outcome.result.entry == "concurrency.lease-renewal-failed"
    assert outcome.turn.state.pending == ["deployment", "mechanism"]


def test_answers_in_one_line_any_order_refine_the_diagnosis(conversations):
    conversations.message(key="console:2", transport="console", text=LEASE)
    outcome = conversations.message(key="console:2", transport="console", text="global limit, and we're self-hosted")
    assert outcome.turn.kind is TurnKind.ANSWER
    assert outcome.turn.answered == {"deployment": "self-hosted", "mechanism": "global"}
    assert outcome.result.diagnosis == "self-hosted-global-limit"
    assert outcome.turn.changed and outcome.turn.state.status is Status.ANSWERED


def test_unparseable_answer_gets_a_short_reask_with_options(conversations):
    conversations.message(key="console:3", transport="console", text=LEASE)
    outcome = conversations.message(key="console:3", transport="console", text="hmm not sure what you mean")
    assert outcome.turn.kind is TurnKind.REASK
    assert "Cloud or a self-hosted" in outcome.message
    assert outcome.turn.state.pending == ["deployment", "mechanism"]


def test_button_answer_bypasses_parsing(conversations):
    conversations.message(key="console:4", transport="console", text=LEASE)
    outcome = conversations.answer(key="console:4", fact="mechanism", value="deployment")
    assert outcome.turn.answered == {"mechanism": "deployment"}
    assert outcome.result.diagnosis == "deployment-limit"
    assert conversations.answer(key="console:4", fact="mechanism", value="martian").conversation_id is None


def test_feedback_is_recorded_and_resolves(conversations, database):
    first = conversations.message(key="console:5", transport="console", text=LEASE)
    outcome = conversations.message(key="console:5", transport="console", text="self-hosted")
    outcome = conversations.message(key="console:5", transport="console", text="that fixed it, thanks!")
    assert outcome.turn.kind is TurnKind.FEEDBACK and outcome.turn.state.status is Status.RESOLVED
    conversations.feedback(key="console:5", kind=Feedback.NOT_HELPFUL)
    with database.session() as session:
        kinds = [f.kind for f in session.scalars(select(repo.FeedbackRow))]
        assert kinds == ["fixed", "not-helpful"]
        row = repo.get_conversation_by_id(session=session, conversation_id=first.conversation_id)
        assert row.status == "open"  # "not helpful" reopens nothing but is not "resolved"


def test_a_new_warning_adds_evidence_and_can_switch_entry(conversations):
    conversations.message(key="console:6", transport="console", text="my runs are weird, something about concurrency")
    outcome = conversations.message(key="console:6", transport="console", text=LEASE)
    assert outcome.turn.kind is TurnKind.EVIDENCE
    assert outcome.result.entry == "concurrency.lease-renewal-failed"
    assert outcome.turn.changed


def test_only_redacted_text_is_stored(conversations, database):
    secret = "pnu_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    conversations.message(key="console:7", transport="console", text=f"{LEASE}\nPREFECT_API_KEY={secret}")
    conversations.message(key="console:8", transport="console", text=f"weird thing, key {secret}")
    with database.session() as session:
        texts = [m.text for m in session.scalars(select(MessageRow))]
        texts += [u.text for u in session.scalars(select(UnmatchedRow))]
        texts += [f.value + f.evidence for f in session.scalars(select(FactRow))]
    assert texts and all(secret[4:] not in t for t in texts)


def test_unprompted_chatter_creates_nothing(conversations, database):
    outcome = conversations.message(key="slack:T:C:1.0", transport="slack", text="thanks all!", unprompted=True)
    assert outcome.conversation_id is None and outcome.reply is None
    with database.session() as session:
        assert repo.recent_conversations(session=session) == []
        assert list(session.scalars(select(UnmatchedRow))) == []


def test_prompted_unmatched_is_recorded_for_gap_reports(conversations, database):
    outcome = conversations.message(key="console:9", transport="console", text="the flux capacitor is leaking")
    assert outcome.result.entry is None and "don't recognise" in outcome.reply.markdown()
    with database.session() as session:
        assert [u.text for u in session.scalars(select(UnmatchedRow))] == ["the flux capacitor is leaking"]


def test_workspace_is_looked_up_once_per_evidence_not_per_answer(engine, database):
    calls: list[str] = []

    class CountingWorkspace:
        name = "counting"

        def lookup(self, request: LookupRequest) -> Lookup:
            calls.append(request.text)
            return Lookup(notes=["looked"])

    conversations = Conversations(engine, database, lambda _key: CountingWorkspace())
    conversations.message(key="console:10", transport="console", text=LEASE)
    conversations.message(key="console:10", transport="console", text="self-hosted")
    conversations.message(key="console:10", transport="console", text="deployment limit")
    assert len(calls) == 1


def test_bad_input_keeps_the_conversation_and_says_why(conversations):
    conversations.message(key="console:11", transport="console", text=LEASE)
    outcome = conversations.message(key="console:11", transport="console", text="\x00\x01\x02")
    assert outcome.problem and "binary" in outcome.problem
    assert conversations.load("console:11")[1].pending == ["deployment", "mechanism"]


def test_two_concurrent_answers_are_both_kept(engine, db_url):
    """Two workers answer two questions of one conversation at the same moment."""
    db = open_database(db_url)
    conversations = Conversations(engine, db)
    for i in range(5):
        key = f"slack:T:C:{i}.0"
        conversations.message(key=key, transport="slack", text=LEASE)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def answer(
            fact: str,
            value: str,
            key: str = key,
            barrier: threading.Barrier = barrier,
            errors: list[BaseException] = errors,
        ) -> None:
            try:
                barrier.wait()
                conversations.answer(key=key, fact=fact, value=value)
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [
            threading.Thread(target=answer, args=("deployment", "self-hosted")),
            threading.Thread(target=answer, args=("mechanism", "global")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        _, state = conversations.load(key)
        assert {k: f.value for k, f in state.user_facts.items()} == {"deployment": "self-hosted", "mechanism": "global"}
        assert state.diagnosis == "self-hosted-global-limit" and state.pending == []
    db.dispose()


def test_a_huge_log_keeps_the_warning_at_its_end(conversations, database):
    text = "13:00:00.000 | INFO | Flow run 'a' - fine\n" * 100_000 + LEASE + "\n"
    outcome = conversations.message(key="console:huge", transport="console", text=text)
    assert outcome.result.entry == "concurrency.lease-renewal-failed"
    with database.session() as session:
        stored = [m.text for m in repo.messages(session=session, conversation_id=outcome.conversation_id)]
    assert "Concurrency lease renewal failed" in stored[0] and len(stored[0]) <= 210_000
