"""Multi-workspace install: the OAuth flow stores the installation in our database, and
events from the new workspace are answered with that workspace's own token."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

from tests.fakes.slack_api import INSTALLED_TOKEN, make_settings

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


def test_install_then_answer_in_the_new_workspace(engine, fake_slack, db_url, slack_stack):
    settings = make_settings(fake_slack.url, SLACK_BOT_TOKEN=None, SLACK_CLIENT_ID="111.222",
                             SLACK_CLIENT_SECRET="oauth-secret")
    stack = slack_stack(settings, db_url)
    install = stack.http.get("/slack/install")
    assert install.status_code == 200, install.text
    authorize = re.search(r'href="([^"]*/oauth/v2/authorize\?[^"]*)"', install.text).group(1).replace("&amp;", "&")
    assert authorize.startswith(f"{fake_slack.url}/oauth/v2/authorize")  # follows SLACK_API_URL (GovSlack too)
    state = parse_qs(urlparse(authorize).query)["state"][0]
    stack.http.cookies.set("slack-app-oauth-state", state)
    callback = stack.http.get(f"/slack/oauth_redirect?code=the-code&state={state}")
    assert callback.status_code == 200, callback.text
    assert fake_slack.of("oauth.v2.access")[0].body["code"] == "the-code"
    # a replayed state is refused (single use)
    assert stack.http.get(f"/slack/oauth_redirect?code=x&state={state}").status_code != 200

    event = {"type": "app_mention", "user": "U9", "text": f"<@UBOT2> {LEASE}", "ts": "1700002000.000100",
             "channel": "CTWO"}
    body = json.dumps({"token": "x", "team_id": "T2", "api_app_id": "A1", "type": "event_callback",
                       "event_id": "EvT2", "event_time": 1, "event": event,
                       "authorizations": [{"team_id": "T2", "user_id": "UBOT2", "is_bot": True}]})
    assert stack.post(body, "application/json").status_code == 200
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 1)
    post = fake_slack.posts()[0]
    assert post.headers["Authorization"] == f"Bearer {INSTALLED_TOKEN}"
    assert post.body["channel"] == "CTWO" and post.body["thread_ts"] == "1700002000.000100"


def test_unknown_workspace_gets_no_reply(engine, fake_slack, sqlite_url, slack_stack):
    settings = make_settings(fake_slack.url, SLACK_BOT_TOKEN=None, SLACK_CLIENT_ID="111.222",
                             SLACK_CLIENT_SECRET="oauth-secret")
    stack = slack_stack(settings, sqlite_url)
    event = {"type": "app_mention", "user": "U9", "text": f"<@UBOT3> {LEASE}", "ts": "1.0", "channel": "C3"}
    body = json.dumps({"token": "x", "team_id": "T3", "api_app_id": "A1", "type": "event_callback",
                       "event_id": "EvT3", "event_time": 1, "event": event})
    stack.post(body, "application/json")
    assert not fake_slack.wait_for(lambda: len(fake_slack.posts()) > 0, timeout=1.0)
