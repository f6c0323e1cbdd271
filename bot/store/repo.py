"""Repository functions over the tables: small, keyword-only, each taking the session.

Conversations are loaded for update (`SELECT … FOR UPDATE` on PostgreSQL; SQLite serialises
writers itself) and saved with a version check, so two workers handling one conversation
never overwrite each other. Event keys are claimed with an insert that loses quietly on a
duplicate, so one Slack event is handled once across retries and replicas. The statements
on every event's path are built once, as Core statements with bind parameters, and run on
the session's connection, so SQLAlchemy compiles each once per dialect and skips the ORM's
per-statement work. Only redacted text
reaches these functions; they must not call the core or any network service.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.intake import cap
from bot.models import Fact
from bot.store.tables import (
    ConversationRow,
    FactRow,
    FeedbackRow,
    MessageRow,
    ProcessedEventRow,
    UnmatchedRow,
    utcnow,
)

MAX_STORED_TEXT = 200_000


class StaleConversation(Exception):
    """Another worker saved the conversation first; reload and apply again."""


def _per_dialect(build: Callable[[Callable[[Table], Any]], Any]) -> dict[str, Any]:
    return {"postgresql": build(pg_insert), "sqlite": build(sqlite_insert)}


_EVENTS = ProcessedEventRow.__table__
_CONVERSATIONS = ConversationRow.__table__
_MESSAGES = MessageRow.__table__
_FACTS = FactRow.__table__

_CLAIM = _per_dialect(
    lambda ins: ins(_EVENTS).on_conflict_do_nothing(index_elements=["key"]).returning(_EVENTS.c.key)
)
_NEW_CONVERSATION = _per_dialect(
    lambda ins: ins(_CONVERSATIONS).on_conflict_do_nothing(index_elements=["key"]).returning(_CONVERSATIONS.c.id)
)


def _upsert_fact(ins: Callable[[Table], Any]) -> Any:
    statement = ins(_FACTS)
    return statement.on_conflict_do_update(
        index_elements=["conversation_id", "name"],
        set_={k: statement.excluded[k] for k in ("value", "source", "evidence", "updated_at")},
    )


_UPSERT_FACT = _per_dialect(_upsert_fact)
_ADD_MESSAGES = insert(_MESSAGES)
_NEWEST_OUT = (
    select(func.max(_MESSAGES.c.id))
    .where(_MESSAGES.c.conversation_id == bindparam("conversation"), _MESSAGES.c.direction == "out")
    .scalar_subquery()
)
_MARK_REPLY = update(_MESSAGES).where(_MESSAGES.c.id == _NEWEST_OUT).values(external_id=bindparam("external"))
_READ_CONVERSATION = select(_CONVERSATIONS.c.id, _CONVERSATIONS.c.version, _CONVERSATIONS.c.state).where(
    _CONVERSATIONS.c.key == bindparam("key")
)


def _dialect(session: Session) -> str:
    return "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"


def claim_events(*, session: Session, keys: Sequence[str]) -> bool:
    """Claim keys (one statement each, compiled once): True only when every one of them was new."""
    now = utcnow()
    statement = _CLAIM[_dialect(session)]
    connection = session.connection()
    taken = False
    for key in dict.fromkeys(k[:300] for k in keys):
        taken |= connection.execute(statement, {"key": key, "created_at": now}).first() is None
    return not taken


def forget_events_before(*, session: Session, cutoff: datetime) -> int:
    result = session.execute(delete(ProcessedEventRow).where(ProcessedEventRow.created_at < cutoff))
    return int(result.rowcount or 0)


def get_conversation(*, session: Session, key: str, lock: bool = False) -> ConversationRow | None:
    statement = select(ConversationRow).where(ConversationRow.key == key)
    if lock and session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def read_conversation(*, session: Session, key: str) -> tuple[str, int, dict] | None:
    """The conversation's (id, version, state) without loading an ORM object."""
    row = session.connection().execute(_READ_CONVERSATION, {"key": key}).first()
    return (row[0], row[1], row[2] or {}) if row else None


def get_conversation_by_id(*, session: Session, conversation_id: str) -> ConversationRow | None:
    return session.get(ConversationRow, conversation_id)


