"""Fact inference from pasted text, answer parsing, and precedence."""

from __future__ import annotations

import pytest

from bot.facts import FactInference, merge
from bot.models import Fact, FactSource


@pytest.fixture(scope="module")
def inference(kb) -> FactInference:
    return FactInference(kb)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PREFECT_API_URL=https://api.prefect.cloud/api/accounts/x/workspaces/y", "cloud"),
        ("url 'https://api.prefect.cloud/api/accounts/0f0e1234-1111-2222-3333-444455556666/workspaces/", "cloud"),
        ("Server type:         cloud", "cloud"),
        ("client error for url 'http://prefect-server:4200/api/v2/concurrency_limits/'", "self-hosted"),
        ("we are self hosted on k8s", "self-hosted"),
        ("Server type:         server", "self-hosted"),
        ("13:00 | WARNING | prefect.server.services.repossessor - Lease x should be revoked", "self-hosted"),
    ],
)
def test_deployment_inferred(inference, text, expected):
    facts = inference.infer(text)
    assert facts["deployment"].value == expected
    assert facts["deployment"].source is FactSource.TEXT
    assert facts["deployment"].evidence


def test_conflicting_hints_leave_a_fact_unknown(inference):
    text = "moved from https://api.prefect.cloud/api/accounts/a/workspaces/b to http://prefect:4200/api"
    assert "deployment" not in inference.infer(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13:15:56.347 | WARNING | Flow run 'spiritual-oriole' - Concurrency lease renewal failed", "flow"),
        ("13:18:19.925 | INFO    | Task run 'tagged_work-49b' - Finished in state Completed()", "task"),
        ("13:17:49.881 | WARNING | prefect.concurrency - Attempt 1 of function 'concurrency lease renewal'", "worker"),
        ("12:11:28 AM\nprefect.flow_runs\nOpening process...", "flow"),
    ],
)
def test_log_source_inferred(inference, text, expected):
    assert inference.infer(text)["log_source"].value == expected


@pytest.mark.parametrize(
    ("text", "mechanism", "name", "value"),
    [
        ('with concurrency("db-global", occupy=1):', "global", "limit_name", "db-global"),
        ('@task(tags=["db-write"])\ndef write(): ...', "tag", "tag_name", "db-write"),
        ("prefect gcl inspect tag:etl-load", "tag", "tag_name", "etl-load"),
        ("the run is in AwaitingConcurrencySlot", "deployment", None, None),
        ("We have set a deployment concurrency limit of 1", "deployment", None, None),
        ("we only have a work pool concurrency limit", "work-pool", None, None),
    ],
)
def test_mechanism_and_names_inferred(inference, text, mechanism, name, value):
    facts = inference.infer(text)
    assert facts["mechanism"].value == mechanism
    if name:
        assert facts[name].value == value


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("Version:             3.4.14\nAPI version:         0.8.4", "3.4.14"),
        ("we're on 3.6.20 and it still happens", "3.6.20"),
        ("Since updating to 3.4.14 (from 3.0.3)", "3.4.14"),
        ("pip install prefect==3.9.1", "3.9.1"),
    ],
)
def test_version_inferred(inference, text, version):
    assert inference.infer(text)["prefect_version"].value == version


def test_hostile_names_are_not_accepted(inference):
    facts = inference.infer('@task(tags=["<!channel>"])  concurrency("`rm -rf`")')
    assert "tag_name" not in facts and "limit_name" not in facts


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("we're self-hosted", {"deployment": "self-hosted"}),
        ("Prefect Cloud", {"deployment": "cloud"}),
        ("we use a global concurrency limit", {"mechanism": "global"}),
        ("in the flow logs", {"log_source": "flow"}),
        ("3.4.14", {"prefect_version": "3.4.14"}),
        ("self hosted, deployment limit, task logs, 3.6.1", {
            "deployment": "self-hosted", "mechanism": "deployment", "log_source": "task", "prefect_version": "3.6.1",
        }),
        ("no idea", {}),
    ],
)
def test_typed_answers_fill_several_questions(inference, answer, expected):
    pending = ["deployment", "mechanism", "log_source", "prefect_version"]
    assert inference.parse_answer(answer, pending) == expected


def test_user_answers_beat_workspace_beat_text():
    text = Fact(name="deployment", value="cloud", source=FactSource.TEXT)
    looked = Fact(name="deployment", value="self-hosted", source=FactSource.WORKSPACE)
    said = Fact(name="deployment", value="cloud", source=FactSource.USER)
    assert merge({"deployment": text}, {"deployment": looked})["deployment"] is looked
    assert merge({"deployment": said}, {"deployment": looked})["deployment"] is said
