"""Serve the Slack app: HTTP (`POST /slack/events`, `GET /healthz`) or Socket Mode.

HTTP requests are read on the event loop. Events API deliveries are signature-checked and
acked at once, then routed by Bolt on a worker thread — or, with event worker processes
(`processes.py`), queued for them. Commands and interactions (whose HTTP answer carries
content) go through Bolt on a thread. Socket Mode uses Bolt's own handler and keeps a small
HTTP server for `/healthz`. This module must not contain any Slack listener logic (that is
`app.py`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import anyio
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from slack_bolt import BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.adapters.slack.app import SlackBot
from bot.adapters.slack.processes import EventWorkers
from bot.observability import ACK_SECONDS, EVENTS, REGISTRY, Timer
from bot.store.db import Database

MAX_BODY = 1_000_000
NEEDS_A_BODY = {"url_verification", "unknown", "command", "interaction"}
"""Payloads whose HTTP answer carries content (a challenge, an ack text, a modal response): dispatched inline."""
log = logging.getLogger("prefect_triage.slack")


def asgi_app(
    bot: SlackBot,
    db: Database,
    *,
    connected: Callable[[], bool] | None = None,
    workers: EventWorkers | None = None,
) -> Starlette:
    limiter = anyio.CapacityLimiter(64)

    secret = bot.settings.slack_signing_secret
    verifier = SignatureVerifier(secret.get_secret_value()) if secret else None
    dispatcher = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dispatch")

    def dispatch_later(text: str, query: str, headers: dict[str, list[str]]) -> None:
        try:
            bot.app.dispatch(BoltRequest(body=text, query=query, headers=headers))
        except Exception:
            log.exception("dispatching an acked event failed")

    def dispatch_now(text: str, query: str, headers: dict[str, list[str]]) -> BoltResponse:
        return bot.app.dispatch(BoltRequest(body=text, query=query, headers=headers))

    async def events(request: Request) -> Response:
        timer = Timer()
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "request too large"}, status_code=413)
        label = payload_type(body)
        EVENTS.labels(label).inc()
        text = body.decode("utf-8", errors="replace")
        headers = {k: [v] for k, v in request.headers.items()}
        query = request.url.query
        # BoltRequest parses the body: built off the event loop, and not at all for forwarded events
        if verifier is not None and label not in NEEDS_A_BODY and text.startswith("{"):
            # Events API deliveries only need a 200: verify the signature here and answer at once;
            # Bolt (which verifies again) routes the event on a worker thread.
            timestamp = request.headers.get("x-slack-request-timestamp", "")
            signature = request.headers.get("x-slack-signature", "")
            if not _signed(verifier, text, timestamp, signature):
                return JSONResponse({"error": "invalid request"}, status_code=401)
            if workers is not None:
                workers.submit(text, query, headers)
            else:
                dispatcher.submit(dispatch_later, text, query, headers)
            ACK_SECONDS.observe(timer.elapsed())
            return Response(status_code=200)
        response = await anyio.to_thread.run_sync(dispatch_now, text, query, headers, limiter=limiter)
        ACK_SECONDS.observe(timer.elapsed())
        return _to_starlette(response)

    async def metrics(_request: Request) -> Response:
        registry = REGISTRY if workers is None else _Merged(REGISTRY, workers)
        return Response(content=generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def install(request: Request) -> Response:
        flow = bot.app.oauth_flow
        if flow is None:
            return JSONResponse({"error": "multi-workspace install is not configured"}, status_code=404)
        headers = {k: [v] for k, v in request.headers.items()}
        bolt_request = BoltRequest(body="", query=request.url.query, headers=headers)
        handle = flow.handle_installation if request.url.path.endswith("/install") else flow.handle_callback
        response = await anyio.to_thread.run_sync(handle, bolt_request, limiter=limiter)
        return _to_starlette(response)

    def _db_ok() -> bool:
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def healthz(_request: Request) -> Response:
        db_ok = await anyio.to_thread.run_sync(_db_ok)
        socket_ok = connected() if connected else True
        report: dict[str, object] = {"database": db_ok, "slack": socket_ok}
        ok = db_ok and socket_ok
        if workers is not None:
            alive = workers.alive()
            report["workers"] = {
                "alive": alive, "wanted": workers.count, "restarts": workers.restarts, "pids": workers.pids()
            }
            ok = ok and alive > 0  # a worker being restarted is not an outage; none at all is
        return JSONResponse({"ok": ok, **report}, status_code=200 if ok else 503)

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/slack/install", install, methods=["GET"]),
            Route("/slack/oauth_redirect", install, methods=["GET"]),
        ]
    )


class _Merged:
    """The front's metrics plus the worker processes', summed series by series."""

    def __init__(self, registry: CollectorRegistry, workers: EventWorkers):
        self.registry = registry
        self.workers = workers

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        totals: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
        for family in [*self.registry.collect(), *self.workers.collect()]:
            families.setdefault(family.name, Metric(family.name, family.documentation, family.type))
            series = totals.setdefault(family.name, {})
            for sample in family.samples:
                if sample.name.endswith("_created"):
                    continue  # a creation time cannot be summed
                key = (sample.name, tuple(sorted(sample.labels.items())))
                series[key] = series.get(key, 0.0) + sample.value
        for name, family in families.items():
            for (sample_name, labels), value in totals[name].items():
                family.add_sample(sample_name, dict(labels), value)
            yield family


def _signed(verifier: SignatureVerifier, body: str, timestamp: str, signature: str) -> bool:
    if not timestamp.isdigit() or not signature:
        return False
    try:
        return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
    except (ValueError, TypeError):
        return False


def payload_type(body: bytes) -> str:
    """A coarse label for metrics: the event type, `command` or `interaction`."""
    if body.startswith(b"payload="):
        return "interaction"
    if b"command=" in body[:2000] and not body.startswith(b"{"):
        return "command"
    try:
        data = json.loads(body)
    except ValueError:
        return "unknown"
    if not isinstance(data, dict):
        return "unknown"
    event = data.get("event") if isinstance(data.get("event"), dict) else {}
    return str(event.get("type") or data.get("type") or "unknown")[:40]


def _to_starlette(response: BoltResponse) -> Response:
    result = Response(content=response.body, status_code=response.status)
    for name, values in response.headers.items():
        if name.lower() == "content-length":
            continue
        for value in values:
            result.headers.append(name, value)
    return result


def serve_http(bot: SlackBot, db: Database, host: str, port: int, *, workspace: bool = True) -> None:
    import uvicorn

    count = bot.settings.slack_processes
    workers = EventWorkers(count, workspace=workspace).start() if count else None
    bot.settle()
    try:
        app = asgi_app(bot, db, workers=workers)
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
    finally:
        if workers is not None:
            workers.stop()


def serve_socket(bot: SlackBot, db: Database, app_token: str, host: str, port: int) -> None:
    import uvicorn
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(bot.app, app_token)
    handler.connect()
    try:
        app = asgi_app(bot, db, connected=handler.client.is_connected)
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
    finally:
        handler.close()
