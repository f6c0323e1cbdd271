"""Fixtures for the workspace tests: broken APIs, and the "the bot changed nothing" check.

- `dead_url`: a free port nobody listens on (connection refused);
- `silent_url`: a TCP server that accepts connections and never answers (a hung API);
- `status_url(status, retry_after=None)`: an HTTP server answering every request with one
  status (401, 403, 404, 429, 500, 503) and a Prefect-like JSON body;
- `workspace_unchanged`: used by every test that touches the seeded server; snapshots the
  workspace after the test and compares it with the snapshot taken right after seeding.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.config import Settings
from bot.kb.loader import KnowledgeBase
from bot.triage import Engine
from bot.workspace.connection import WorkspaceConfig
from bot.workspace.prefect import PrefectWorkspace
from tests.fakes.prefect_server import Seed, free_port, snapshot

BODIES = {
    401: {"detail": "Invalid authentication credentials"},
    403: {"detail": "Forbidden"},
    404: {"detail": "Not Found"},
    429: {"detail": "Too Many Requests"},
    500: {"exception_message": "Internal Server Error"},
    503: {"detail": "Service Unavailable"},
}


@pytest.fixture
def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/api"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """Accepts every connection and never sends a byte."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except (TimeoutError, OSError):
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/api"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def status_url() -> Iterator[Callable[..., str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(status: int, retry_after: int | None = None) -> str:
        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                body = json.dumps(BODIES.get(status, {"detail": "error"})).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if retry_after is not None:
                    self.send_header("Retry-After", str(retry_after))
                self.end_headers()
                self.wfile.write(body)

            def handle(self) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                    super().handle()

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, format: str, *args: object) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/api"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def workspace_unchanged(seeded_workspace: Seed) -> Iterator[Seed]:
    """The seeded workspace; after the test it must look exactly as it did after seeding."""
    yield seeded_workspace
    assert snapshot(seeded_workspace.url) == seeded_workspace.before, "the bot changed the workspace"


PATIENT = 30.0
"""Deadline for correctness tests against the real server: a loaded CI machine must not make them flaky.
The default deadline (4 s) is exercised by the fault tests and `test_lookup_time`."""


@pytest.fixture
def seeded(workspace_unchanged: Seed) -> PrefectWorkspace:
    """A PrefectWorkspace on the seeded server, with no cache between tests."""
    return PrefectWorkspace(WorkspaceConfig(api_url=workspace_unchanged.url), deadline=PATIENT, cache_seconds=0)


@pytest.fixture(scope="session")
def patient_engine(kb: KnowledgeBase) -> Engine:
    """The engine with a long workspace deadline (see PATIENT)."""
    return Engine(kb, Settings(_env_file=None, workspace_deadline_seconds=PATIENT))
