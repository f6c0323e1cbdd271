"""Reply ids are recorded in batches: visible at once, in the database shortly after, kept through outages."""

from __future__ import annotations

import time

from bot.conversations import Conversations
from bot.reply_marks import ReplyMarks
from bot.store import repo

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


def stored_reply(database, conversation_id: str) -> str | None:
    with database.session(readonly=True) as session:
        row = repo.last_reply(session=session, conversation_id=conversation_id)
        return row.external_id if row else None


def test_a_reply_id_is_seen_at_once_and_written_in_the_background(engine, database):
    conversations = Conversations(engine, database)
    outcome = conversations.message(key="slack:T:C:1", transport="slack", text=LEASE)
    conversations.record_reply(outcome.conversation_id, "1800000001.000100")
    assert conversations.reply_id(outcome.conversation_id) == "1800000001.000100"  # before any write
    deadline = time.monotonic() + 5
    while stored_reply(database, outcome.conversation_id) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stored_reply(database, outcome.conversation_id) == "1800000001.000100"
    conversations.record_reply(outcome.conversation_id, "1800000002.000100")  # a newer reply wins
    conversations.close()
    assert stored_reply(database, outcome.conversation_id) == "1800000002.000100"


def test_marks_survive_a_failed_write_and_are_written_later(engine, database, monkeypatch):
    conversations = Conversations(engine, database)
    outcome = conversations.message(key="slack:T:C:2", transport="slack", text=LEASE)
    marks = ReplyMarks(database, interval=0.01)
    calls = {"n": 0}
    real = repo.mark_last_reply

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ConnectionError("database restarting")
        return real(**kwargs)

    monkeypatch.setattr(repo, "mark_last_reply", flaky)
    marks.add(outcome.conversation_id, "1800000003.000100")
    deadline = time.monotonic() + 10
    while stored_reply(database, outcome.conversation_id) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls["n"] >= 3
    assert stored_reply(database, outcome.conversation_id) == "1800000003.000100"
    assert marks.pending(outcome.conversation_id) is None
    marks.close()
