"""A fake Slack Web API over real HTTP, and the bot served over real HTTP against it.

`FakeSlack` is a threaded HTTP server on a free loopback port that answers the Web API
methods the bot uses with realistic payloads (`ts`, `channel`, `view.id`, files with a
private download URL), records every call with its parsed body, and can fail chosen
methods (429 with Retry-After, 500) on demand. `SlackStack` runs the real Bolt app under
uvicorn on another free port and sends it signed requests like Slack does.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import httpx
import pytest
import uvicorn

from bot.config import Settings

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
INSTALLED_TOKEN = "xoxb-installed-in-t2"
BOT_USER = "UBOT"
TEAM = "T1"


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float

    def text(self) -> str:
        """Everything the bot sent in this call, as one string (for content assertions)."""
        return json.dumps(self.body, ensure_ascii=False)


@dataclass
class FakeSlack:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, tuple[dict[str, Any], bytes]] = field(default_factory=dict)
    socket_url: str = ""
    connections: int = 0  # TCP connections accepted (the real Web API keeps connections alive too)
    _sockets: list[socket.socket] = field(default_factory=list)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)

    def next_ts(self) -> str:
        return f"{1_800_000_000 + next(self._ts)}.000100"

    def fail(self, method: str, status: int, times: int = 1, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.failures.setdefault(method, []).extend([(status, headers)] * times)

    def drop_connections(self) -> None:
        """Close every open connection from the server side, as a load balancer does with idle ones."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def add_file(self, file_id: str, name: str, content: bytes, mimetype: str = "text/plain") -> None:
        info = {
            "id": file_id, "name": name, "mimetype": mimetype, "filetype": "text", "size": len(content),
            "url_private_download": f"{self.url}/files-pri/{file_id}/{name}",
        }
        self.files[file_id] = (info, content)

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def posts(self) -> list[Call]:
        return self.of("chat.postMessage")

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()

    def answer(self, method: str, body: dict[str, Any], token: str = "") -> dict[str, Any]:
        channel = body.get("channel") or "C0"
        if method == "auth.test" and token == INSTALLED_TOKEN:
            return {"ok": True, "user_id": "UBOT2", "bot_id": "BBOT2", "team_id": "T2", "team": "Two", "user": "triage",
                    "url": "https://two.slack.com/"}
        if method == "oauth.v2.access":
            return {"ok": True, "app_id": "A1", "authed_user": {"id": "U9"}, "scope": "chat:write,commands",
                    "token_type": "bot", "access_token": INSTALLED_TOKEN, "bot_user_id": "UBOT2",
                    "team": {"id": "T2", "name": "Two"}, "enterprise": None, "is_enterprise_install": False}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url} if token.startswith("xapp-") else {"ok": False,
                                                                                          "error": "invalid_auth"}
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": TEAM, "team": "Test", "user": "triage",
                    "url": "https://test.slack.com/"}
        if method == "chat.postMessage":
            ts = self.next_ts()
            return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts, "text": body.get("text")}}
        if method == "chat.update":
            return {"ok": True, "channel": channel, "ts": body.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}
        if method == "chat.getPermalink":
            return {"ok": True, "permalink": f"https://test.slack.com/archives/{channel}/p{body.get('message_ts')}"}
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": "V1"}}
        if method == "conversations.replies":
            return {"ok": True, "messages": self.threads.get((channel, body.get("ts", "")), [])}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{body.get('users', 'U')}"}}
        if method == "files.info":
            info, _ = self.files.get(body.get("file", ""), ({}, b""))
            return {"ok": bool(info), "file": info} if info else {"ok": False, "error": "file_not_found"}
        return {"ok": True}


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like slack.com; every response has a Content-Length

        def setup(self) -> None:
            super().setup()
            # headers and body go out in two writes; without this, Nagle's algorithm holds the body
            # back until the client's delayed ACK (40 ms) on a kept-alive connection
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with fake._lock:
                fake.connections += 1
                fake._sockets.append(self.connection)

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None,
                  content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # file downloads, and the call log for out-of-process users (benchmarks)
            if self.path.split("?")[0] == "/__calls":  # ?since=N: calls after the first N; &wait=S: long-poll
                query = parse_qs(self.path.partition("?")[2])
                since, wait = int(query.get("since", ["0"])[0]), float(query.get("wait", ["0"])[0])
                with fake._lock:
                    fake._arrived.wait_for(lambda: len(fake.calls) > since, timeout=wait)
                    log = [{"method": c.method, "thread_ts": c.body.get("thread_ts"), "at": c.at}
                           for c in fake.calls[since:]]
                self._send(200, json.dumps(log).encode())
                return
            parts = self.path.split("/")
            if len(parts) >= 3 and parts[1] == "files-pri":
                if self.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
                    self._send(302, b"", {"Location": "https://test.slack.com/login"}, "text/html")
                    return
                _, content = fake.files.get(parts[2], ({}, b""))
                self._send(200, content, content_type="text/plain")
                return
            self._send(404, b"{}")

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
            method = self.path.split("?")[0].rsplit("/", 1)[-1]
            if self.headers.get("Content-Type", "").startswith("application/json"):
                body = json.loads(raw or b"{}")
            else:
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            with fake._lock:
                fake.calls.append(Call(method, body, dict(self.headers), time.monotonic()))
                fake._arrived.notify_all()
                failure = fake.failures.get(method, []).pop(0) if fake.failures.get(method) else None
            if failure:
                status, headers = failure
                error = "ratelimited" if status == 429 else "internal_error"
                self._send(status, json.dumps({"ok": False, "error": error}).encode(), headers)
                return
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            self._send(200, json.dumps(fake.answer(method, body, token)).encode())

    return Handler


