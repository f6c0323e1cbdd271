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
])
def test_questions_and_wishes_are_not_guessed_at(engine, text):
    assert engine.triage(Inbound(text=text)).entry is None
