"""Take secrets out of pasted text before anything stores, logs, matches or echoes it.

Covers Prefect API keys (`pnu_…`, `pnb_…`), Slack tokens and webhooks, GitHub/GitLab
tokens, bearer and basic credentials, passwords and tokens inside URLs, AWS access keys,
JWTs, private-key blocks and `*_KEY=` / `*_SECRET=` / `PASSWORD:` style assignments
(shell, YAML, JSON, .env). Prefect Cloud account and workspace ids in URLs stay: they help
diagnosis and grant nothing.

All patterns are RE2 (linear time). One RE2 set pass finds which rules apply at all; only
those rules then scan for spans, so clean 10 MB logs cost one pass. This module must not
log or return the secrets it removes.
"""

from __future__ import annotations

from dataclasses import dataclass

import re2

MASK = b"[REDACTED]"

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False

# name -> pattern. Group 1: kept prefix; group 2: the secret; optional group 3: kept suffix.
_RULES: dict[str, bytes] = {
    "prefect-api-key": rb"\b(pn[ub]_)([A-Za-z0-9]{12,})",
    "slack-token": rb"\b(xox[abposre]-|xapp-)([A-Za-z0-9-]{6,})",
    "slack-webhook": rb"(hooks\.slack(?:-gov)?\.com/services/)([A-Za-z0-9/_-]{6,})",
    "github-token": rb"\b(gh[pousr]_|github_pat_)([A-Za-z0-9_]{16,})",
    "gitlab-token": rb"\b(glpat-)([A-Za-z0-9_-]{12,})",
    "aws-access-key": rb"\b()((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16})\b",
    "private-key": rb"(-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----)([A-Za-z0-9+/=\s\\]+)(-----END)",
    "jwt": rb"\b()(eyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,})",
    "bearer": rb"(?i)\b(bearer\s{1,5})([A-Za-z0-9._~+/=-]{8,})",
    "basic-auth": rb"(?i)\b(basic\s{1,5})([A-Za-z0-9+/]{8,}={0,2})",
    "url-password": rb"(?i)\b([a-z][a-z0-9+.-]{1,20}://[^\s:/@]{0,200}:)([^\s@/]{1,300})(@)",
    "url-query-secret": (
        rb"(?i)([?&](?:token|access_token|refresh_token|api_key|apikey|api-key|key|password|pwd|secret"
        rb"|client_secret|sig|signature|auth|code|x-amz-signature|x-amz-credential)=)([^&\s#\"'<>]+)"
    ),
    "assignment": (
        rb"(?i)((?:\b|_)[A-Za-z0-9_.-]{0,60}(?:api[_-]?key|secret|password|passwd|pwd|token|auth_string"
        rb"|credentials?|private[_-]?key|access[_-]?key)[A-Za-z0-9_]{0,30}[\"']?[ \t]{0,3}[=:][ \t]{0,3}[\"']?)"
        rb"([^\s\"',;}{\[\]]+)"
    ),
}

_COMPILED = {name: re2.compile(pattern, _OPTIONS) for name, pattern in _RULES.items()}
_NAMES = list(_RULES)
_SET = re2.Set.SearchSet(_OPTIONS)
for _pattern in _RULES.values():
    _SET.Add(_pattern)
_SET.Compile()

# Values that look like assignments but are not secrets (kept so diagnoses still work).
_HARMLESS_VALUES = {b"[REDACTED]", b"null", b"none", b"true", b"false", b"***", b"<redacted>", b""}


@dataclass(frozen=True)
class Redaction:
    text: str
    count: int
    kinds: tuple[str, ...]


def _apply(name: str, data: bytes) -> tuple[bytes, int]:
    pattern = _COMPILED[name]
    out: list[bytes] = []
    last = 0
    count = 0
    for m in pattern.finditer(data):
        secret = m.group(2)
        if name == "assignment" and (secret.lower() in _HARMLESS_VALUES or secret.startswith(b"$")):
            continue
        start, end = m.span(2)
        if data.startswith(MASK, end) or secret.startswith(MASK):
            continue  # an earlier, more specific rule already masked this value
        out.append(data[last:start])
        out.append(MASK)
        last = end
        count += 1
    if not count:
        return data, 0
    out.append(data[last:])
    return b"".join(out), count


def redact(text: str) -> Redaction:
    """Return `text` with every recognised secret replaced by `[REDACTED]`.

    >>> redact("PREFECT_API_KEY=pnu_abcdefghijklmnopqrstuvwxyz0123456789").text
    'PREFECT_API_KEY=pnu_[REDACTED]'
    """
    data = text.encode("utf-8", errors="surrogatepass")
    hits = _SET.Match(data)
    if not hits:
        return Redaction(text=text, count=0, kinds=())
    total = 0
    kinds: list[str] = []
    for index in sorted(hits):
        name = _NAMES[index]
        data, n = _apply(name, data)
        if n:
            total += n
            kinds.append(name)
    return Redaction(text=data.decode("utf-8", errors="replace"), count=total, kinds=tuple(kinds))