@pytest.fixture
def fake_slack():
    fake = FakeSlack()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{timestamp}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlackStack:
    """The real app served by uvicorn; helpers send signed Slack payloads to it."""

    def __init__(self, app: Any, fake: FakeSlack):
        self.fake = fake
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)
        self._events = itertools.count(1)

    def close(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(timeout=5)

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None,
             signed: bool = True) -> httpx.Response:
        all_headers = {"Content-Type": content_type, **(sign(body) if signed else {}), **(headers or {})}
        return self.http.post("/slack/events", content=body.encode(), headers=all_headers)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None) -> httpx.Response:
        body = json.dumps({
            "token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._events):06d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}], "event": event,
        })
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(body, "application/json", headers)

    def command(self, text: str, channel: str = "CSUP", user: str = "U1") -> httpx.Response:
        form = urlencode({
            "token": "x", "team_id": TEAM, "channel_id": channel, "user_id": user, "command": "/triage",
            "text": text, "response_url": f"{self.fake.url}/response/1", "trigger_id": "111.222.abc",
        })
        return self.post(form, "application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        return self.post("payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded")


class FakeSocketMode:
    """A Socket Mode websocket endpoint: says hello, pushes envelopes, records the client's acks."""

    def __init__(self) -> None:
        from websockets.sync.server import serve

        self.acks: list[dict[str, Any]] = []
        self._outbox: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._server = serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handle(self, websocket: Any) -> None:
        websocket.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}))
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._outbox), timeout=0.1)
                pending, self._outbox = self._outbox, []
            try:
                for envelope in pending:
                    websocket.send(json.dumps(envelope))
                while True:
                    message = websocket.recv(timeout=0.05)
                    data = json.loads(message) if isinstance(message, str) else {}
                    if "envelope_id" in data:
                        self.acks.append(data)
            except TimeoutError:
                continue
            except Exception:
                return

    def push(self, envelope: dict[str, Any]) -> None:
        with self._cond:
            self._outbox.append(envelope)
            self._cond.notify_all()

    def close(self) -> None:
        self._server.shutdown()


def make_settings(fake_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": f"{fake_url}/api/",
        "TRIAGE_WATCH_CHANNELS": "CWATCH",
        "TRIAGE_ESCALATION_TARGET": "S0HUMANS",
        "TRIAGE_SLACK_WORKERS": 4,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def slack_settings(fake_slack):
    return make_settings(fake_slack.url)


@pytest.fixture
def slack_stack(engine, fake_slack):
    """Build the real app over real HTTP against the fake Slack: `slack_stack(settings, db_url, workspace_for)`.

    Everything built is closed at the end of the test.
    """
    from bot.adapters.slack.app import SlackBot
    from bot.adapters.slack.server import asgi_app
    from bot.conversations import Conversations
    from bot.store.db import open_database

    built: list[tuple[SlackStack, Any, Any]] = []

    def make(settings: Settings, db_url: str, workspace_for: Any = None) -> SlackStack:
        db = open_database(db_url)
        bot = SlackBot(settings, Conversations(engine, db, workspace_for))
        stack = SlackStack(asgi_app(bot, db), fake_slack)
        stack.bot = bot
        built.append((stack, bot, db))
        return stack

    yield make
    for stack, bot, db in built:
        stack.close()
        bot.shutdown()
        db.dispose()


@pytest.fixture
def slack(slack_stack, slack_settings, sqlite_url):
    """The real app on a fresh SQLite database with the default test settings."""
    return slack_stack(slack_settings, sqlite_url)


def serve_forever(port: int = 0) -> None:
    """Run the fake on its own (for benchmarks): prints its URL, then serves until killed."""
    fake = FakeSlack()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    print(fake.url, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve_forever()
