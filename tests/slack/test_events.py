"""The Slack app end to end: signed HTTP in, threaded Block Kit replies out, exactly once."""

from __future__ import annotations

import json
import time

from tests.fakes.slack_api import BOT_USER, sign

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


def mention(text: str, ts: str = "1700000000.000100", channel: str = "CSUP", thread_ts: str | None = None) -> dict:
    event = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> {text}", "ts": ts, "channel": channel}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(text: str, ts: str, channel: str = "CWATCH", thread_ts: str | None = None, **extra: object) -> dict:
    event = {"type": "message", "user": "U1", "text": text, "ts": ts, "channel": channel, "channel_type": "channel"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    event.update(extra)
    return event


def all_sent(fake) -> str:
    return "\n".join(call.text() for call in fake.calls)


def test_url_verification_and_signatures(slack):
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    ok = slack.post(body, "application/json")
    assert ok.status_code == 200 and ok.json()["challenge"] == "abc123"
    assert slack.post(body, "application/json", signed=False).status_code == 401
    forged = slack.post(body, "application/json", headers=sign(body, secret="wrong"))
    assert forged.status_code == 401
    stale = slack.post(body, "application/json", headers=sign(body, timestamp=int(time.time()) - 600))
    assert stale.status_code == 401


def test_healthz(slack):
    response = slack.http.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] is True


def test_mention_gets_threaded_reply_with_question_buttons(slack, fake_slack):
    assert slack.event(mention(LEASE)).status_code == 200
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    post = fake_slack.posts()[0].body
    assert post["thread_ts"] == "1700000000.000100" and post["channel"] == "CSUP"
    actions = [b for b in post["blocks"] if b["type"] == "actions"]
    question_ids = {b["block_id"] for b in actions}
    assert {"q:deployment", "q:mechanism", "feedback"} <= question_ids
    buttons = [e["action_id"] for b in actions for e in b["elements"]]
    assert "answer:deployment:self-hosted" in buttons and "feedback:escalated" in buttons
    assert post["blocks"][0]["type"] == "header" and "lease renewal" in post["blocks"][0]["text"]["text"].lower()


def test_button_click_updates_the_reply_in_place(slack, fake_slack):
    slack.event(mention(LEASE))
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    reply_ts = "1800000001.000100"
    payload = {
        "type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U2"}, "channel": {"id": "CSUP"},
        "message": {"ts": reply_ts, "thread_ts": "1700000000.000100", "text": "x"},
        "container": {"type": "message", "message_ts": reply_ts, "channel_id": "CSUP"},
        "actions": [{"action_id": "answer:deployment:self-hosted", "value": "self-hosted", "block_id": "q:deployment"}],
        "response_url": f"{fake_slack.url}/response/2", "trigger_id": "1.2.3",
    }
    assert slack.interaction(payload).status_code == 200
    assert fake_slack.wait_for(lambda: len(fake_slack.of("chat.update")) == 1)
    update = fake_slack.of("chat.update")[0].body
    assert update["ts"] == reply_ts
    text = json.dumps(update["blocks"])
    assert "leases lost on a self-hosted server" in text and "deployment by <@U2>" in text
    assert "q:deployment" not in text and "q:mechanism" in text
    assert len(fake_slack.posts()) == 1  # refined in place, no new post


def test_typed_answer_in_thread_refines_the_diagnosis(slack, fake_slack):
    slack.event(mention(LEASE))
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    slack.event(message("we're self-hosted and use a global limit", "1700000001.000200", channel="CSUP",
                        thread_ts="1700000000.000100"))
    assert fake_slack.wait_for(lambda: len(fake_slack.of("chat.update")) == 1)
    update = json.dumps(fake_slack.of("chat.update")[0].body)
    assert "self-hosted server lost the lease of a concurrency() block" in update
    assert "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE" in update
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 2)
    assert "Updated the diagnosis above" in fake_slack.posts()[1].body["text"]


def test_retries_and_duplicate_events_reply_once(slack, fake_slack):
    event = mention(LEASE, ts="1700000000.000300")
    slack.event(event, event_id="EvSAME")
    slack.event(event, event_id="EvSAME", retry=1)
    slack.event(event, event_id="EvSAME", retry=2)
    # the same post also arrives as a `message` event in a watched channel: still one reply
    slack.event(message(f"<@{BOT_USER}> {LEASE}", "1700000000.000300", channel="CSUP"), event_id="EvOTHER")
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) >= 1)
    time.sleep(0.5)
    assert len(fake_slack.posts()) == 1


