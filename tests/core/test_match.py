"""Matching: the right entry wins, chatter scores nothing, hostile text stays fast."""

from __future__ import annotations

import time

from bot.match import Matcher

LEASE = "Concurrency lease renewal failed - slots are no longer reserved. Terminating execution to prevent over-allocation."


def test_exact_warning_ranks_its_entry_first(kb):
    match = Matcher(kb).match(LEASE)
    assert match.best is not None
    assert match.best[0] == "concurrency.lease-renewal-failed"
    assert match.best[1] > 0.95


def test_chatter_matches_nothing(kb):
    matcher = Matcher(kb)
    for text in ["thanks everyone!", "lol yes, been there", "Hi all! New here.", "good morning :wave:"]:
        assert matcher.match(text).ranked == [], text


def test_signature_deep_inside_a_large_log_is_found(kb):
    filler = "12:00:00.000 | INFO    | Flow run 'calm-cat' - step done, rows=1234\n" * 150_000
    match = Matcher(kb).match(filler + LEASE + "\n" + filler)
    assert match.best and match.best[0] == "concurrency.lease-renewal-failed"


def test_regex_hostile_text_is_linear(kb):
    matcher = Matcher(kb)
    small = "a" * 100_000 + "(" * 10_000 + "[" * 10_000
    large = small * 10
    start = time.perf_counter()
    matcher.match(small)
    t_small = time.perf_counter() - start
    start = time.perf_counter()
    matcher.match(large)
    t_large = time.perf_counter() - start
    # ten times the text must cost roughly ten times as much, not a hundred
    assert t_large < max(t_small * 30, 0.5)


def test_how_to_question_with_prose_hits_is_damped(kb):
    matcher = Matcher(kb)
    plain = matcher.match("our concurrency lease expired and the run died")
    question = matcher.match("How do I stop a concurrency lease expired error from killing runs?")
    assert plain.best and question.best
    assert question.best[1] < plain.best[1]


def test_feature_request_with_prose_hits_is_damped_but_a_pasted_error_is_not(kb):
    matcher = Matcher(kb)
    report = "Tasks stay in Pending for hours while the concurrency slots are taken."
    proposal = f"### Describe the current behavior\n{report}\n### Describe the proposed behavior\nShow a Queued state."
    plain, wish = matcher.match(report), matcher.match(proposal)
    assert plain.best and wish.best
    assert wish.best[1] < plain.best[1] * 0.6
    pasted = matcher.match(f"Feature request: retry this automatically.\n{LEASE}")
    assert pasted.best and pasted.best[0] == "concurrency.lease-renewal-failed" and pasted.best[1] > 0.9