def insert_conversation(
    *,
    session: Session,
    key: str,
    transport: str,
    state: dict,
    status: str,
    entry_id: str | None,
    diagnosis_id: str | None,
    confidence: float,
) -> str | None:
    """Create the conversation already saved (version 1) in one statement.

    Returns its id, or None when a concurrent worker created it first (the caller then
    handles the message as a follow-up).
    """
    now = utcnow()
    row = {
        "id": str(uuid.uuid4()),
        "transport": transport,
        "key": key[:300],
        "status": status,
        "entry_id": entry_id,
        "diagnosis_id": diagnosis_id,
        "confidence": confidence,
        "state": state,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    inserted = session.connection().execute(_NEW_CONVERSATION[_dialect(session)], row).first()
    return inserted[0] if inserted else None


def add_messages(*, session: Session, conversation_id: str, messages: Sequence[tuple[str, str]]) -> None:
    """Insert (direction, text) messages in one statement."""
    if messages:
        session.connection().execute(
            _ADD_MESSAGES,
            [
                {"conversation_id": conversation_id, "direction": d, "text": cap(t, MAX_STORED_TEXT)[0],
                 "created_at": utcnow()}
                for d, t in messages
            ],
        )


def save_conversation(
    *,
    session: Session,
    row: ConversationRow,
    state: dict,
    status: str,
    entry_id: str | None,
    diagnosis_id: str | None,
    confidence: float,
) -> None:
    """Save with a version check; raises StaleConversation when someone saved in between."""
    result = session.execute(
        update(ConversationRow)
        .where(ConversationRow.id == row.id, ConversationRow.version == row.version)
        .values(
            state=state,
            status=status,
            entry_id=entry_id,
            diagnosis_id=diagnosis_id,
            confidence=confidence,
            version=row.version + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleConversation(row.id)
    session.expire(row)


def set_facts(*, session: Session, conversation_id: str, facts: Sequence[Fact]) -> None:
    """Insert or update the conversation's facts in one statement."""
    if not facts:
        return
    now = utcnow()
    rows = [
        {
            "conversation_id": conversation_id,
            "name": fact.name,
            "value": fact.value[:200],
            "source": fact.source.value,
            "evidence": fact.evidence[:300],
            "updated_at": now,
        }
        for fact in facts
    ]
    session.connection().execute(_UPSERT_FACT[_dialect(session)], rows)


def add_message(
    *, session: Session, conversation_id: str, direction: str, text: str, external_id: str | None = None
) -> MessageRow:
    row = MessageRow(
        conversation_id=conversation_id,
        direction=direction,
        text=cap(text, MAX_STORED_TEXT)[0],
        external_id=external_id,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def mark_last_reply(*, session: Session, conversation_id: str, external_id: str) -> bool:
    """Set the external id of the conversation's newest outgoing message, in one statement."""
    result = session.connection().execute(_MARK_REPLY, {"conversation": conversation_id, "external": external_id})
    return bool(result.rowcount)


def messages(*, session: Session, conversation_id: str) -> list[MessageRow]:
    statement = select(MessageRow).where(MessageRow.conversation_id == conversation_id).order_by(MessageRow.id)
    return list(session.scalars(statement))


def add_feedback(
    *,
    session: Session,
    conversation_id: str,
    kind: str,
    entry_id: str | None,
    diagnosis_id: str | None,
    user: str | None = None,
) -> None:
    session.add(
        FeedbackRow(
            conversation_id=conversation_id,
            kind=kind,
            entry_id=entry_id,
            diagnosis_id=diagnosis_id,
            user=user,
            created_at=utcnow(),
        )
    )


def record_unmatched(
    *, session: Session, transport: str, text: str, best_entry: str | None, best_score: float
) -> None:
    session.add(
        UnmatchedRow(
            transport=transport,
            text=text[:4000],
            best_entry=best_entry,
            best_score=best_score,
            created_at=utcnow(),
        )
    )


def recent_conversations(
    *, session: Session, limit: int = 20, transport: str | None = None
) -> list[ConversationRow]:
    statement = select(ConversationRow).order_by(ConversationRow.updated_at.desc()).limit(limit)
    if transport:
        statement = statement.where(ConversationRow.transport == transport)
    return list(session.scalars(statement))


def entry_counts(*, session: Session, since: datetime | None = None, limit: int = 10) -> list[tuple[str, int]]:
    since = since or utcnow() - timedelta(days=30)
    statement = (
        select(ConversationRow.entry_id, func.count())
        .where(ConversationRow.entry_id.is_not(None), ConversationRow.created_at >= since)
        .group_by(ConversationRow.entry_id)
        .order_by(func.count().desc())
        .limit(limit)
    )
    return [(entry, count) for entry, count in session.execute(statement)]


def unmatched_texts(*, session: Session, limit: int = 500) -> list[UnmatchedRow]:
    statement = select(UnmatchedRow).order_by(UnmatchedRow.created_at.desc()).limit(limit)
    return list(session.scalars(statement))


def last_reply(*, session: Session, conversation_id: str) -> MessageRow | None:
    """The bot's newest reply that the transport acknowledged (has an external id)."""
    statement = (
        select(MessageRow)
        .where(
            MessageRow.conversation_id == conversation_id,
            MessageRow.direction == "out",
            MessageRow.external_id.is_not(None),
        )
        .order_by(MessageRow.id.desc())
        .limit(1)
    )
    return session.scalars(statement).first()


def open_conversations(*, session: Session, limit: int = 15) -> list[ConversationRow]:
    statement = (
        select(ConversationRow)
        .where(ConversationRow.status == "open", ConversationRow.entry_id.is_not(None))
        .order_by(ConversationRow.updated_at.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))
