"""Replies are built as plain Block Kit dicts; slack_sdk's models are the oracle.

Every reply the knowledge base produces for its own cases must parse with `slack_sdk.models`,
pass their validation (lengths, counts, required fields) and round-trip unchanged — so the
fast dict builders send exactly what the models would.
"""

from __future__ import annotations

import pytest
from slack_sdk.models.blocks import Block

from bot.adapters.slack.blocks import MAX_BLOCKS, reply_blocks
from bot.models import Inbound, Link, Question, QuestionOption, Reply


def assert_valid(blocks: list[dict]) -> None:
    assert 1 <= len(blocks) <= MAX_BLOCKS
    for block in blocks:
        model = Block.parse(block)
        assert model is not None, block
        model.validate_json()
        assert model.to_dict() == block


@pytest.fixture(scope="module")
def replies(engine, kb) -> list[Reply]:
    out = []
    for entry in kb.entries.values():
        for case in entry.cases:
            if case.kind in ("fires", "asks"):
                result = engine.triage(Inbound(text=case.text))
                if result.reply is not None:
                    out.append(result.reply)
    return out


def test_every_knowledge_base_reply_is_valid_block_kit(replies):
    assert len(replies) > 300
    for reply in replies:
        assert_valid(reply_blocks(reply, escalation=False))
        assert_valid(reply_blocks(reply, escalation=True, answered_by={"deployment": "U123"}))


def test_an_extreme_reply_is_clipped_to_slack_limits():
    options = [QuestionOption(value=f"v{i}", label="label " * 30) for i in range(40)]
    reply = Reply(
        title="T" * 400,
        body="\n\n".join("word " * 900 for _ in range(80)),
        questions=[Question(fact=f"fact_{i}", text="why " * 900, options=options) for i in range(6)],
        links=[Link(title=f"link {i}", url=f"https://docs.prefect.io/{i}") for i in range(12)],
        notes=["note " * 900],
    )
    blocks = reply_blocks(reply, escalation=True)
    assert_valid(blocks)
    assert blocks[-1]["block_id"] == "feedback"  # the feedback buttons survive the 50-block cap
    assert "kb show" in str(blocks[-(2 + 6 * 2 + 2)])  # the body is cut with a pointer to the full text
