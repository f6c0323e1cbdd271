"""Intake: what users paste becomes plain text, bad input becomes a clear message."""

from __future__ import annotations

from bot.intake import take_in


def test_slack_markup_becomes_plain_text():
    raw = (
        "<@U024BE7LH> see <https://app.prefect.cloud/account/a/workspace/w|the run> in <#C123|support> "
        "&lt;not a tag&gt; &amp; <!here> <!subteam^S1|@platform>"
    )
    text = take_in(raw).text
    assert "<@U" not in text and "<!here>" not in text and "<#C" not in text
    assert "the run (https://app.prefect.cloud/account/a/workspace/w)" in text
    assert "#support" in text and "<not a tag> &" in text and "@platform" in text


def test_code_fences_crlf_and_ansi_are_removed_but_lines_kept():
    raw = "```python\r\n\x1b[33m13:15:52.703 | WARNING\x1b[0m | prefect.concurrency - x\r\nline 2\r\n```"
    text = take_in(raw).text
    assert text.splitlines() == ["13:15:52.703 | WARNING | prefect.concurrency - x", "line 2"]


def test_empty_and_whitespace_only_input_gets_a_message():
    for raw in ["", "   \n\t ", b"", "```\n```"]:
        result = take_in(raw)
        assert result.text == ""
        assert result.problem and "empty" in result.problem


def test_binary_input_is_refused_with_a_message():
    result = take_in(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 10)
    assert result.problem and "binary" in result.problem


def test_invalid_utf8_is_replaced_not_fatal():
    result = take_in(b"Concurrency lease renewal failed \xff\xfe\xfd end")
    assert result.problem is None
    assert result.text.startswith("Concurrency lease renewal failed")


def test_huge_input_keeps_head_and_tail_and_says_so():
    raw = "HEAD\n" + "x" * 5_000_000 + "\nTAIL"
    result = take_in(raw, max_chars=1_000_000)
    assert result.text.startswith("HEAD") and result.text.endswith("TAIL")
    assert len(result.text) < 1_100_000
    assert result.notes and "5.0 MB" in result.notes[0]
