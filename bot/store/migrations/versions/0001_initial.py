"""Initial schema: conversations, messages, facts, feedback, processed events, unmatched.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("transport", sa.String(20), nullable=False),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("entry_id", sa.String(120)),
        sa.Column("diagnosis_id", sa.String(120)),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_conversations_updated_at", "conversations", ["updated_at"])
    op.create_index("ix_conversations_transport_updated", "conversations", ["transport", "updated_at"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id", sa.String(36), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("external_id", sa.String(100)),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_messages_conversation_id", "messages", ["conversation_id"])
    op.create_table(
        "facts",
        sa.Column(
            "conversation_id", sa.String(36), sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("evidence", sa.String(300), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id", sa.String(36), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("entry_id", sa.String(120)),
        sa.Column("diagnosis_id", sa.String(120)),
        sa.Column("user", sa.String(100)),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_feedback_conversation_id", "feedback", ["conversation_id"])
    op.create_table(
        "processed_events",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_processed_events_created_at", "processed_events", ["created_at"])
    op.create_table(
        "unmatched",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("transport", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("best_entry", sa.String(120)),
        sa.Column("best_score", sa.Float, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_unmatched_created_at", "unmatched", ["created_at"])


def downgrade() -> None:
    for table in ("unmatched", "processed_events", "feedback", "facts", "messages", "conversations"):
        op.drop_table(table)
