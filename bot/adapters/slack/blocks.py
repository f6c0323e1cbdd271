"""Build Block Kit for replies, questions, the App Home tab and the paste modal.

Blocks come from `slack_sdk.models`, so Slack's length limits are checked before anything
is sent. All text is converted with `mrkdwn.to_mrkdwn` (escaped first). Button values carry
only fact values from our vocabulary; the conversation is found from the message's
thread. This module must not call Slack or the core.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
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


def _section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=_clip(mrkdwn, 3000)))


def _context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=_clip(mrkdwn, 3000))])


def feedback_actions(escalation: bool) -> ActionsBlock:
    buttons = [
        ButtonElement(text="This fixed it", action_id="feedback:fixed", value="fixed", style="primary"),
        ButtonElement(text="Not helpful", action_id="feedback:not-helpful", value="not-helpful"),
    ]
    if escalation:
        buttons.append(ButtonElement(text="Ask a human", action_id="feedback:escalated", value="escalated"))
    return ActionsBlock(block_id="feedback", elements=buttons)


def reply_blocks(reply: Reply, *, escalation: bool, answered_by: dict[str, str] | None = None) -> list[Block]:
    """The whole reply: header, diagnosis, facts, questions as buttons, links, feedback."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=_clip(reply.title, 150)))]
    tail: list[Block] = []
    if reply.facts:
        lines = [to_mrkdwn(fact_line(f)) for f in reply.facts]
        tail.append(_context("*What I know*\n" + "\n".join(lines)))
    for number, question in enumerate(reply.questions, 1):
        tail.append(_section(f"*{number}. {escape(question.text)}*"))
        buttons = [
            ButtonElement(
                text=_clip(option.label, 75),
                action_id=f"answer:{question.fact}:{option.value}"[:255],
                value=option.value,
            )
            for option in question.options[:25]
        ]
        if buttons:
            tail.append(ActionsBlock(block_id=f"q:{question.fact}"[:255], elements=buttons))
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


def problem_blocks(message: str) -> list[Block]:
    return [_section(escape(message))]


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


def home_view(
    recent: Sequence[tuple[str, str, str]],
    common: Sequence[tuple[str, int]],
    unanswered: Sequence[tuple[str, str]],
) -> View:
    """App Home: recent triages, most common problems, conversations still waiting for answers."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Prefect triage"))]
    blocks.append(_section("*Recent triages*"))
    lines = [f"• {escape(when)} — {escape(entry)} ({escape(status)})" for when, entry, status in recent[:15]]
    blocks.append(_context("\n".join(lines) or "_Nothing yet. Paste a Prefect warning in a DM to start._"))
    blocks.append(DividerBlock())
    blocks.append(_section("*Most common problems (30 days)*"))
    lines = [f"• {escape(entry)}: {count}" for entry, count in common[:10]]
    blocks.append(_context("\n".join(lines) or "_No data yet._"))
    blocks.append(DividerBlock())
    blocks.append(_section("*Waiting for answers*"))
    lines = [f"• {escape(entry)} — asks: {escape(pending)}" for entry, pending in unanswered[:15]]
    blocks.append(_context("\n".join(lines) or "_No open questions._"))
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
