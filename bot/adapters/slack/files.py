"""Read text log files shared with the bot, safely.

Looks each file up with `files.info`, skips binaries, and streams `url_private_download`
with the bot token, keeping only the head and tail of a file larger than the cap — only from the same host as the
Slack API base URL (or files.slack.com), never following a redirect elsewhere with the
token attached. Returns the decoded text; this module must not triage it.
"""

from __future__ import annotations

import collections
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlparse

from slack_sdk import WebClient

TEXT_TYPES = {"text", "log", "json", "yaml", "yml", "python", "shell", "markdown", "csv", "xml", "javascript", "toml"}
SLACK_FILE_HOSTS = {"files.slack.com", "files.slack-gov.com"}
CHUNK = 1 << 20


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the bearer token must never follow a redirect


def _allowed(url: str, client: WebClient) -> bool:
    host = urlparse(url).hostname or ""
    api_host = urlparse(client.base_url).hostname or ""
    return host in SLACK_FILE_HOSTS or host == api_host


def download(client: WebClient, url: str, max_bytes: int) -> bytes:
    """Stream a file, keeping at most `max_bytes`: its first quarter and its last three quarters
    (errors sit at the end of logs), so memory stays bounded whatever the file's size."""
    if not _allowed(url, client):
        raise ValueError(f"refusing to send the bot token to {urlparse(url).hostname}")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
    opener = urllib.request.build_opener(_NoRedirects)
    head_budget = max_bytes // 4
    tail_budget = max_bytes - head_budget
    head = bytearray()
    tail: collections.deque[bytes] = collections.deque()
    tail_size = 0
    skipped = False
    with opener.open(request, timeout=30) as response:
        while chunk := response.read(CHUNK):
            if len(head) < head_budget:
                take = chunk[: head_budget - len(head)]
                head += take
                chunk = chunk[len(take) :]
            if chunk:
                tail.append(chunk)
                tail_size += len(chunk)
                while tail and tail_size - len(tail[0]) >= tail_budget:
                    tail_size -= len(tail.popleft())
                    skipped = True
    kept = b"".join(tail)
    if len(kept) > tail_budget:
        kept, skipped = kept[-tail_budget:], True
    marker = b"\n[... middle of a large file skipped ...]\n" if skipped else b""
    return bytes(head) + marker + kept


def is_text(info: dict[str, Any]) -> bool:
    mimetype = str(info.get("mimetype", ""))
    filetype = str(info.get("filetype", ""))
    name = str(info.get("name", ""))
    return (
        mimetype.startswith("text/")
        or (mimetype in ("application/json", "application/x-yaml", "application/octet-stream")
            and filetype in TEXT_TYPES)
        or filetype in TEXT_TYPES
        or name.endswith((".log", ".txt", ".out", ".err", ".json", ".yaml", ".yml"))
    )


def read_shared_files(client: WebClient, files: list[dict[str, Any]], *, max_bytes: int) -> str:
    """The text of the shared text files (others are skipped), each cut to the size cap."""
    parts: list[str] = []
    for shared in files[:5]:
        info = client.files_info(file=shared["id"])["file"]
        if not is_text(info):
            continue
        url = info.get("url_private_download") or info.get("url_private")
        if not url:
            continue
        try:
            data = download(client, url, max_bytes)
        except (urllib.error.URLError, ValueError):
            continue
        parts.append(data.decode("utf-8", errors="replace"))
    return "\n\n".join(parts)