def test_chatter_in_watched_channel_gets_no_reply(slack, fake_slack):
    for i, text in enumerate(["thanks everyone!", "How do I set a global concurrency limit from Python?",
                              "lol yes, been there"]):
        assert slack.event(message(text, f"1700000100.00{i}")).status_code == 200
    slack.event(message(LEASE, "1700000200.000100"))  # a real warning in the same channel does get one
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    time.sleep(0.3)
    assert len(fake_slack.posts()) == 1 and fake_slack.posts()[0].body["thread_ts"] == "1700000200.000100"


def test_unwatched_channel_and_bot_messages_are_ignored(slack, fake_slack):
    slack.event(message(LEASE, "1700000300.000100", channel="COTHER"))
    slack.event(message(LEASE, "1700000300.000200", bot_id="B999", subtype="bot_message"))
    slack.event(message(LEASE, "1700000300.000300", subtype="channel_join"))
    time.sleep(0.8)
    assert fake_slack.posts() == []


def test_edited_message_is_not_answered_twice(slack, fake_slack):
    slack.event(message(LEASE, "1700000400.000100"))
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    edit = {"type": "message", "subtype": "message_changed", "channel": "CWATCH", "ts": "1700000401.000000",
            "message": {"type": "message", "user": "U1", "text": LEASE + " (edited)", "ts": "1700000400.000100"}}
    assert slack.event(edit).status_code == 200
    time.sleep(0.5)
    assert len(fake_slack.posts()) == 1


def test_slash_command_with_text_and_without(slack, fake_slack):
    response = slack.command(LEASE)
    assert response.status_code == 200 and "Triaging" in response.text
    assert fake_slack.wait_for(lambda: len(fake_slack.of("chat.update")) == 1)
    placeholder = fake_slack.posts()[0].body
    assert placeholder["channel"] == "CSUP" and "thread_ts" not in placeholder
    assert "Concurrency lease renewal failed" in json.dumps(fake_slack.of("chat.update")[0].body)

    empty = slack.command("")
    assert empty.status_code == 200
    assert fake_slack.wait_for(lambda: len(fake_slack.of("views.open")) == 1)
    view = fake_slack.of("views.open")[0].body["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "triage_paste" and view["private_metadata"] == "CSUP"


def test_modal_submission_triages_the_paste(slack, fake_slack):
    payload = {
        "type": "view_submission", "team": {"id": "T1"}, "user": {"id": "U1"},
        "view": {"id": "V1", "type": "modal", "callback_id": "triage_paste", "private_metadata": "CSUP",
                 "state": {"values": {"paste": {"text": {"type": "plain_text_input", "value": LEASE}}}}},
    }
    assert slack.interaction(payload).status_code == 200
    assert fake_slack.wait_for(lambda: len(fake_slack.of("chat.update")) == 1)
    assert "deployment" in json.dumps(fake_slack.of("chat.update")[0].body)


def test_shared_log_file_is_downloaded_and_triaged(slack, fake_slack):
    fake_slack.add_file("F1", "worker.log", ("noise\n" * 1000 + LEASE + "\n").encode())
    event = message("here's the worker log", "1700000500.000100", channel="DUSER", subtype="file_share",
                    channel_type="im", files=[{"id": "F1"}])
    slack.event(event)
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    assert fake_slack.of("files.info")[0].body["file"] == "F1"
    assert "Concurrency lease renewal failed" in json.dumps(fake_slack.posts()[0].body["blocks"])


def test_secrets_and_broadcasts_never_reach_slack(slack, fake_slack):
    nasty = (LEASE + "\nPREFECT_API_KEY=pnu_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8 <!channel> <!here> <@U999> "
             '\n@task(tags=["<!everyone>"])\nhttp://admin:hunter22@prefect:4200/api')
    slack.event(mention(nasty, ts="1700000600.000100"))
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    sent = all_sent(fake_slack)
    for bad in ("a1B2c3D4e5F6g7H8", "hunter22", "<!channel>", "<!here>", "<!everyone>", "<@U999>"):
        assert bad not in sent


def test_postmessage_429_is_retried_and_delivered(slack, fake_slack):
    fake_slack.fail("chat.postMessage", 429, times=1, retry_after=1)
    slack.event(mention(LEASE, ts="1700000700.000100"))
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 2, timeout=20)
    first, second = fake_slack.posts()
    assert second.at - first.at >= 0.9
    assert second.body["thread_ts"] == "1700000700.000100"


def test_ask_a_human_mentions_the_escalation_target(slack, fake_slack):
    slack.event(mention(LEASE, ts="1700000800.000100"))
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    payload = {
        "type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U2"}, "channel": {"id": "CSUP"},
        "message": {"ts": "1800000001.000100", "thread_ts": "1700000800.000100"},
        "actions": [{"action_id": "feedback:escalated", "value": "escalated", "block_id": "feedback"}],
    }
    slack.interaction(payload)
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 2)
    text = fake_slack.posts()[1].body["text"]
    assert text.startswith("<!subteam^S0HUMANS>") and "concurrency.lease-renewal-failed" in text
    assert fake_slack.posts()[1].body["thread_ts"] == "1700000800.000100"


