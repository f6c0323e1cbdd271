"""CI fails when accuracy on the labelled corpus falls below the recorded level.

`tests/corpus/accuracy.json` records the levels last measured for the whole corpus and for
each split, how often the right entry is at least offered (`pointed`), and how often chatter
addressed to the bot gets an entry (`chatter_answered_when_asked`, a ceiling). Raise them when
entries improve. Never lower one to make a change pass: the only reasons are written in
`tests/corpus/README.md` (a held-aside line that was read moved to the tuning slice; a change
whose measured trade-off on the held-aside slices was accepted, with the figures before and
after). Positive messages are triaged as if someone asked the bot; chatter as unprompted
channel messages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.evaluate import evaluate, read_cases

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture(scope="module")
def report(engine):
    cases = read_cases(CORPUS / "real.jsonl") + read_cases(CORPUS / "chatter.jsonl")
    return evaluate(engine, cases)


@pytest.fixture(scope="module")
def recorded():
    return json.loads((CORPUS / "accuracy.json").read_text())


def test_corpus_is_big_enough_and_sourced():
    real = read_cases(CORPUS / "real.jsonl")
    chatter = read_cases(CORPUS / "chatter.jsonl")
    assert len(real) >= 150 and len(chatter) >= 50
    assert all(case.get("source") for case in real + chatter)
    assert {case.get("split") for case in real} == {"tune", "holdout", "holdout2", "holdout3", "holdout4", "holdout5"}


def test_top1_accuracy_not_below_recorded(report, recorded):
    assert report.top1 >= recorded["top1"], report.confusions
    splits = {key.removeprefix("top1_") for key in recorded if key.startswith("top1_")}
    assert splits == set(report.top1_by_split), "record a level for every split"
    for split in sorted(splits):
        assert report.top1_by_split[split] >= recorded[f"top1_{split}"], split


def test_the_right_entry_is_at_least_offered_as_often_as_recorded(report, recorded):
    assert report.pointed >= recorded["pointed"] >= report.top1 - 1e-9


def test_chatter_is_almost_never_answered_unprompted(report, recorded):
    assert report.chatter_rate <= min(recorded["chatter_rate"], 0.05)


def test_chatter_addressed_to_the_bot_is_not_answered_more_often_than_recorded(report, recorded):
    # a how-to or a feature request asked of the bot should get "I don't recognise this", not an entry
    assert report.chatter_answered_when_asked <= recorded["chatter_answered_when_asked"]
