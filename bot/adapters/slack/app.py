"""The slack-bolt app: one listener per kind of Slack payload, each acks and hands off.

Every listener is short: it acks, claims the event in the database (so Slack retries, the
`app_mention`/`message` pair for one post and several replicas produce one reply), and
submits the slow work to a bounded pool, so acks never wait behind triage or workspace
lookups. Routing rules: mentions and DMs always answer; top-level messages in watched
channels answer only when confident; thread replies continue an existing conversation.
This module must not render, match or store anything itself.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.adapters.slack import blocks as kit
from bot.adapters.slack.handlers import SlackJobs, Where
from bot.adapters.slack.keepalive import KeepAliveClients, KeepAliveWebClient
from bot.config import Settings
from bot.conversations import Conversations
from bot.dialogue import Feedback
from bot.observability import IN_FLIGHT, JOB_ERRORS, QUEUED, SLACK_ERRORS, TRIAGE_SECONDS, Timer, error_id
from bot.store.retry import RetryingConversations

log = logging.getLogger("prefect_triage.slack")
HANDLED_SUBTYPES = {None, "file_share", "thread_broadcast", "message_changed"}
_MENTION = re.compile(r"<@[UWB][A-Z0-9]+(?:\|[^>]*)?>")


def oauth_settings(settings: Settings, engine: Any) -> Any:
    """Multi-workspace install: slack_sdk's SQLAlchemy stores on the project's own database."""
    from slack_bolt.oauth.oauth_settings import OAuthSettings
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    assert settings.slack_client_id and settings.slack_client_secret
    site = settings.slack_api_url.rstrip("/").removesuffix("/api")
    return OAuthSettings(
        authorization_url=f"{site}/oauth/v2/authorize",
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=[s.strip() for s in settings.slack_scopes.split(",") if s.strip()],
        installation_store=SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine),
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine),
    )


def make_client(settings: Settings, with_token: bool = True) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token and with_token else None
    return KeepAliveWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class SlackBot:
    """The Bolt app plus the worker pool that does the slow half of each request."""

    def __init__(
        self,
        settings: Settings,
        conversations: Conversations,
        client: WebClient | None = None,
        *,
        verified_upstream: bool = False,
    ):
        """`verified_upstream`: requests arrive already signature-checked (event workers, fed by
        the front); checking again could reject a delivery that waited in the queue past the
        signature's five-minute window."""
        self.settings = settings
        # every database call retries while the database restarts, so acked events are answered late, not lost
        self.conversations = RetryingConversations(conversations)
        self.jobs = SlackJobs(settings, self.conversations)
        self.pool = ThreadPoolExecutor(max_workers=settings.slack_workers, thread_name_prefix="triage")
        self.watched = settings.watched()
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
        oauth = oauth_settings(settings, conversations.db.engine) if settings.oauth_enabled() else None  # type: ignore
        self.app = App(
            client=client or make_client(settings, with_token=oauth is None),
            signing_secret=secret,
            request_verification_enabled=not verified_upstream,
            oauth_settings=oauth,
            listener_executor=ThreadPoolExecutor(max_workers=8, thread_name_prefix="bolt"),
            raise_error_for_unhandled_request=False,
        )
        if oauth is not None:
            self.app.enable_token_revocation_listeners()
        clients = KeepAliveClients(self.app.client)

        @self.app.middleware
        def keep_alive(context: Any, next: Callable[[], None]) -> None:
            # Bolt makes a new WebClient per request; reuse one per token so calls share connections
            context["client"] = clients.get(context.client.token, context.team_id)
            next()

        self._register()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run a job on the bounded pool; an unexpected failure is logged with an error id
        that is also shown in the thread, so a user can quote it."""
        where = next((a for a in args if isinstance(a, Where)), None)
        client = next((a for a in args if isinstance(a, WebClient)), None)

        def run() -> None:
            QUEUED.dec()
            IN_FLIGHT.inc()
            timer = Timer()
            try:
                fn(*args, **kwargs)
            except SlackApiError as exc:
                SLACK_ERRORS.labels(str(exc.response.get("error", "unknown"))[:40]).inc()
                log.warning("Slack API error: %s", exc.response.get("error"))
            except Exception:
                JOB_ERRORS.inc()
                code = error_id()
                log.exception("triage job failed", extra={"error_id": code})
                if where is not None and client is not None:
                    with contextlib.suppress(Exception):
                        client.chat_postMessage(
                            channel=where.channel,
                            thread_ts=where.thread_ts,
                            text=f"Something went wrong on my side (error id `{code}`). "
                            "Your message is kept; an operator can look it up with that id.",
                        )
            finally:
                IN_FLIGHT.dec()
                TRIAGE_SECONDS.observe(timer.elapsed())

        QUEUED.inc()
        self.pool.submit(run)

    def start_housekeeping(self, every_seconds: float = 3600.0) -> threading.Event:
        """Forget old event claims once an hour so the dedupe table stays small; set the event to stop."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every_seconds):
                with contextlib.suppress(Exception):
                    self.conversations.forget_old_events()

        threading.Thread(target=loop, name="housekeeping", daemon=True).start()
        return stop

    def shutdown(self, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait)
        self.conversations.close()

    @staticmethod
    def settle() -> None:
        """Call once start-up is done: the knowledge base, compiled patterns and templates are
        long-lived, so move them out of the garbage collector's sight (`gc.freeze`). A full
        collection otherwise walks them all and stalls every thread, acks included."""
        gc.collect()
        gc.freeze()

    def _first_delivery(self, body: dict) -> bool:
        """True the first time this event id is seen by any replica (Slack retries reuse it)."""
        event_id = body.get("event_id")
        return not event_id or self.conversations.claim(f"ev:{body.get('team_id')}:{event_id}")

    def _claim(self, team: str | None, channel: str, ts: str) -> bool:
        return self.conversations.claim(f"msg:{team}:{channel}:{ts}")

    @staticmethod
    def _claims(body: dict, team: str | None, channel: str, ts: str) -> list[str]:
        """Dedupe keys for one delivery: its event id (Slack retries reuse it) and the message
        (the same message can arrive as several events). Jobs take them together with the outcome."""
        keys = [f"msg:{team}:{channel}:{ts}"]
        if body.get("event_id"):
            keys.insert(0, f"ev:{team}:{body['event_id']}")
        return keys

    # --- routing --------------------------------------------------------------------
    # Cheap checks first: most channel messages are chatter in channels nobody asked the bot
    # to watch, and they must cost no database write at all.
    def _on_message(self, body: dict, event: dict, client: WebClient, bot_user_id: str | None) -> None:
        subtype = event.get("subtype")
        if subtype not in HANDLED_SUBTYPES or event.get("bot_id"):
            return
        if subtype == "message_changed":
            event = {**event.get("message", {}), "channel": event.get("channel"), "edited": True}
            if event.get("bot_id") or (event.get("thread_ts") not in (None, event.get("ts"))):
                return
        team, channel, ts = body.get("team_id"), event.get("channel", ""), event.get("ts", "")
        text = event.get("text") or ""
        if bot_user_id and f"<@{bot_user_id}" in text:
            return  # the app_mention event answers this one
        thread = event.get("thread_ts") or ts
        where = Where(team=team, channel=channel, thread_ts=thread, user=event.get("user"))
        direct = event.get("channel_type") == "im"
        files = event.get("files") or []
        claims = self._claims(body, team, channel, ts)
        if thread != ts:
            if self.conversations.exists(where.key):
                self.submit(self.jobs.message, client, where, text, unprompted=False, quiet=not direct, claims=claims)
            return
        if not direct and channel not in self.watched:
            return
        where.root = ts
        if files:
            self.submit(self.jobs.message_with_files, client, where, text, files, unprompted=not direct, claims=claims)
        else:
            self.submit(self.jobs.message, client, where, text, unprompted=not direct, claims=claims)

    def _on_mention(self, body: dict, event: dict, client: WebClient) -> None:
        team, channel, ts = body.get("team_id"), event.get("channel", ""), event.get("ts", "")
        text = _MENTION.sub("", event.get("text") or "").strip()
        thread = event.get("thread_ts") or ts
        where = Where(team=team, channel=channel, thread_ts=thread, user=event.get("user"),
                      root=ts if thread == ts else None)
        claims = self._claims(body, team, channel, ts)
        self.submit(self.jobs.mention, client, where, text, event.get("files") or [], thread != ts, claims)

    def _register(self) -> None:
        app = self.app

        # Events are acked before these listeners run (the server acks events first). Jobs claim
        # each delivery's keys in the transaction that records its outcome, which makes
        # redeliveries and other replicas no-ops and lets Slack's retry through after a crash.
        @app.event("app_mention")
        def mention(body: dict, event: dict, client: WebClient) -> None:
            self._on_mention(body, event, client)

        @app.event("message")
        def message(body: dict, event: dict, client: WebClient, context: dict) -> None:
            self._on_message(body, event, client, context.get("bot_user_id"))

        @app.event("app_home_opened")
        def home(body: dict, event: dict, client: WebClient) -> None:
            if event.get("tab", "home") == "home" and self._first_delivery(body):
                self.submit(self.jobs.home, client, event["user"])

        @app.command("/triage")
        def command(ack: Callable[..., None], body: dict, client: WebClient) -> None:
            text = (body.get("text") or "").strip()
            if not text:
                ack()
                client.views_open(trigger_id=body["trigger_id"], view=kit.paste_modal(body.get("channel_id", "")))
                return
            ack(text="Triaging your paste…")
            self.submit(self.jobs.command, client, body.get("team_id"), body["channel_id"], body["user_id"], text)

        @app.view(kit.MODAL_CALLBACK)
        def modal(ack: Callable[..., None], body: dict, view: dict, client: WebClient) -> None:
            ack()
            text = view["state"]["values"][kit.PASTE_BLOCK][kit.PASTE_ACTION].get("value") or ""
            channel = view.get("private_metadata") or ""
            user = body["user"]["id"]
            team = (body.get("team") or {}).get("id")
            self.submit(self.jobs.command, client, team, channel or user, user, text)

        @app.shortcut("triage_message")
        def shortcut(ack: Callable[..., None], body: dict, client: WebClient) -> None:
            ack()
            message = body.get("message") or {}
            team, channel = (body.get("team") or {}).get("id"), body["channel"]["id"]
            ts = message.get("ts", "")
            where = Where(team=team, channel=channel, thread_ts=message.get("thread_ts") or ts, user=body["user"]["id"])
            if not self._claim(team, channel, ts):
                client.chat_postEphemeral(channel=channel, user=where.user, text="I already triaged that message.")
                return
            files = message.get("files") or []
            if files:
                self.submit(self.jobs.message_with_files, client, where, message.get("text") or "", files,
                            unprompted=False)
            else:
                self.submit(self.jobs.message, client, where, message.get("text") or "", unprompted=False)

        @app.action(re.compile(r"^answer:"))
        def answer(ack: Callable[..., None], body: dict, action: dict, client: WebClient) -> None:
            ack()
            _, fact, _value = action["action_id"].split(":", 2)
            where, message_ts = _where_from_action(body)
            self.submit(self.jobs.answer, client, where, message_ts, fact, action.get("value", ""))

        @app.action(re.compile(r"^feedback:"))
        def feedback(ack: Callable[..., None], body: dict, action: dict, client: WebClient) -> None:
            ack()
            try:
                kind = Feedback(action.get("value", ""))
            except ValueError:
                return
            where, _ = _where_from_action(body)
            self.submit(self.jobs.feedback, client, where, kind)


def _where_from_action(body: dict) -> tuple[Where, str]:
    message = body.get("message") or {}
    container = body.get("container") or {}
    message_ts = message.get("ts") or container.get("message_ts", "")
    thread = message.get("thread_ts") or container.get("thread_ts") or message_ts
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
    where = Where(
        team=(body.get("team") or {}).get("id"),
        channel=channel,
        thread_ts=thread,
        user=(body.get("user") or {}).get("id"),
    )
    return where, message_ts
