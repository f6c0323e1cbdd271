"""The slow half of every Slack interaction: triage, then post or update in the thread.

Listeners in `app.py` ack at once and hand one of these jobs to a bounded worker pool.
Each job turns a Slack payload into a conversation message, calls `Conversations`, and
renders the outcome as Block Kit: a new threaded reply, an in-place update of the bot's
reply when an answer refines it, a re-ask, or an escalation. This module must not match,
redact or store anything itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack import blocks as kit
from bot.adapters.slack.files import read_shared_files
from bot.adapters.slack.mrkdwn import escape
from bot.config import Settings
from bot.conversations import Conversations, Outcome
from bot.dialogue import Feedback, TurnKind
from bot.render_markdown import fact_line

log = logging.getLogger("prefect_triage.slack")


def conversation_key(team: str | None, channel: str, thread_ts: str) -> str:
    return f"slack:{team or '-'}:{channel}:{thread_ts}"


@dataclass
class Where:
    team: str | None
    channel: str
    thread_ts: str
    user: str | None = None
    root: str | None = None
    """The ts of the message being handled when it starts its thread (no conversation can exist yet)."""

    @property
    def key(self) -> str:
        return conversation_key(self.team, self.channel, self.thread_ts)


class SlackJobs:
    def __init__(self, settings: Settings, conversations: Conversations):
        self.settings = settings
        self.conversations = conversations

    # --- posting ----------------------------------------------------------------------
    def _post(self, client: WebClient, where: Where, outcome: Outcome) -> None:
        """Show an outcome in the thread: new reply, in-place update, or a short note."""
        turn = outcome.turn
        escalation = bool(self.settings.escalation_target)
        if outcome.problem:
            client.chat_postMessage(channel=where.channel, thread_ts=where.thread_ts, text=escape(outcome.problem))
            return
        if turn is None or outcome.conversation_id is None:
            return
        reply = outcome.reply
        if turn.kind is TurnKind.REASK:
            client.chat_postMessage(channel=where.channel, thread_ts=where.thread_ts, text=escape(turn.message or ""))
            return
        if turn.kind is TurnKind.FEEDBACK:
            self._feedback_note(client, where, outcome)
            return
        if reply is None:
            return
        blocks = kit.reply_blocks(reply, escalation=escalation)
        existing = None if outcome.is_new else self.conversations.reply_id(outcome.conversation_id)
        if existing:
            client.chat_update(channel=where.channel, ts=existing, text=kit.fallback_text(reply), blocks=blocks)
            if turn.changed:
                note = f"Updated the diagnosis above: *{escape(reply.title)}*"
                client.chat_postMessage(channel=where.channel, thread_ts=where.thread_ts, text=note)
            return
        posted = client.chat_postMessage(
            channel=where.channel, thread_ts=where.thread_ts, text=kit.fallback_text(reply), blocks=blocks
        )
        self.conversations.record_reply(outcome.conversation_id, posted["ts"])

    def _feedback_note(self, client: WebClient, where: Where, outcome: Outcome) -> None:
        turn = outcome.turn
        assert turn is not None
        if turn.feedback is Feedback.ESCALATED:
            self.escalate(client, where, outcome)
        elif turn.feedback is Feedback.FIXED:
            client.chat_postMessage(channel=where.channel, thread_ts=where.thread_ts, text="Glad it's fixed. :tada:")
        elif where.user:
            client.chat_postEphemeral(
                channel=where.channel, thread_ts=where.thread_ts, user=where.user,
                text="Thanks, noted. Paste the newest error or the worker/pod logs in this thread and I'll look again.",
            )

    def escalate(self, client: WebClient, where: Where, outcome: Outcome) -> None:
        target = self.settings.escalation_target
        if not target:
            if where.user:
                client.chat_postEphemeral(
                    channel=where.channel, thread_ts=where.thread_ts, user=where.user,
                    text="No escalation target is configured for this bot, so I can't page anyone. "
                    "Ask in the channel, or ask your admin to set TRIAGE_ESCALATION_TARGET.",
                )
            return
        state = outcome.turn.state if outcome.turn else None
        facts = [fact_line(f).lstrip("- ") for f in (state.user_facts.values() if state else [])]
        title = (state.entry or "an unrecognised problem") if state else "an unrecognised problem"
        link = None
        try:
            link = client.chat_getPermalink(channel=where.channel, message_ts=where.thread_ts).get("permalink")
        except SlackApiError:
            link = None
        mention_target = target if target[0] in "SUW" else None
        summary = kit.escalation_text(mention_target or target, title, facts, state.pending if state else [], link)
        if mention_target:
            client.chat_postMessage(channel=where.channel, thread_ts=where.thread_ts, text=summary)
        else:  # a channel: post the summary there and say so in the thread
            client.chat_postMessage(channel=target, text=summary.split(" ", 1)[1])
            client.chat_postMessage(
                channel=where.channel, thread_ts=where.thread_ts, text=f"I asked for help in <#{target}>."
            )

    # --- jobs -------------------------------------------------------------------------
    def message(
        self,
        client: WebClient,
        where: Where,
        text: str,
        *,
        unprompted: bool,
        quiet: bool = False,
        claims: Sequence[str] = (),
    ) -> None:
        """A message for the conversation of `where`.

        `unprompted`: nobody asked the bot (a watched channel): answer only a confident match.
        `quiet`: a thread reply not addressed to the bot: refine silently, never re-ask.
        `claims`: the delivery's dedupe keys, taken with the outcome (a redelivery does nothing).
        """
        outcome = self.conversations.message(
            key=where.key,
            transport="slack",
            text=text,
            unprompted=unprompted,
            claims=claims,
            fresh=where.root is not None and where.root == where.thread_ts,
        )
        if outcome.duplicate:
            return
        if unprompted and (outcome.conversation_id is None or outcome.problem):
            return  # never answer chatter or bad input nobody asked about
        turn = outcome.turn
        if quiet and (outcome.problem or (turn is not None and turn.kind is TurnKind.REASK)):
            return
        unchanged = turn is not None and turn.kind in (TurnKind.EVIDENCE, TurnKind.NOTHING) and not turn.changed
        if unchanged and (quiet or turn.kind is TurnKind.NOTHING):
            return
        self._post(client, where, outcome)

    def mention(
        self,
        client: WebClient,
        where: Where,
        text: str,
        files: list[dict[str, Any]],
        in_thread: bool,
        claims: Sequence[str] = (),
    ) -> None:
        """An @mention: continue the thread's conversation, or start one (with the thread's root)."""
        if in_thread and not self.conversations.exists(where.key):
            root = client.conversations_replies(channel=where.channel, ts=where.thread_ts, limit=1)
            messages = root.get("messages") or []
            if messages and messages[0].get("ts") == where.thread_ts:
                root_text = messages[0].get("text") or ""
                files = files or messages[0].get("files") or []
                text = f"{root_text}\n\n{text}".strip()
        if not text.strip() and not files:
            if claims and not self.conversations.claim(*claims):
                return
            client.chat_postMessage(
                channel=where.channel,
                thread_ts=where.thread_ts,
                text="Paste the warning or log lines with your mention (or mention me in the thread of the message).",
            )
            return
        if files:
            self.message_with_files(client, where, text, files, unprompted=False, claims=claims)
        else:
            self.message(client, where, text, unprompted=False, claims=claims)

    def message_with_files(
        self,
        client: WebClient,
        where: Where,
        text: str,
        files: list[dict[str, Any]],
        *,
        unprompted: bool,
        claims: Sequence[str] = (),
    ) -> None:
        content = read_shared_files(client, files, max_bytes=self.settings.slack_max_file_bytes)
        combined = "\n\n".join(part for part in (text, content) if part.strip())
        self.message(client, where, combined, unprompted=unprompted, claims=claims)

    def answer(self, client: WebClient, where: Where, message_ts: str, fact: str, value: str) -> None:
        outcome = self.conversations.answer(key=where.key, fact=fact, value=value)
        if outcome.turn is None or outcome.reply is None or outcome.conversation_id is None:
            return
        answered_by = {fact: where.user} if where.user else None
        client.chat_update(
            channel=where.channel,
            ts=message_ts,
            text=kit.fallback_text(outcome.reply),
            blocks=kit.reply_blocks(outcome.reply, escalation=bool(self.settings.escalation_target),
                                    answered_by=answered_by),
        )
        self.conversations.record_reply(outcome.conversation_id, message_ts)

    def feedback(self, client: WebClient, where: Where, kind: Feedback) -> None:
        outcome = self.conversations.feedback(key=where.key, kind=kind, user=where.user)
        if outcome.turn is not None:
            self._feedback_note(client, where, outcome)

    def command(self, client: WebClient, team: str | None, channel: str, user: str, text: str) -> None:
        """`/triage <text>` or the modal: a visible placeholder becomes the thread root, then the reply."""
        try:
            placeholder = client.chat_postMessage(
                channel=channel, text=f"<@{user}> asked me to triage a paste. Looking…"
            )
        except SlackApiError as exc:
            log.warning("cannot post in %s (%s); answering in a DM", channel, exc.response.get("error"))
            channel = client.conversations_open(users=user)["channel"]["id"]
            placeholder = client.chat_postMessage(channel=channel, text="You asked me to triage a paste. Looking…")
        where = Where(team=team, channel=channel, thread_ts=placeholder["ts"], user=user)
        outcome = self.conversations.message(key=where.key, transport="slack", text=text, fresh=True)
        if outcome.reply is None or outcome.conversation_id is None:
            message = escape(outcome.message or "Nothing to triage.")
            client.chat_update(channel=channel, ts=placeholder["ts"], text=message)
            return
        client.chat_update(
            channel=channel,
            ts=placeholder["ts"],
            text=kit.fallback_text(outcome.reply),
            blocks=kit.reply_blocks(outcome.reply, escalation=bool(self.settings.escalation_target)),
        )
        self.conversations.record_reply(outcome.conversation_id, placeholder["ts"])

    def home(self, client: WebClient, user: str) -> None:
        recent, common, unanswered = self.conversations.overview()
        client.views_publish(user_id=user, view=kit.home_view(recent, common, unanswered))
