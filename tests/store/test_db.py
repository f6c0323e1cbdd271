"""Migrations and repository functions on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from sqlalchemy import inspect

from bot.store import repo
from bot.store.db import make_engine, migrate, open_database

TABLES = {"conversations", "messages", "facts", "feedback", "processed_events", "unmatched"}


def test_migrations_from_empty_to_head_and_back(db_url):
    engine = make_engine(db_url)
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    migrate(engine)  # idempotent on restart
    migrate(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_event_key_is_claimed_once(database):
    with database.session() as session:
        assert repo.claim_events(session=session, keys=["T1:Ev1"])
    with database.session() as session:
        assert not repo.claim_events(session=session, keys=["T1:Ev1"])
        assert repo.claim_events(session=session, keys=["T1:Ev2"])


def test_concurrent_claims_have_one_winner(db_url):
    db = open_database(db_url)
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        with db.session() as session:
            wins.append(repo.claim_events(session=session, keys=["T1:EvRace"]))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]
    db.dispose()


def test_conversation_save_detects_a_concurrent_save(database):
    with database.session() as session:
        created = repo.insert_conversation(
            session=session, key="console:x", transport="console", state={"a": 1}, status="open", entry_id=None,
            diagnosis_id=None, confidence=0,
        )
        assert created is not None
        again = repo.insert_conversation(
            session=session, key="console:x", transport="console", state={"a": 9}, status="open", entry_id=None,
            diagnosis_id=None, confidence=0,
        )
        assert again is None  # a second first message for the same key loses
    with database.session() as session:
        first = repo.get_conversation(session=session, key="console:x")
        version = first.version
    with database.session() as session:
        row = repo.get_conversation(session=session, key="console:x")
        repo.save_conversation(
            session=session, row=row, state={"a": 2}, status="open", entry_id=None, diagnosis_id=None, confidence=0
        )
    stale = type(first)(id=first.id, version=version)
    with database.session() as session:
        try:
            repo.save_conversation(
                session=session, row=stale, state={"a": 3}, status="open", entry_id=None, diagnosis_id=None,
                confidence=0,
            )
            raised = False
        except repo.StaleConversation:
            raised = True
    assert raised
    with database.session() as session:
        assert repo.get_conversation(session=session, key="console:x").state == {"a": 2}


def test_old_event_claims_are_forgotten_new_ones_kept(database):
    from datetime import UTC, datetime, timedelta

    from bot.store.tables import ProcessedEventRow

    with database.session() as session:
        session.add(ProcessedEventRow(key="T1:EvOld", created_at=datetime.now(UTC) - timedelta(days=10)))
        assert repo.claim_events(session=session, keys=["T1:EvNew"])
    with database.session() as session:
        assert repo.forget_events_before(session=session, cutoff=datetime.now(UTC) - timedelta(days=7)) == 1
    with database.session() as session:
        assert repo.claim_events(session=session, keys=["T1:EvOld"])  # forgotten: claimable again
        assert not repo.claim_events(session=session, keys=["T1:EvNew"])  # recent: still a duplicate
