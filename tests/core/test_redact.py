"""Redaction: no secret format survives; diagnostic context does."""

from __future__ import annotations

import pytest

from bot.redact import redact

SECRETS = {
    "prefect user key": ("PREFECT_API_KEY=pnu_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "pnu_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    "prefect bot key in prose": ("my key is pnb_Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0 ok", "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0"),
    "slack bot token": ("token xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp", "AbCdEfGhIjKlMnOp"),
    "slack app token": ("SLACK_APP_TOKEN: xapp-1-A0123-456-abcdef0123456789", "abcdef0123456789"),
    "slack webhook": ("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX", "XXXXXXXXXXXXXXXX"),
    "bearer header": ("-H 'Authorization: Bearer eyabc.defghijk.lmnopqrs123'", "eyabc.defghijk.lmnopqrs123"),
    "basic header": ("Authorization: Basic YWRtaW46aHVudGVyMg==", "YWRtaW46aHVudGVyMg=="),
    "password in db url": (
        "PREFECT_SERVER_DATABASE_CONNECTION_URL=postgresql+asyncpg://prefect:Hunter2Secret@db:5432/prefect",
        "Hunter2Secret",
    ),
    "password in redis url": ("redis://:s3cr3tpass@redis:6379/0", "s3cr3tpass"),
    "token in query": ("https://example.com/hook?token=abcd1234efgh5678&x=1", "abcd1234efgh5678"),
    "aws access key": ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    "aws secret": ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG"),
    "json password": ('{"user": "x", "password": "correct-horse-battery"}', "correct-horse-battery"),
    "yaml secret": ("  client_secret: 9f8e7d6c5b4a3210", "9f8e7d6c5b4a3210"),
    "auth string": ('PREFECT_API_AUTH_STRING="admin:pass123word"', "pass123word"),
    "github token": ("git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x/y", "ghp_abcdefghijklmnop"),
    "gitlab token": ("oauth2:glpat-AbCdEfGhIjKlMnOpQrSt@gitlab.com", "glpat-AbCdEfGhIjKlMnOpQrSt"),
    "jwt": ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "dozjgNryP4J3"),
    "private key": ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----", "MIIEvQIBADAN"),
    "generic token var": ("MY_SERVICE_TOKEN=tok_live_123456789", "tok_live_123456789"),
}


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_no_secret_survives(name: str):
    text, secret = SECRETS[name]
    result = redact(f"before\n{text}\nafter")
    assert secret not in result.text
    assert "[REDACTED]" in result.text
    assert result.text.startswith("before\n") and result.text.endswith("\nafter")


def test_all_secrets_at_once():
    blob = "\n".join(text for text, _ in SECRETS.values())
    result = redact(blob)
    for text, secret in SECRETS.values():
        assert secret not in result.text, text
    assert result.count >= len(SECRETS)


def test_cloud_account_and_workspace_ids_stay():
    url = (
        "https://api.prefect.cloud/api/accounts/0f0e1234-1111-2222-3333-444455556666/"
        "workspaces/9a9b9c9d-1111-2222-3333-444455556666/flows/"
    )
    assert redact(url).text == url


def test_log_lines_without_secrets_are_untouched():
    line = (
        "13:17:53.102 | ERROR | Flow run 'emerald-ibex' - Concurrency lease renewal failed - slots are no "
        "longer reserved. Terminating execution to prevent over-allocation. Lease ID: 8e460370-1a27-48df, "
        "exception: Client error '410 Gone' for url 'http://127.0.0.1:4312/api/v2/concurrency_limits/leases/x/renew'"
    )
    assert redact(line).text == line
    assert redact("task_key: my-task, cache_key: null").text == "task_key: my-task, cache_key: null"
