"""Matching a big log against the whole knowledge base stays close to one RE2 pass.

A signature like `\\b(?:worker|agent)\\b.{0,300}\\bName or service not known` looks harmless,
but a long gap after a word every log is full of makes RE2's combined DFA thrash: one such
pattern once made a 2 MB worker log take 13 s instead of 30 ms. The time is compared with an
RE2 set of 30 plain literals over the same text in the same run (a ratio, not an absolute time).
"""

from __future__ import annotations

import random
import time

import re2

from bot.kb.loader import RE2_OPTIONS
from bot.match import Matcher

LINES = [
    "{t} | INFO    | Flow run '{n}' - Beginning flow run '{n}' for flow 'etl' on worker 'k8s-{i}'",
    "{t} | INFO    | Task run 'load-{i}' - Finished in state Completed()",
    "{t} | DEBUG   | prefect.client - Connecting to API at http://prefect:4200/api/ from agent {i}",
    "{t} | INFO    | prefect.flow_runs.worker - Worker 'ProcessWorker {i}' submitting flow run '{n}'",
    "{t} | WARNING | Flow run '{n}' - deployment 'etl/prod' rows skipped: {i} (bad encoding in column 'name')",
    '  File "/usr/local/lib/python3.12/site-packages/etl/load.py", line {i}, in write_batch',
]


def log_text(megabytes: float) -> str:
    rng = random.Random(3)
    out, size, i = [], 0, 0
    while size < megabytes * 1_000_000:
        i += 1
        line = rng.choice(LINES).format(t=f"13:{i % 60:02d}:{i % 59:02d}", n=f"run-{i % 97}", i=i)
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def test_the_knowledge_base_matches_a_big_log_within_a_small_multiple_of_a_literal_set(kb):
    text = log_text(2.0)
    matcher = Matcher(kb)
    literals = re2.Set.SearchSet(RE2_OPTIONS)
    for entry in kb.entries.values():
        literals.Add(re2.escape(entry.spec.title))
    literals.Compile()
    matcher.match(text)  # build both DFAs once, as a long-running bot has
    literals.Match(text)
    baseline = best_of(lambda: literals.Match(text))
    whole = best_of(lambda: matcher.match(text))
    # measured 2026-11-28: 5x with 545 patterns; one pattern with a long gap after `pod` made it 2,000x
    assert whole < 25 * baseline, (whole, baseline)
