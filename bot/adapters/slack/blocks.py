"""Build Block Kit for replies, questions, the App Home tab and the paste modal.

Replies — one per answered event, the hot path — are built as plain dicts, clipped to
Slack's limits here; `tests/slack/test_blocks.py` parses every reply the knowledge base can
produce with `slack_sdk.models` and checks it validates and round-trips unchanged (the
models' run-time validation cost about 1 ms per reply, an eighth of an event's CPU). The
App Home tab and the paste modal are built with `slack_sdk.models` directly. All text is
converted with `mrkdwn.to_mrkdwn` (escaped first). Button values carry only fact values
from our vocabulary; the conversation is found from the message's thread. This module must
not call Slack or the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.adapters.slack.mrkdwn import escape, split_text, to_mrkdwn
from bot.models import Reply
from bot.render_markdown import fact_line

MAX_BLOCKS = 50
MODAL_CALLBACK = "triage_paste"
PASTE_BLOCK = "paste"
PASTE_ACTION = "text"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


JsonBlock = dict[str, Any]


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(text, 3000)}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def _section(mrkdwn: str) -> JsonBlock:
    return {"type": "section", "text": _mrkdwn(mrkdwn)}


def _context(mrkdwn: str) -> JsonBlock:
    return {"type": "context", "elements": [_mrkdwn(mrkdwn)]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button = {"type": "button", "text": _plain(text, 75), "action_id": action_id[:255], "value": value[:2000]}
    if style:
        button["style"] = style
    return button


def feedback_actions(escalation: bool) -> JsonBlock:
    buttons = [
        _button("This fixed it", "feedback:fixed", "fixed", "primary"),
        _button("Not helpful", "feedback:not-helpful", "not-helpful"),
    ]
    if escalation:
        buttons.append(_button("Ask a human", "feedback:escalated", "escalated"))
    return {"type": "actions", "block_id": "feedback", "elements": buttons}


def reply_blocks(reply: Reply, *, escalation: bool, answered_by: dict[str, str] | None = None) -> list[JsonBlock]:
    """The whole reply: header, diagnosis, facts, questions as buttons, links, feedback."""
    blocks: list[JsonBlock] = [{"type": "header", "text": _plain(reply.title, 150)}]
    tail: list[JsonBlock] = []
    if reply.facts:
        lines = [to_mrkdwn(fact_line(f)) for f in reply.facts]
        tail.append(_context("*What I know*\n" + "\n".join(lines)))
    for number, question in enumerate(reply.questions, 1):
        tail.append(_section(f"*{number}. {escape(question.text)}*"))
        buttons = [
            _button(option.label, f"answer:{question.fact}:{option.value}", option.value)
            for option in question.options[:25]
        ]
        if buttons:
            tail.append({"type": "actions", "block_id": f"q:{question.fact}"[:255], "elements": buttons})
        else:
            tail.append(_context("_Reply in this thread with the answer._"))
    if answered_by:
        tail.append(_context("Answered: " + ", ".join(f"{escape(k)} by <@{v}>" for k, v in answered_by.items())))
    if reply.links:
        tail.append(_context(" · ".join(f"<{link.url}|{escape(link.title)}>" for link in reply.links[:8])))
    if reply.notes:
        tail.append(_context("\n".join(f"_{escape(note)}_" for note in reply.notes)))
    tail.append(feedback_actions(escalation))
    room = MAX_BLOCKS - len(blocks) - len(tail)
    body = [_section(piece) for piece in split_text(to_mrkdwn(reply.body))]
    if len(body) > room:
        body = [*body[: room - 1], _context("_…the rest is in `prefect-triage kb show`._")]
    return [*blocks, *body, *tail]


def fallback_text(reply: Reply) -> str:
    """The notification text (`text` beside `blocks`)."""
    return _clip(escape(reply.title), 300)


def escalation_text(target: str, title: str, facts: Sequence[str], pending: Sequence[str], link: str | None) -> str:
    """One paragraph for a human: what the bot recognised, what it knows, what is open."""
    mention = f"<!subteam^{target}>" if target.startswith("S") else f"<@{target}>"
    known = "; ".join(escape(f) for f in facts) or "nothing yet"
    open_questions = ", ".join(escape(p) for p in pending) or "none"
    where = f" Thread: <{link}|open>." if link else ""
    return (
        f"{mention} a user asked for help. I recognised *{escape(title)}*. Known: {known}. "
        f"Still open: {open_questions}.{where}"
    )


def _section_model(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=_clip(mrkdwn, 3000)))


def _context_model(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=_clip(mrkdwn, 3000))])


def home_view(
    recent: Sequence[tuple[str, str, str]],
    common: Sequence[tuple[str, int]],
    unanswered: Sequence[tuple[str, str]],
) -> View:
    """App Home: recent triages, most common problems, conversations still waiting for answers."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Prefect triage"))]
    blocks.append(_section_model("*Recent triages*"))
    lines = [f"• {escape(when)} — {escape(entry)} ({escape(status)})" for when, entry, status in recent[:15]]
    blocks.append(_context_model("\n".join(lines) or "_Nothing yet. Paste a Prefect warning in a DM to start._"))
    blocks.append(DividerBlock())
    blocks.append(_section_model("*Most common problems (30 days)*"))
    lines = [f"• {escape(entry)}: {count}" for entry, count in common[:10]]
    blocks.append(_context_model("\n".join(lines) or "_No data yet._"))
    blocks.append(DividerBlock())
    blocks.append(_section_model("*Waiting for answers*"))
    lines = [f"• {escape(entry)} — asks: {escape(pending)}" for entry, pending in unanswered[:15]]
    blocks.append(_context_model("\n".join(lines) or "_No open questions._"))
    return View(type="home", blocks=blocks)


def paste_modal(channel_id: str) -> View:
    """`/triage` with no text: a modal to paste a log into."""
    return View(
        type="modal",
        callback_id=MODAL_CALLBACK,
        title=PlainTextObject(text="Triage a Prefect problem"),
        submit=PlainTextObject(text="Triage"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=channel_id,
        blocks=[
            InputBlock(
                block_id=PASTE_BLOCK,
                label=PlainTextObject(text="Paste the warning, log or description"),
                element=PlainTextInputElement(action_id=PASTE_ACTION, multiline=True, max_length=3000),
            )
        ],
    )
