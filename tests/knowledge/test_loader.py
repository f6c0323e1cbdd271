"""Loading: team knowledge directories, and clear errors for broken entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.lint import lint
from bot.kb.loader import KnowledgeError, load

ENTRY = """
id: team.custom-thing
title: Our custom thing broke
summary: Something of our own.
signatures:
  - pattern: 'ACME-4242 widget exploded'
facts: [deployment]
diagnoses:
  - id: on-cloud
    title: on cloud
    when: "deployment == 'cloud'"
  - id: anywhere
    title: anywhere
"""
TEMPLATE = "{% if diagnosis == 'on-cloud' %}Cloud fix.{% else %}Generic fix for {{ ph(pool_name, '<pool>') }}.{% endif %}"
CASES = """
- {name: fires, kind: fires, text: "ACME-4242 widget exploded", expect: {entry: team.custom-thing}}
- {name: chatter, kind: near-miss, text: "thanks", expect: {entry: null}}
- {name: asks, kind: asks, text: "ACME-4242 widget exploded", expect: {entry: team.custom-thing, questions: [deployment]}}
"""


def write_entry(root: Path, entry: str = ENTRY, template: str = TEMPLATE) -> Path:
    folder = root / "team" / "custom-thing"
    folder.mkdir(parents=True)
    (folder / "entry.yaml").write_text(entry)
    (folder / "reply.md.j2").write_text(template)
    (folder / "cases.yaml").write_text(CASES)
    return folder


def test_team_directory_adds_entries(tmp_path):
    write_entry(tmp_path)
    kb = load([tmp_path])
    assert "team.custom-thing" in kb.entries
    assert "concurrency.lease-renewal-failed" in kb.entries
    assert [p for p in lint(kb) if "team." in p] == []


def test_folder_and_id_must_agree(tmp_path):
    write_entry(tmp_path, ENTRY.replace("team.custom-thing", "team.other"))
    with pytest.raises(KnowledgeError, match="must match its folder"):
        load([tmp_path])


def test_non_re2_pattern_is_rejected(tmp_path):
    write_entry(tmp_path, ENTRY.replace("ACME-4242 widget exploded", "(a)\\\\1(?=b)"))
    with pytest.raises(KnowledgeError, match="not a valid RE2 pattern"):
        load([tmp_path])


def test_template_typo_fails_lint(tmp_path):
    write_entry(tmp_path, template="{{ pool_nmae }}")
    assert any("fails to render" in p for p in lint(load([tmp_path])))


def test_unreachable_diagnosis_and_unknown_fact_fail_lint(tmp_path):
    broken = ENTRY.replace("deployment == 'cloud'", "deployment == 'mars'")
    write_entry(tmp_path, broken)
    assert any("no combination of facts reaches" in p for p in lint(load([tmp_path])))


def test_missing_directory_is_reported(tmp_path):
    with pytest.raises(KnowledgeError, match="does not exist"):
        load([tmp_path / "nope"])


def test_symptoms_must_be_plain_sentences(tmp_path):
    symptoms = (
        "symptoms:\n"
        "  - the ACME widget blew up again after lunch and nobody knows why\n"
        "  - '(?i)widget\\b.*exploded'\n"
        "  - short\n"
        "  - The ACME widget blew up again after lunch and nobody knows why\n"
    )
    write_entry(tmp_path, ENTRY.replace("signatures:", symptoms + "signatures:"))
    problems = [p for p in lint(load([tmp_path])) if "symptom" in p]
    assert len(problems) == 3
    assert any("looks like a pattern" in p for p in problems)
    assert any("10-300 characters" in p for p in problems)
    assert any("repeated" in p for p in problems)


def test_an_entrys_symptoms_make_a_plain_report_resemble_it(tmp_path):
    from bot.config import Settings
    from bot.models import Inbound
    from bot.triage import Engine

    report = "the sprocket feeder overheats the gearbox every night and the conveyor belt fails to restart"
    write_entry(tmp_path)
    assert Engine(load([tmp_path]), Settings(_env_file=None)).triage(Inbound(text=report)).entry is None
    entry = ENTRY.replace("signatures:", "symptoms:\n  - the sprocket feeder overheats the gearbox and the conveyor halts\n"
                                         "signatures:")
    (tmp_path / "team" / "custom-thing" / "entry.yaml").write_text(entry)
    result = Engine(load([tmp_path]), Settings(_env_file=None)).triage(Inbound(text=report))
    assert result.entry == "team.custom-thing"
