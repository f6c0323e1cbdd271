"""Read text log files shared with the bot, safely.

Looks each file up with `files.info`, refuses binaries and anything over the size cap, and
downloads `url_private_download` with the bot token — only from the same host as the
Slack API base URL (or files.slack.com), never following a redirect elsewhere with the
token attached. Returns the decoded text; this module must not triage it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlparse

from slack_sdk import WebClient

TEXT_TYPES = {"text", "log", "json", "yaml", "yml", "python", "shell", "markdown", "csv", "xml", "javascript", "toml"}
SLACK_FILE_HOSTS = {"files.slack.com", "files.slack-gov.com"}


class FileTooLarge(Exception):
    pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the bearer token must never follow a redirect


def _allowed(url: str, client: WebClient) -> bool:
    host = urlparse(url).hostname or ""
    api_host = urlparse(client.base_url).hostname or ""
    return host in SLACK_FILE_HOSTS or host == api_host


def download(client: WebClient, url: str, max_bytes: int) -> bytes:
    if not _allowed(url, client):
        raise ValueError(f"refusing to send the bot token to {urlparse(url).hostname}")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
    opener = urllib.request.build_opener(_NoRedirects)
    with opener.open(request, timeout=20) as response:
        data = response.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLarge(f"That file is larger than {max_bytes // 1_000_000} MB; paste the relevant part instead.")
    return data


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
    """The text of the shared text files (others are skipped); raises FileTooLarge."""
    parts: list[str] = []
    for shared in files[:5]:
        info = client.files_info(file=shared["id"])["file"]
        if not is_text(info):
            continue
        if int(info.get("size", 0)) > max_bytes:
            raise FileTooLarge(
                f"{info.get('name', 'That file')} is larger than {max_bytes // 1_000_000} MB; "
                "paste the relevant part instead."
            )
        url = info.get("url_private_download") or info.get("url_private")
        if not url:
            continue
        try:
            data = download(client, url, max_bytes)
        except (urllib.error.URLError, ValueError):
            continue
        parts.append(data.decode("utf-8", errors="replace"))
    return "\n\n".join(parts)
