"""Every knowledge entry's own cases, and the lint over the whole base."""

from __future__ import annotations

import pytest

from bot.kb.cases import check
from bot.kb.lint import lint
from bot.kb.loader import load_cached
from bot.models import Inbound

REQUIRED_CONCURRENCY = {
    "concurrency.lease-renewal-failed",
    "concurrency.limit-not-enforced",
    "concurrency.limit-not-found",
    "concurrency.slot-acquire-timeout",
    "concurrency.limit-zero",
    "concurrency.slots-leaked",
    "concurrency.awaiting-concurrency-slot",
    "concurrency.slot-lost-during-provisioning",
}


def _cases():
    kb = load_cached(())
    for entry in kb.entries.values():
        for case in entry.cases:
            yield pytest.param(entry.id, case, id=f"{entry.id}::{case.kind}::{case.name}")


@pytest.mark.parametrize(("entry_id", "case"), list(_cases()))
def test_case(engine, entry_id, case):
    result = engine.triage(Inbound(text=case.text, facts=engine.user_facts(case.facts)))
    assert check(case, result) == []


def test_knowledge_base_lints_clean(kb):
    assert lint(kb) == []


def test_required_entries_exist(kb):
    assert set(kb.entries) >= REQUIRED_CONCURRENCY


def test_every_entry_has_all_three_case_kinds(kb):
    for entry in kb.entries.values():
        kinds = {c.kind for c in entry.cases}
        assert kinds == {"fires", "near-miss", "asks"}, entry.id


def test_required_facts_and_values_are_in_the_vocabulary(kb):
    contract = {
        "deployment": {"cloud", "self-hosted"},
        "log_source": {"flow", "task", "worker"},
        "mechanism": {"tag", "global", "deployment", "work-pool", "work-queue", "none"},
        "worker_type": {"process", "docker", "kubernetes", "ecs", "cloud-run", "managed", "serve"},
    }
    for name, values in contract.items():
        assert {v.value for v in kb.vocabulary[name].values} == values
        assert kb.vocabulary[name].question
    assert kb.vocabulary["prefect_version"].kind.value == "version"
