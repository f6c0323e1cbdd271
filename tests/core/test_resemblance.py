"""The resemblance fallback: prose reports no signature recognises, and what it must never answer."""

from __future__ import annotations

import pytest

from bot.models import Inbound

PROSE_LATE = ("our scheduled runs sit there for ages, the worker is up and polling but nothing ever gets picked up "
              "from the pool")


def test_a_prose_report_with_no_prefect_message_is_matched_by_resemblance(engine):
    assert engine.matcher.match(PROSE_LATE).best is None  # no signature at all
    result = engine.triage(Inbound(text=PROSE_LATE))
    assert result.entry == "worker.late-runs"
    assert result.confidence < engine.settings.unprompted_threshold
    assert any("resemblance" in note for note in result.reply.notes)


def test_resemblance_never_answers_unprompted(engine):
    assert engine.triage(Inbound(text=PROSE_LATE, unprompted=True)).entry is None


@pytest.mark.parametrize("text", [
    "my coffee machine is leaking",
    "the flux capacitor is leaking",
    "the build failed again lol",
    "we lost the match yesterday, not great",
])
def test_one_word_in_common_is_a_coincidence_not_a_match(engine, text):
    assert engine.triage(Inbound(text=text)).entry is None


@pytest.mark.parametrize("text", [
    "The docs are not clear to me how the worker picks up scheduled runs from the pool and why they pile up",
    "@Marvin, how do I stop scheduled runs from piling up when the worker is not polling the pool?",
    "It would be great if late runs never piled up when the worker polling the pool is down",
    "what timeout does the cloud run worker use by default?",
    "@Marvin, how does the kubernetes worker deal with a pod that crashes and comes back?",
])
def test_questions_and_wishes_are_not_guessed_at(engine, text):
    assert engine.triage(Inbound(text=text)).entry is None


def test_an_exception_name_counts_as_trouble_without_any_trouble_word(engine):
    text = "the worker on our docker host logs ConnectTimeout on every poll of the server api url"
    assert engine.matcher.match(text).best is None
    assert engine.triage(Inbound(text=text)).entry == "api.unreachable"


PASTED_WITH_QUESTION = (
    "the worker prints this on every poll\n```\nTraceback (most recent call last):\n"
    '  File "httpx/_transports/default.py", line 72, in map_httpcore_exceptions\nhttpx.ReadError\n```\n'
    "how can I fix this? the worker runs on a VM and reaches our self-hosted server through a proxy"
)


def test_a_pasted_traceback_followed_by_how_do_i_fix_it_is_still_a_report(engine):
    assert engine.triage(Inbound(text=PASTED_WITH_QUESTION)).entry == "api.unreachable"
    # the same words with no pasted error are a how-to question: not guessed at
    question = PASTED_WITH_QUESTION.split("```")[-1].strip()
    assert engine.triage(Inbound(text=question)).entry is None


@pytest.mark.parametrize("verb", ["Add", "Allow", "Expose", "Support"])
def test_a_feature_request_title_is_not_guessed_at(engine, verb):
    text = (f"{verb} proxy settings for the worker when it polls the self-hosted server api through our "
            "corporate proxy, it cannot connect")
    assert engine.triage(Inbound(text=text)).entry is None
    # the report itself, without the request, is recognised
    assert engine.triage(Inbound(text=text.split(", ", 1)[1].capitalize() + " to the self-hosted server api "
                                 "from the worker behind our corporate proxy")).entry == "api.unreachable"


def _resembling(entries: list[tuple[str, float]]):
    from bot.similar import Resemblance

    def rank(text: str, limit: int = 3) -> list[Resemblance]:
        out = []
        for i, (entry, similarity) in enumerate(entries[:limit]):
            following = entries[i + 1][1] if i + 1 < len(entries) else 0.0
            out.append(Resemblance(entry=entry, similarity=similarity, margin=round(similarity - following, 4),
                                   shared=5))
        return out

    return rank


@pytest.mark.parametrize(("runner_up", "expected"), [(0.20, None), (0.36, "worker.orphan-runs")])
def test_an_excluded_lookalike_passes_the_answer_only_to_a_near_equal_neighbour(engine, monkeypatch, runner_up,
                                                                                 expected):
    # "unhealthy … but its runs execute successfully": worker.late-runs' own exclusion says "not me"
    text = "The work queue is shown unhealthy in the UI, yet its flow runs execute successfully; nothing broke"
    assert "worker.late-runs" in engine.matcher.match(text).excluded
    monkeypatch.setattr(engine.similar, "rank", _resembling(
        [("worker.late-runs", 0.40), ("worker.orphan-runs", runner_up), ("runs.crashed", 0.10)]))
    assert engine.triage(Inbound(text=text)).entry == expected


def test_a_close_race_is_not_guessed_but_both_entries_are_offered(engine, monkeypatch):
    text = "the thing with our jobs broke again overnight and nobody touched anything"
    assert engine.matcher.match(text).best is None
    monkeypatch.setattr(engine.similar, "rank", _resembling(
        [("infra.watch-timeout", 0.30), ("infra.k8s-pod-never-started", 0.29), ("worker.stuck-pending", 0.10)]))
    result = engine.triage(Inbound(text=text))
    assert result.entry is None
    assert result.suggested == ["infra.watch-timeout", "infra.k8s-pod-never-started"]
    reply = result.reply.markdown()
    assert "don't recognise" in reply and "`infra.watch-timeout`" in reply and "`infra.k8s-pod-never-started`" in reply
    assert "`worker.stuck-pending`" not in reply  # too far to be worth a look
    # unprompted, nothing is offered at all
    assert engine.triage(Inbound(text=text, unprompted=True)).reply is None


REPORT = "the waiting tasks keep sleeping after the slot is released, so the freed slot is never used for seconds"


@pytest.mark.parametrize("wish", [
    "\n\n### Describe the proposed behavior\n\nWake them as soon as the slot is released.",
    " If we could wake them right away, throughput would double.",
    " We want to be able to wake them right away.",
])
def test_a_request_for_new_behaviour_is_not_guessed_at_even_when_one_entry_clearly_wins(engine, monkeypatch, wish):
    monkeypatch.setattr(engine.similar, "rank", _resembling(
        [("concurrency.slots-leaked", 0.40), ("concurrency.limit-not-enforced", 0.20)]))
    assert engine.matcher.match(REPORT + wish).best is None
    assert engine.triage(Inbound(text=REPORT)).entry == "concurrency.slots-leaked"  # the report alone is guessed
    assert engine.triage(Inbound(text=REPORT + wish)).entry is None
