"""The terminal adapter: `prefect-triage chat`, the same engine and database as Slack.

Protocol (the same on a TTY and on piped stdin): a pasted message is a block of lines
ended by an empty line (or end of input); while questions are pending, each line is an
answer. Lines starting with `/` are commands (`/new`, `/facts`, `/fixed`, `/broken`,
`/human`, `/help`, `/quit`). On a TTY output is rich Markdown; otherwise plain text, so
the chat can be scripted and tested. This module must not match, diagnose or store
anything itself: it calls `Conversations`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from rich.console import Console
from rich.markdown import Markdown

from bot.conversations import Conversations, Outcome
from bot.dialogue import Feedback, State, TurnKind
from bot.render_markdown import fact_line

HELP = """Paste a warning, a log or a description, then an empty line. Answer questions one per line.
Commands: /new (start over), /facts (what I know), /fixed, /broken, /human (feedback), /help, /quit"""

FEEDBACK_COMMANDS = {"/fixed": Feedback.FIXED, "/broken": Feedback.STILL_BROKEN, "/human": Feedback.ESCALATED}


class ConsoleChat:
    def __init__(self, conversations: Conversations, console: Console, *, rich_output: bool):
        self.conversations = conversations
        self.console = console
        self.rich_output = rich_output
        self.key = f"console:{uuid.uuid4()}"
        self.pending: list[str] = []

    # --- output ---------------------------------------------------------------------
    def say(self, markdown: str) -> None:
        if self.rich_output:
            self.console.print(Markdown(markdown))
        else:
            print(markdown + "\n", flush=True)

    def show(self, outcome: Outcome) -> None:
        turn = outcome.turn
        if outcome.problem or turn is None:
            self.say(outcome.message or outcome.problem or "")
            return
        self.pending = list(turn.state.pending)
        result = turn.result
        if turn.kind is TurnKind.FEEDBACK:
            self.say(_feedback_text(turn.feedback))
        elif turn.kind is TurnKind.REASK:
            self.say(turn.message or "")
        elif turn.kind is TurnKind.NOTHING:
            return
        elif turn.kind is TurnKind.FIRST:
            if result and result.reply:
                self.say(result.reply.markdown())
        elif result and result.reply:
            noted = ", ".join(f"{k} = {v}" for k, v in turn.answered.items())
            if turn.changed:
                before = turn.previous_diagnosis or "none"
                header = f"_Updated diagnosis: {before} → {result.diagnosis}"
                self.say(header + (f" (you said {noted})_" if noted else "_"))
                self.say(result.reply.markdown())
            else:
                remaining = ", ".join(self.pending) or "nothing"
                self.say(f"Noted{': ' + noted if noted else ''}. The diagnosis stays {result.diagnosis}; "
                         f"still to answer: {remaining}.")

    def show_facts(self) -> None:
        loaded = self.conversations.load(self.key)
        if loaded is None:
            self.say("No conversation yet.")
            return
        _, state = loaded
        lines = [f"Entry: {state.entry or 'none'} · diagnosis: {state.diagnosis or 'none'} · status: {state.status}"]
        lines += [fact_line(f) for f in state.user_facts.values()]
        lines.append(f"Pending questions: {', '.join(state.pending) or 'none'}")
        self.say("\n".join(lines))

    # --- input ----------------------------------------------------------------------
    def resume(self, key: str, state: State) -> None:
        self.key = key
        self.pending = list(state.pending)
        self.say(
            f"Resuming: {state.entry or 'unrecognised'} · diagnosis {state.diagnosis or '-'} · "
            f"pending: {', '.join(state.pending) or 'nothing'}"
        )

    def command(self, line: str) -> bool:
        """Run a slash command; False means quit."""
        word = line.split()[0].lower()
        if word in ("/quit", "/exit", "/q"):
            return False
        if word == "/new":
            self.key = f"console:{uuid.uuid4()}"
            self.pending = []
            self.say("New conversation. Paste a warning or log, then an empty line.")
        elif word == "/facts":
            self.show_facts()
        elif word in FEEDBACK_COMMANDS:
            self.show(self.conversations.feedback(key=self.key, kind=FEEDBACK_COMMANDS[word]))
        else:
            self.say(HELP)
        return True

    def run(self, lines: Iterator[str]) -> None:
        block: list[str] = []
        for raw in lines:
            line = raw.rstrip("\n")
            if not block and line.startswith("/"):
                if not self.command(line.strip()):
                    return
                continue
            if self.pending and not block:
                if line.strip():
                    self.show(self.conversations.message(key=self.key, transport="console", text=line))
                continue
            if line.strip() or not block:
                if line.strip():
                    block.append(line)
                continue
            self.show(self.conversations.message(key=self.key, transport="console", text="\n".join(block)))
            block = []
        if block:
            self.show(self.conversations.message(key=self.key, transport="console", text="\n".join(block)))


def _feedback_text(feedback: Feedback | None) -> str:
    return {
        Feedback.FIXED: "Glad it's fixed — I marked this conversation resolved.",
        Feedback.STILL_BROKEN: "Noted that it's still broken. Paste the newest error or the worker/pod logs and "
        "I'll look again.",
        Feedback.NOT_HELPFUL: "Thanks — I recorded that this answer was not helpful.",
        Feedback.ESCALATED: "Recorded that you want a human. In the terminal there is nobody to page: "
        "post this in your support channel, or run the bot in Slack with an escalation target.",
    }.get(feedback, "Noted.") if feedback else "Noted."
