"""A Slack `WebClient` that keeps its HTTP connections open between calls.

slack_sdk's urllib transport opens a new connection, and on https a new TLS handshake, for
every Web API call: two extra round trips to slack.com before each reply. This client keeps
one connection per thread and host (Bolt runs listeners on a thread pool) and reuses it;
everything else — request building, response parsing, retry handlers for 429/5xx/connection
errors — stays slack_sdk's, because only the innermost transport step is replaced.

A connection the server has closed while idle is noticed before it is reused (its socket
reads as ready), so a request is never sent twice by this module; errors on a live
connection propagate to slack_sdk's retry handlers after the connection is dropped.
Proxied clients and redirects fall back to slack_sdk's own transport. This module must not
know about listeners or replies.
"""

from __future__ import annotations

import http.client
import io
import select
import socket
import ssl
import threading
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient

_Key = tuple[str, str]


class KeepAliveWebClient(WebClient):
    """`WebClient` with persistent per-thread HTTP/1.1 connections."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._local = threading.local()
        self.connects = 0  # connection attempts, for tests and diagnostics

    # -- connection cache -------------------------------------------------------------

    def _pool(self) -> dict[_Key, http.client.HTTPConnection]:
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        return pool

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool = self._pool()
        conn = pool.get((scheme, netloc))
        if conn is not None and _dropped(conn):
            conn.close()
            conn = None
        if conn is None:
            if scheme == "https":
                context = self.ssl if isinstance(self.ssl, ssl.SSLContext) else ssl.create_default_context()
                conn = http.client.HTTPSConnection(netloc, timeout=self.timeout, context=context)
            else:
                conn = http.client.HTTPConnection(netloc, timeout=self.timeout)
            self.connects += 1
            conn.connect()
            # as urllib3 does: small requests on a kept-alive connection must not wait for Nagle
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pool[(scheme, netloc)] = conn
        return conn

    def _discard(self, key: _Key) -> None:
        conn = self._pool().pop(key, None)
        if conn is not None:
            conn.close()

    # -- the transport step slack_sdk calls ---------------------------------------------

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        parts = urlsplit(url)
        if self.proxy is not None or parts.scheme not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        key = (parts.scheme, parts.netloc)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {name: value for name, value in req.header_items() if name.lower() != "connection"}
        data = req.data if isinstance(req.data, (bytes, bytearray)) or req.data is None else bytes(req.data)
        try:
            conn = self._connection(*key)
            conn.request("POST", target, body=data, headers=headers)
        except OSError as err:  # as urllib does: connect/send failures are URLErrors (retried)
            self._discard(key)
            raise URLError(err) from err
        try:
            resp = conn.getresponse()
            body = resp.read()
        except BaseException:
            self._discard(key)
            raise
        if resp.will_close:
            self._discard(key)
        if 300 <= resp.status < 400:  # Slack's Web API does not redirect; let urllib follow it
            return super()._perform_urllib_http_request_internal(url, req)
        if resp.status >= 400:  # what urllib raises, so slack_sdk's retry handlers see the same
            raise HTTPError(url, resp.status, resp.reason, resp.headers, io.BytesIO(body))
        if resp.headers.get_content_type() == "application/gzip":
            return {"status": resp.status, "headers": resp.headers, "body": body}
        charset = resp.headers.get_content_charset() or "utf-8"
        return {"status": resp.status, "headers": resp.headers, "body": body.decode(charset)}


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """True when an idle kept-alive connection was closed by the server.

    An idle HTTP/1.1 connection has nothing to read; readable means EOF or garbage. (`poll`,
    not `select`: it works for any file descriptor number.)"""
    sock = conn.sock
    if sock is None:
        return False  # not connected yet: `request` connects
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


class KeepAliveClients:
    """One `KeepAliveWebClient` per token, configured like `template` (base URL, timeout,
    retry handlers). Bolt builds a fresh `WebClient` for every request, which would throw
    the kept connections away; a middleware swaps in the one from here instead."""

    def __init__(self, template: WebClient, limit: int = 1000):
        self.template = template
        self.limit = limit
        self._clients: dict[tuple[str | None, str | None], KeepAliveWebClient] = {}
        self._lock = threading.Lock()

    def get(self, token: str | None, team_id: str | None = None) -> KeepAliveWebClient:
        key = (token, team_id)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                if len(self._clients) >= self.limit:  # tokens rotate; never grow without bound
                    self._clients.clear()
                client = self._clients.setdefault(key, self._new(token, team_id))
        return client

    def _new(self, token: str | None, team_id: str | None) -> KeepAliveWebClient:
        t = self.template
        return KeepAliveWebClient(
            token=token,
            base_url=t.base_url,
            timeout=t.timeout,
            ssl=t.ssl,
            proxy=t.proxy,
            headers=dict(t.headers),
            team_id=team_id,
            logger=t.logger,
            retry_handlers=list(t.retry_handlers),
        )
