"""Serve the Slack app: HTTP (`POST /slack/events`, `GET /healthz`) or Socket Mode.

HTTP requests are read on the event loop and dispatched to Bolt on a worker thread, so a
slow database or Slack call never blocks other requests' acks. Socket Mode uses Bolt's
own handler and keeps a small HTTP server for `/healthz`. This module must not contain
any Slack listener logic (that is `app.py`).
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor

import anyio
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.adapters.slack.app import SlackBot
from bot.observability import ACK_SECONDS, EVENTS, REGISTRY, Timer
from bot.store.db import Database

MAX_BODY = 1_000_000
NEEDS_A_BODY = {"url_verification", "unknown", "command", "interaction"}
"""Payloads whose HTTP answer carries content (a challenge, an ack text, a modal response): dispatched inline."""
log = logging.getLogger("prefect_triage.slack")


def asgi_app(bot: SlackBot, db: Database, *, connected: callable | None = None) -> Starlette:  # type: ignore[valid-type]
    limiter = anyio.CapacityLimiter(64)

    secret = bot.settings.slack_signing_secret
    verifier = SignatureVerifier(secret.get_secret_value()) if secret else None
    dispatcher = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dispatch")

    def dispatch_later(bolt_request: BoltRequest) -> None:
        try:
            bot.app.dispatch(bolt_request)
        except Exception:
            log.exception("dispatching an acked event failed")

    async def events(request: Request) -> Response:
        timer = Timer()
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "request too large"}, status_code=413)
        label = payload_type(body)
        EVENTS.labels(label).inc()
        text = body.decode("utf-8", errors="replace")
        headers = {k: [v] for k, v in request.headers.items()}
        bolt_request = BoltRequest(body=text, query=request.url.query, headers=headers)
        if verifier is not None and label not in NEEDS_A_BODY and text.startswith("{"):
            # Events API deliveries only need a 200: verify the signature here and answer at once;
            # Bolt (which verifies again) routes the event on a worker thread.
            timestamp = request.headers.get("x-slack-request-timestamp", "")
            signature = request.headers.get("x-slack-signature", "")
            if not _signed(verifier, text, timestamp, signature):
                return JSONResponse({"error": "invalid request"}, status_code=401)
            dispatcher.submit(dispatch_later, bolt_request)
            ACK_SECONDS.observe(timer.elapsed())
            return Response(status_code=200)
        response = await anyio.to_thread.run_sync(bot.app.dispatch, bolt_request, limiter=limiter)
        ACK_SECONDS.observe(timer.elapsed())
        return _to_starlette(response)

    async def metrics(_request: Request) -> Response:
        return Response(content=generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

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
        ok = db_ok and socket_ok
        return JSONResponse({"ok": ok, "database": db_ok, "slack": socket_ok}, status_code=200 if ok else 503)

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/slack/install", install, methods=["GET"]),
            Route("/slack/oauth_redirect", install, methods=["GET"]),
        ]
    )


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


def serve_http(bot: SlackBot, db: Database, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(asgi_app(bot, db), host=host, port=port, log_level="info", access_log=False)


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
