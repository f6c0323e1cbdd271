"""Web API calls reuse their connections: no new TCP (on slack.com: TLS) handshake per reply,
and a connection the server dropped never loses or doubles a call."""

from __future__ import annotations

import threading

import pytest
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.app import make_client
from bot.adapters.slack.keepalive import KeepAliveClients
from bot.config import Settings
from tests.fakes.slack_api import BOT_TOKEN
from tests.slack.test_events import LEASE, mention


@pytest.fixture
def client(fake_slack):
    settings = Settings(slack_api_url=f"{fake_slack.url}/api/", slack_bot_token=BOT_TOKEN, _env_file=None)
    return make_client(settings)


def test_calls_share_one_connection(client, fake_slack):
    for n in range(20):
        assert client.chat_postMessage(channel="C1", text=f"reply {n}")["ok"]
    assert len(fake_slack.posts()) == 20
    assert fake_slack.connections == 1


def test_a_connection_dropped_by_the_server_is_replaced_without_resending(client, fake_slack):
    client.chat_postMessage(channel="C1", text="first")
    fake_slack.drop_connections()
    client.chat_postMessage(channel="C1", text="second")
    assert [c.body["text"] for c in fake_slack.posts()] == ["first", "second"]
    assert fake_slack.connections == 2


def test_server_errors_and_rate_limits_are_still_retried(client, fake_slack):
    fake_slack.fail("chat.postMessage", 500)
    fake_slack.fail("chat.postMessage", 429, retry_after=0)
    assert client.chat_postMessage(channel="C1", text="eventually")["ok"]
    assert len(fake_slack.posts()) == 3  # two refused, then accepted
    assert fake_slack.connections == 1  # error responses keep the connection too


def test_client_errors_raise_slack_api_error(client, fake_slack):
    fake_slack.fail("chat.postMessage", 403)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="refused")
    assert err.value.response.status_code == 403


def test_threads_keep_their_own_connections(client, fake_slack):
    def send(n: int) -> None:
        for i in range(10):
            client.chat_postMessage(channel="C1", text=f"{n}-{i}")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake_slack.posts()) == 60
    assert fake_slack.connections == 6


def test_clients_per_token_are_reused_and_bounded(client):
    clients = KeepAliveClients(client, limit=3)
    first = clients.get("xoxb-a", "T1")
    assert clients.get("xoxb-a", "T1") is first
    assert clients.get("xoxb-b", "T2").token == "xoxb-b"
    assert first.base_url == client.base_url and len(first.retry_handlers) == len(client.retry_handlers)
    for n in range(5):
        clients.get(f"xoxb-{n}")
    assert len(clients._clients) <= 3


def test_replies_from_the_app_reuse_connections(slack, fake_slack):
    before = fake_slack.connections
    for n in range(12):
        slack.event(mention(LEASE, ts=f"1700000100.{n:06d}"))
    assert fake_slack.wait_for(lambda: len(fake_slack.posts()) == 12)
    # each job thread keeps one connection; without keep-alive this would be 12 or more
    assert fake_slack.connections - before <= 4 + 1


def test_an_unreachable_api_is_retried_then_reported_as_urllib_does(fake_slack):
    from urllib.error import URLError

    from tests.fakes.slack_api import free_port

    settings = Settings(slack_api_url=f"http://127.0.0.1:{free_port()}/api/", slack_bot_token=BOT_TOKEN, _env_file=None)
    client = make_client(settings)
    with pytest.raises(URLError):
        client.chat_postMessage(channel="C1", text="nobody listens")
    assert client.connects == 3  # the first try and slack_sdk's two connection retries
