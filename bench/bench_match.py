"""Matching benchmark: a 10 MB log against the whole knowledge base.

Runs, side by side in one process on the same text: (1) the bot's RE2-set matcher,
(2) a plain loop of Python `re.search` over the same signature patterns (the baseline),
and (3) the whole triage pipeline (intake, redaction, matching, inference, rendering).
Prints the figures; it asserts nothing. Usage: python bench/bench_match.py [--mb 10]
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import random
import re
import statistics
import time

from bot.config import Settings
from bot.kb.loader import load
from bot.match import Matcher
from bot.models import Inbound
from bot.triage import Engine

LINES = [
    "{t} | INFO    | Flow run '{n}' - Beginning flow run '{n}' for flow 'etl'",
    "{t} | INFO    | Task run 'load-{i}' - Finished in state Completed()",
    "{t} | DEBUG   | prefect.client - Connecting to API at http://prefect:4200/api/",
    "{t} | INFO    | prefect.flow_runs.worker - Worker 'ProcessWorker {i}' submitting flow run '{n}'",
    "{t} | WARNING | Flow run '{n}' - rows skipped: {i} (bad encoding in column 'name')",
    '  File "/usr/local/lib/python3.12/site-packages/etl/load.py", line {i}, in write_batch',
]
NEEDLE = (
    "{t} | ERROR   | Flow run '{n}' - Concurrency lease renewal failed - slots are no longer reserved. "
    "Terminating execution to prevent over-allocation."
)


def make_log(megabytes: float, seed: int = 7) -> str:
    rng = random.Random(seed)
    out, size, i = [], 0, 0
    target = int(megabytes * 1_000_000)
    while size < target:
        i += 1
        line = rng.choice(LINES).format(t=f"13:{i % 60:02d}:{i % 59:02d}.{i % 1000:03d}", n=f"run-{i % 97}", i=i)
        out.append(line)
        size += len(line) + 1
    out.insert(len(out) * 3 // 4, NEEDLE.format(t="13:59:59.000", n="calm-cat"))
    return "\n".join(out)


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    kb = load()
    patterns = [s.pattern for e in kb.entries.values() for s in e.spec.signatures]
    python_patterns = []
    for pattern in patterns:
        # RE2 syntax Python cannot compile (inline flags mid-pattern) is left out of the baseline
        with contextlib.suppress(re.error):
            python_patterns.append(re.compile(pattern))
    text = make_log(args.mb)
    matcher = Matcher(kb)
    engine = Engine(kb, Settings(_env_file=None, max_input_chars=50_000_000))

    t_set = timed(lambda: matcher.match(text), args.repeat)
    t_loop = timed(lambda: [p.search(text) for p in python_patterns], 1)
    t_triage = timed(lambda: engine.triage(Inbound(text=text)), args.repeat)
    result = engine.triage(Inbound(text=text))

    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(f"text: {len(text) / 1e6:.1f} MB, {text.count(chr(10)) + 1} lines; knowledge: {len(kb.entries)} entries, "
          f"{len(patterns)} signature patterns ({len(python_patterns)} also valid Python re)")
    print(f"RE2 set matcher (all patterns):      {t_set * 1000:8.1f} ms")
    print(f"Python re.search loop (baseline):    {t_loop * 1000:8.1f} ms")
    print(f"speed-up:                            {t_loop / t_set:8.1f}x")
    print(f"whole triage pipeline:               {t_triage * 1000:8.1f} ms  -> {result.entry}")


if __name__ == "__main__":
    main()
