"""Serve the Slack app: HTTP (`POST /slack/events`, `GET /healthz`) or Socket Mode.

HTTP requests are read on the event loop and dispatched to Bolt on a worker thread, so a
slow database or Slack call never blocks other requests' acks. Socket Mode uses Bolt's
own handler and keeps a small HTTP server for `/healthz`. This module must not contain
any Slack listener logic (that is `app.py`).
"""

from __future__ import annotations

import anyio
from slack_bolt import BoltRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from sqlalchemy import text

from bot.adapters.slack.app import SlackBot
from bot.store.db import Database

MAX_BODY = 1_000_000


def asgi_app(bot: SlackBot, db: Database, *, connected: callable | None = None) -> Starlette:  # type: ignore[valid-type]
    limiter = anyio.CapacityLimiter(64)

    async def events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "request too large"}, status_code=413)
        bolt_request = BoltRequest(
            body=body.decode("utf-8", errors="replace"),
            query=request.url.query,
            headers={k: [v] for k, v in request.headers.items()},
        )
        response = await anyio.to_thread.run_sync(bot.app.dispatch, bolt_request, limiter=limiter)
        headers = {k: v[0] for k, v in response.headers.items() if v and k.lower() != "content-length"}
        return Response(content=response.body, status_code=response.status, headers=headers)

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
        ]
    )


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
