"""SQLAlchemy table definitions (the schema Alembic migrates to).

Only redacted text is ever stored. Rows are plain data; behaviour lives in `repo.py` and
the core. This module must not open connections.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ConversationRow(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    transport: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(300), unique=True)
    """The transport's own key: slack:<team>:<channel>:<thread_ts>, console:<session>."""
    status: Mapped[str] = mapped_column(String(20), default="open")
    entry_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    diagnosis_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    confidence: Mapped[float] = mapped_column(default=0.0)
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    """The dialogue state (pending questions, evidence text, workspace lookup cache)."""
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class MessageRow(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    """'in' (from a user) or 'out' (from the bot)."""
    text: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    """The transport's id of the message (Slack ts), so replies can be updated."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FactRow(Base):
    __tablename__ = "facts"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    """fixed | not-helpful | still-broken | escalated."""
    entry_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    diagnosis_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    user: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProcessedEventRow(Base):
    __tablename__ = "processed_events"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    """team:event_id, or team:channel:ts for a message seen through two event types."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class UnmatchedRow(Base):
    __tablename__ = "unmatched"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transport: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    best_entry: Mapped[str | None] = mapped_column(String(120), nullable=True)
    best_score: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


Index("ix_conversations_transport_updated", ConversationRow.transport, ConversationRow.updated_at)
