"""Calibrate the resemblance fallback by leave-one-out over the knowledge base's own cases.

For every `fires`/`asks` case, its entry's centroid is rebuilt without that case's words, and
the case is ranked against all centroids as if it were a new message: how often would the
fallback answer (coverage), and how often would it be right (precision), for a grid of
thresholds — least similarity, least lead over the runner-up, least shared topic words?
`near-miss` cases that expect no answer count as wrong when answered. The same gates as in
triage apply (trouble words; no wish, how-to or question form). Uses only the knowledge
base, never the evaluation corpus. Prints a table; asserts nothing.

Usage: python bench/calibrate_resemblance.py
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

from bot.config import Settings
from bot.similar import (
    ASKS_FOR_INFO,
    TROUBLE,
    SimilarityIndex,
    asks_rather_than_reports,
    describing_texts,
    own_reports,
    reports_trouble,
    words,
)
from bot.triage import RESEMBLANCE_MARGIN, RESEMBLANCE_MIN, RESEMBLANCE_SHARED, Engine


def main() -> None:
    engine = Engine.from_settings(Settings(_env_file=None))
    kb, index = engine.kb, SimilarityIndex(engine.kb)

    # each entry's un-normalised centroid as a sum of its documents' vectors, so one case can be taken out
    sums: dict[str, Counter[str]] = {}
    case_vectors: dict[tuple[str, int], dict[str, float]] = {}
    for entry in kb.entries.values():
        total: Counter[str] = Counter()
        for text in describing_texts(entry):
            total.update(index.vector(words(text)))
        for n, text in own_reports(entry):
            vector = index.vector(words(text))
            case_vectors[(entry.id, n)] = vector
            total.update(vector)
        sums[entry.id] = total

    def normalised(counter: Counter[str]) -> dict[str, float]:
        norm = math.sqrt(sum(v * v for v in counter.values())) or 1.0
        return {k: v / norm for k, v in counter.items()}

    trials: list[tuple[str | None, list[tuple[float, str, int]]]] = []  # (expected, ranked (sim, entry, shared))
    for entry in kb.entries.values():
        for n, case in enumerate(entry.cases):
            head = case.text[:200_000]
            if (not reports_trouble(head) or asks_rather_than_reports(head) or ASKS_FOR_INFO.search(head)
                    or engine.matcher.is_question(head)):
                continue
            vector = index.vector(words(case.text))
            if not vector:
                continue
            own = case_vectors.get((entry.id, n))
            ranked = []
            for entry_id, total in sums.items():
                centroid_counter = Counter(total)
                if own is not None and entry_id == entry.id:
                    centroid_counter.subtract(own)
                centroid = normalised(centroid_counter)
                similarity = sum(w * centroid.get(k, 0.0) for k, w in vector.items())
                shared = sum(1 for k in vector if centroid.get(k, 0.0) > 1e-9 and not TROUBLE.fullmatch(k))
                ranked.append((similarity, entry_id, shared))
            ranked.sort(reverse=True)
            trials.append((case.expect.entry, ranked))

    positives = sum(1 for expected, _ in trials if expected)
    print(f"{len(trials)} cases pass the gates ({positives} that an entry should answer)")
    print(f"{'min sim':>8} {'margin':>7} {'shared':>7} {'answered':>9} {'right':>6} {'precision':>10} {'coverage':>9}")
    grid = itertools.product((0.10, 0.15, 0.16, 0.17, 0.18, 0.20, 0.25), (0.0, 0.02, 0.03, 0.04, 0.05, 0.08), (1, 2, 3))
    for least, margin, shared in grid:
        answered = right = 0
        for expected, ranked in trials:
            (s1, e1, sh1), (s2, _, _) = ranked[0], ranked[1]
            if s1 < least or s1 - s2 < margin or sh1 < shared:
                continue
            answered += 1
            right += e1 == expected
        mark = " <- current" if (least, margin, shared) == (RESEMBLANCE_MIN, RESEMBLANCE_MARGIN, RESEMBLANCE_SHARED) else ""
        precision = right / answered if answered else 0.0
        print(f"{least:>8.2f} {margin:>7.2f} {shared:>7d} {answered:>9d} {right:>6d} {precision:>10.1%} "
              f"{right / max(positives, 1):>9.1%}{mark}")


if __name__ == "__main__":
    main()