def test_app_home_shows_recent_triages(slack, fake_slack):
    slack.event(mention(LEASE, ts="1700000900.000100"))
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    assert fake_slack.wait_for(lambda: len(fake_slack.of("views.publish")) == 1)
    view = fake_slack.of("views.publish")[0].body["view"]
    view = json.loads(view) if isinstance(view, str) else view
    text = json.dumps(view)
    assert "Recent triages" in text and "concurrency.lease-renewal-failed" in text and "Waiting for answers" in text


def test_message_shortcut_triages_that_message_once(slack, fake_slack):
    payload = {
        "type": "message_action", "callback_id": "triage_message", "team": {"id": "T1"}, "user": {"id": "U3"},
        "channel": {"id": "CSUP"}, "message": {"type": "message", "user": "U1", "text": LEASE, "ts": "1700004000.000100"},
        "response_url": f"{fake_slack.url}/response/3", "trigger_id": "4.5.6",
    }
    assert slack.interaction(payload).status_code == 200
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    assert fake_slack.posts()[0].body["thread_ts"] == "1700004000.000100"
    slack.interaction(payload)  # asked again: told it was already done, no second reply
    assert fake_slack.wait_for(lambda: len(fake_slack.of("chat.postEphemeral")) == 1)
    assert len(fake_slack.posts()) == 1


def test_mention_in_a_thread_reads_the_threads_first_message(slack, fake_slack):
    fake_slack.threads[("CSUP", "1700005000.000100")] = [
        {"type": "message", "user": "U1", "text": LEASE, "ts": "1700005000.000100"}
    ]
    slack.event(mention("can you look at this?", ts="1700005001.000100", thread_ts="1700005000.000100"))
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    post = fake_slack.posts()[0].body
    assert post["thread_ts"] == "1700005000.000100"
    assert "lease renewal" in json.dumps(post["blocks"]).lower()


def test_without_an_escalation_target_nobody_is_pretend_paged(engine, fake_slack, sqlite_url, slack_stack):
    from tests.fakes.slack_api import make_settings

    stack = slack_stack(make_settings(fake_slack.url, TRIAGE_ESCALATION_TARGET=None), sqlite_url)
    stack.event(mention(LEASE, ts="1700006000.000100"))
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    buttons = json.dumps(fake_slack.posts()[0].body["blocks"])
    assert "feedback:escalated" not in buttons  # no "Ask a human" button without a target
    stack.event(message("please get a human to look at this", "1700006001.000100", channel="CSUP",
                        thread_ts="1700006000.000100"))
    assert fake_slack.wait_for(lambda: len(fake_slack.of("chat.postEphemeral")) == 1)
    assert "No escalation target is configured" in fake_slack.of("chat.postEphemeral")[0].body["text"]
    assert len(fake_slack.posts()) == 1


def test_every_message_subtype_is_acknowledged(slack):
    for i, subtype in enumerate(["message_deleted", "channel_join", "bot_message", "message_replied", "thread_broadcast"]):
        response = slack.event(message("x", f"1700007000.00{i}", subtype=subtype))
        assert response.status_code == 200, subtype


def test_large_shared_file_keeps_its_tail_within_the_cap(engine, fake_slack, sqlite_url, slack_stack):
    from tests.fakes.slack_api import make_settings

    stack = slack_stack(make_settings(fake_slack.url, TRIAGE_MAX_FILE_BYTES=200_000), sqlite_url)
    fake_slack.add_file("F9", "huge.log", ("12:00 INFO all good\n" * 200_000 + LEASE + "\n").encode())
    stack.event(message("full worker log attached", "1700010000.000100", channel="DUSER", subtype="file_share",
                        channel_type="im", files=[{"id": "F9"}]))
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    assert "Concurrency lease renewal failed" in json.dumps(fake_slack.posts()[0].body["blocks"])


def test_events_with_bad_or_stale_signatures_are_rejected_before_anything_runs(slack, fake_slack):
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "EvBad",
                       "event": mention(LEASE, ts="1700011000.000100")})
    assert slack.post(body, "application/json", headers=sign(body, secret="wrong")).status_code == 401
    assert slack.post(body, "application/json", headers=sign(body, timestamp=int(time.time()) - 600)).status_code == 401
    assert slack.post(body, "application/json", signed=False).status_code == 401
    time.sleep(0.5)
    assert fake_slack.posts() == []
