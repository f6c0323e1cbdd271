"""End to end: `Engine.triage` looks facts up in the seeded workspace instead of asking."""

from __future__ import annotations

import pytest

from bot.models import FactSource, Inbound
from bot.triage import Engine
from bot.workspace.prefect import PrefectWorkspace
from tests.fakes.prefect_server import Seed

pytestmark = pytest.mark.prefect_server


def test_tagged_tasks_that_never_start_are_a_leaked_tag_slot(patient_engine: Engine, seeded: PrefectWorkspace) -> None:
    result = patient_engine.triage(Inbound(text="tasks tagged db-write never start"), seeded)
    assert result.entry == "concurrency.slots-leaked"
    assert result.facts["mechanism"].value == "tag"
    assert result.facts["mechanism"].source is FactSource.WORKSPACE
    assert result.facts["tag_name"].value == "db-write"
    assert result.facts["deployment"].source is FactSource.WORKSPACE
    assert "deployment" not in result.questions and "mechanism" not in result.questions
    reply = result.reply.markdown()
    assert "db-write" in reply and "--active-slots" in reply
    assert "prefect gcl update 'tag:db-write' --active-slots 0" in reply
    assert "I checked your workspace" in reply


def test_a_pasted_run_id_is_diagnosed_from_its_own_logs(
    patient_engine: Engine, seeded: PrefectWorkspace, seeded_workspace: Seed
) -> None:
    run_id = seeded_workspace.ids["crashed"]
    result = patient_engine.triage(Inbound(text=f"flow run {run_id} crashed last night, any idea?"), seeded)
    assert result.entry == "concurrency.lease-renewal-failed"
    assert result.diagnosis == "self-hosted-deployment-limit"
    assert {name: result.facts[name].value for name in ("deployment", "mechanism", "flow_run_id")} == {
        "deployment": "self-hosted", "mechanism": "deployment", "flow_run_id": run_id,
    }
    assert result.facts["mechanism"].source is FactSource.WORKSPACE
    assert result.questions == []
    assert "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE" in result.reply.markdown()


def test_late_runs_in_a_paused_pool(patient_engine: Engine, seeded: PrefectWorkspace) -> None:
    result = patient_engine.triage(Inbound(text="runs in etl-pool stay Late"), seeded)
    assert result.entry == "worker.late-runs"
    assert result.facts["pool_name"].value == "etl-pool"
    assert result.facts["worker_type"].value == "process"
    assert result.facts["worker_type"].source is FactSource.WORKSPACE
    assert result.questions == []  # the worker type came from the pool
    reply = result.reply.markdown()
    assert "I checked work pool `etl-pool`" in reply
    assert "It is **paused**" in reply
    assert "prefect work-pool resume 'etl-pool'" in reply
    assert "No worker is online" in reply


def test_without_the_workspace_the_same_question_asks(engine: Engine) -> None:
    result = engine.triage(Inbound(text="runs in etl-pool stay Late"))
    assert result.entry == "worker.late-runs"
    assert result.questions == ["worker_type"]
    assert "I checked work pool" not in result.reply.markdown()
