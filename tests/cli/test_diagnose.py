"""`prefect-triage diagnose` and `kb` commands, run as a user runs them."""

from __future__ import annotations

import json

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


def test_diagnose_stdin_json_contract(cli):
    proc = cli("diagnose", "-", "--json", input=LEASE)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result) == {"entry", "confidence", "candidates", "facts", "questions", "diagnosis", "reply"}
    assert result["entry"] == "concurrency.lease-renewal-failed"
    assert result["questions"] == ["deployment", "mechanism"]
    assert result["candidates"][0] == {"entry": "concurrency.lease-renewal-failed", "score": result["confidence"]}


def test_diagnose_with_facts_asks_nothing(cli, tmp_path):
    (tmp_path / "warning.txt").write_text(LEASE)
    args = ["--fact", "deployment=self-hosted", "--fact", "mechanism=global", "--fact", "log_source=flow"]
    result = json.loads(cli("diagnose", "warning.txt", "--json", *args).stdout)
    assert result["questions"] == []
    assert result["facts"]["deployment"] == {"value": "self-hosted", "source": "user"}
    assert "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE" in result["reply"] and "concurrency(" in result["reply"]


def test_diagnose_human_output_is_readable(cli):
    proc = cli("diagnose", input=LEASE)
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert "concurrency.lease-renewal-failed" in out and "Are you on Prefect Cloud" in out


def test_chatter_gives_null_entry(cli):
    result = json.loads(cli("diagnose", "--json", input="thanks everyone!").stdout)
    assert result["entry"] is None


def test_bad_fact_is_a_usage_error(cli):
    proc = cli("diagnose", "--json", "--fact", "deployment=mars", input=LEASE)
    assert proc.returncode == 2
    assert b"not a value of deployment" in proc.stderr


def test_binary_and_empty_input_get_messages(cli):
    for data in (b"\x00\x01\x02\x03" * 100, b""):
        proc = cli("diagnose", "--json", input=data)
        assert proc.returncode == 0
        result = json.loads(proc.stdout)
        assert result["entry"] is None and result["reply"]


def test_batch_prints_one_line_per_case_in_order(cli, tmp_path):
    lines = [
        {"text": LEASE, "facts": {"deployment": "cloud"}},
        {"text": "thanks everyone!"},
        "not json",
        {"text": LEASE, "facts": {"deployment": "mars"}},
        {"text": LEASE, "facts": {"deployment": "self-hosted", "mechanism": "tag"}},
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines))
    proc = cli("diagnose", "--batch", str(path))
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(out) == 5
    assert out[0]["entry"] == "concurrency.lease-renewal-failed" and out[0]["questions"] == ["mechanism"]
    assert out[1]["entry"] is None
    assert "error" in out[2] and "error" in out[3]
    assert out[4]["diagnosis"] == "self-hosted-tag-limit"


def test_kb_show_and_unknown_id(cli):
    shown = cli("kb", "show", "concurrency.lease-renewal-failed")
    assert shown.returncode == 0 and b"self-hosted-in-memory-leases" in shown.stdout
    assert cli("kb", "show", "concurrency.nope").returncode == 1


def test_no_workspace_configured_never_starts_ephemeral_server(cli, tmp_path):
    proc = cli("diagnose", "--json", input=LEASE)
    assert proc.returncode == 0
    assert not (tmp_path / "prefect-home" / "prefect.db").exists()
    assert b"ephemeral" not in proc.stderr.lower()
