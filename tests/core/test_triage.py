"""The triage pipeline end to end through `Engine.triage`: the issue's acceptance cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conditions import holds, version_lt
from bot.models import Inbound
from bot.render import escape_value

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."
SEED = Path(__file__).resolve().parents[2] / "tests" / "core" / "seed_question.txt"


def run(engine, text, **facts):
    return engine.triage(Inbound(text=text, facts=engine.user_facts(facts)))


def test_bare_warning_names_entry_and_asks_deployment_and_mechanism(engine):
    result = run(engine, LEASE)
    assert result.entry == "concurrency.lease-renewal-failed"
    assert result.questions == ["deployment", "mechanism"]
    reply = result.reply.markdown()
    assert "Are you on Prefect Cloud or a self-hosted" in reply
    # "Terminating execution" rules out tag limits: only the two possible mechanisms are offered
    options = {q.fact: [o.value for o in q.options] for q in result.reply.questions}
    assert options["mechanism"] == ["global", "deployment"]


def test_all_facts_known_asks_nothing_and_names_the_setting(engine):
    result = run(engine, LEASE, deployment="self-hosted", mechanism="global", log_source="flow")
    assert result.questions == []
    assert result.diagnosis == "self-hosted-global-limit"
    reply = result.reply.markdown()
    assert "concurrency(" in reply and "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE" in reply
    assert any("concurrency(" in s.code for s in result.reply.snippets)


def test_cloud_picks_another_diagnosis_and_no_server_setting(engine):
    self_hosted = run(engine, LEASE, deployment="self-hosted", mechanism="global", log_source="flow")
    cloud = run(engine, LEASE, deployment="cloud", mechanism="global", log_source="flow")
    assert cloud.diagnosis != self_hosted.diagnosis
    reply = cloud.reply.markdown()
    assert "PREFECT_SERVER_" not in reply and "lease_storage" not in reply


def test_tag_mechanism_shows_task_tags_and_active_slots_fix(engine):
    result = run(engine, LEASE, mechanism="tag", deployment="self-hosted")
    reply = result.reply.markdown()
    assert "@task(tags=" in reply and "--active-slots 0" in reply
    assert "concurrency-limit reset" in reply  # and says why reset is not enough


def test_users_own_names_fill_the_snippets(engine):
    text = LEASE.replace("Terminating execution to prevent", "Execution will continue, but") + (
        '\nwith concurrency("warehouse-writes"): ...\nhttp://prefect.internal:4200/api'
    )
    result = run(engine, text)
    assert result.facts["limit_name"].value == "warehouse-writes"
    assert result.diagnosis == "self-hosted-global-limit"
    assert "prefect gcl update 'warehouse-writes' --active-slots 0" in result.reply.markdown()


def test_seed_thread_question_is_answered_without_the_three_questions(engine):
    # The seed thread ended by asking: concurrency() context? flow or task logs? Cloud or self-hosted?
    text = SEED.read_text()
    result = run(engine, text)
    assert result.entry == "concurrency.lease-renewal-failed"
    assert result.facts["deployment"].value == "self-hosted"
    assert result.facts["mechanism"].value == "global"
    assert result.questions == []
    assert "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE" in result.reply.markdown()


def test_chatter_gives_no_entry(engine):
    for text in ["thanks everyone!", "Thanks for the quick help yesterday!", "lol yes, been there"]:
        result = run(engine, text)
        assert result.entry is None
        assert result.public()["entry"] is None


def test_unprompted_weak_match_stays_silent(engine):
    text = "our concurrency lease expired yesterday, anyone else?"
    prompted = engine.triage(Inbound(text=text))
    unprompted = engine.triage(Inbound(text=text, unprompted=True))
    assert unprompted.entry is None and unprompted.reply is None
    assert prompted.reply is not None


def test_unmatched_prompted_message_says_so_and_asks_for_logs(engine):
    result = run(engine, "my flow is weird today, it does something odd")
    assert result.entry is None
    assert "don't recognise" in result.reply.markdown()
    assert "prefect version" in result.reply.markdown()


def test_secrets_never_reach_the_reply_or_facts(engine):
    text = LEASE + "\nPREFECT_API_KEY=pnu_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8\nhttp://u:pw12345@prefect:4200/api"
    result = run(engine, text)
    blob = result.model_dump_json()
    assert "a1B2c3D4e5F6" not in blob and "pw12345" not in blob


def test_mentions_in_pasted_text_never_come_back(engine):
    text = LEASE + ' <!channel> <@U123ABC> with concurrency("<!here>") and @task(tags=["@channel"])'
    reply = run(engine, text).reply.markdown()
    assert "<!channel>" not in reply and "<!here>" not in reply and "<@U" not in reply
    assert "@channel" not in reply


@pytest.mark.parametrize("bad", ["", "\x00\x01binary", b"\xff\xfe\x00\x00" * 100])
def test_bad_input_gets_a_message_not_a_crash(engine, bad):
    result = engine.triage(Inbound(text=bad if isinstance(bad, str) else bad.decode("latin-1")))
    assert result.entry is None and result.problem


def test_unknown_fact_or_value_is_a_clear_error(engine):
    with pytest.raises(ValueError, match="unknown fact"):
        engine.user_facts({"colour": "blue"})
    with pytest.raises(ValueError, match="not a value of deployment"):
        engine.user_facts({"deployment": "mars"})


def test_conditions_are_sandboxed_and_safe():
    assert holds("deployment == 'cloud'", {"deployment": "cloud"})
    assert not holds("deployment == 'cloud'", {"deployment": None})
    assert not holds("().__class__.__bases__[0].__subclasses__()", {})
    assert not holds("missing_fact == 1", {})
    assert version_lt("3.4.14", "3.7.2") and not version_lt(None, "3.7.2") and not version_lt("3.9.1", "3.7.2")


def test_escaping_neutralises_markup():
    assert escape_value("a`b<!here>&@c\nd") == "a'b‹!here›+@\u200bc d"
