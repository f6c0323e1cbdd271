"""Property-based fuzzing of intake, redaction and matching, and hostile inputs of 10 MB."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.intake import take_in
from bot.models import Inbound
from bot.redact import redact

ALNUM = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=24, max_size=40)
SECRETS = st.one_of(
    ALNUM.map(lambda s: ("pnu_" + s, s)),
    ALNUM.map(lambda s: ("pnb_" + s, s)),
    ALNUM.map(lambda s: ("xoxb-1234-" + s, s)),
    ALNUM.map(lambda s: ("Bearer " + s, s)),
    ALNUM.map(lambda s: (f"postgresql://prefect:{s}@db:5432/prefect", s)),
    ALNUM.map(lambda s: (f"PREFECT_API_KEY={s}", s)),
    ALNUM.map(lambda s: (f'"password": "{s}"', s)),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16).map(lambda s: ("AKIA" + s, s)),
)
SEPARATORS = st.sampled_from([" ", "\n", "\t", " = ", ": ", '"', "'", "`", "(", "[", "> ", ", "])
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.one_of(st.binary(max_size=4000), st.text(max_size=4000)))
def test_intake_never_raises_and_leaves_no_control_characters(data):
    result = take_in(data)
    assert result.problem or result.text
    assert not any(ch in result.text for ch in "\x00\x1b\x07")


@FAST
@given(st.text(max_size=300), SECRETS, SEPARATORS, SEPARATORS, st.text(max_size=300))
def test_no_secret_survives_redaction(before, secret, left, right, after):
    token, sensitive = secret
    assume(sensitive not in before + after)  # the same characters elsewhere are not the secret
    text = f"{before}{left}{token}{right}{after}"
    redacted = redact(text).text
    assert sensitive not in redacted


@FAST
@given(st.text(max_size=3000))
def test_triage_never_raises_on_arbitrary_text(engine, text):
    result = engine.triage(Inbound(text=text))
    assert result.entry is None or result.reply is not None
    assert result.problem or result.reply is not None or result.entry is None


HOSTILE = {
    "one long line of a": "a" * 10_000_000,
    "nested brackets": "(" * 5_000_000 + ")" * 5_000_000,
    "regex metacharacters": ".*+?[](){}|^$\\" * 700_000,
    "many short lines": "x\n" * 5_000_000,
    "unicode": "ñ漢字🙂" * 2_000_000,
    "near-miss prefixes": "Concurrency lease renewal faile " * 320_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_ten_megabytes_of_hostile_text_triage_in_bounded_time(engine, name):
    text = HOSTILE[name]
    started = time.perf_counter()
    result = engine.triage(Inbound(text=text))
    elapsed = time.perf_counter() - started
    assert elapsed < 20, f"{name}: {elapsed:.1f}s"
    assert result.problem is None


def test_matching_time_grows_linearly(engine):
    chunk = "Task run 'x' - (((a|b)*c)+ \\\\ [[[ ]]] lease renewal Concurrency\n" * 2000
    def cost(text: str) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            engine.matcher.match(text)
            best = min(best, time.perf_counter() - started)
        return best
    small, large = cost(chunk), cost(chunk * 16)
    assert large < small * 16 * 3 + 0.05  # sixteen times the text: at most ~linear, never quadratic
