"""Gap reports group similar unmatched messages and rank them by frequency."""

from __future__ import annotations

from bot.gaps import group_gaps, signature


def test_similar_messages_group_together_and_rank_first():
    items = [
        ("Flow run 'a1' failed: KeyError 'customer_id' in /opt/app/etl.py line 12", None),
        ("Flow run 'b2' failed: KeyError 'order_id' in /srv/jobs/etl.py line 99", None),
        ("something completely different about dbt models", "deploy.flow-load-failed"),
        ("Flow run 'c3' failed: KeyError 'sku' in /x/y/etl.py line 7", None),
    ]
    groups = group_gaps(items)
    assert [g.count for g in groups] == [3, 1]
    assert "keyerror" in groups[0].signature and groups[1].near == "deploy.flow-load-failed"


def test_signature_prefers_the_error_line_and_drops_ids():
    text = "hi all\nsome context\nERROR: worker 5940f161-94bd-49f9-87cc-a3fb463da551 died after 37 s"
    sig = signature(text)
    assert sig.startswith("error") and "5940f161" not in sig and "<id>" in sig
