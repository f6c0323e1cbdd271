"""The baseline for bench_slack.py: a bare slack-bolt app that only acks and posts "ok" in the thread.

Served exactly like the bot (Starlette + uvicorn, Bolt dispatched on a worker thread), so
the comparison measures the bot's own per-event work, not the plumbing.
Usage: python bench/bare_bolt_app.py PORT
"""

from __future__ import annotations

import os
import sys

import anyio
import uvicorn
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def main() -> None:
    port = int(sys.argv[1])
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])

    @app.event("app_mention")
    def mention(event: dict, say) -> None:
        say(text="ok", thread_ts=event.get("thread_ts") or event["ts"])

    async def events(request: Request) -> Response:
        body = (await request.body()).decode()
        bolt_request = BoltRequest(body=body, query=request.url.query, headers={k: [v] for k, v in request.headers.items()})
        response = await anyio.to_thread.run_sync(app.dispatch, bolt_request)
        return Response(content=response.body, status_code=response.status)

    async def healthz(_request: Request) -> Response:
        return Response("ok")

    server = Starlette(routes=[Route("/slack/events", events, methods=["POST"]), Route("/healthz", healthz)])
    uvicorn.run(server, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
