"""Would more real reports, or more of each entry's own words, make resemblance more accurate?

Cross-validation over the knowledge base's own reports (each entry's `fires`/`asks` cases that
pass triage's resemblance gates): the reports are split into five folds; each fold is ranked
against centroids built from the entries' describing texts plus a sample of the *other* folds'
reports. Two curves are printed, each averaged over three shuffles:

- **reports**: the share of the other folds' reports used (25% … 100%). A flat curve says that
  gathering more messages of the kind already gathered will not make resemblance more accurate.
- **descriptions**: which of an entry's describing texts are used (title and summary only, plus
  signature words, plus evidence and diagnosis titles, plus reply prose, plus the `symptoms`
  written in users' words), with all reports.

Raw top-1 is the winner's accuracy with no thresholds (what the fallback would answer if it
always guessed). Uses only the knowledge base, never the evaluation corpus. Prints figures;
asserts nothing.

Usage: python bench/resemblance_ceiling.py
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict

from bot.config import Settings
from bot.similar import ASKS_FOR_INFO, asks_rather_than_reports, describing_texts, own_reports, reports_trouble, words
from bot.triage import Engine

FOLDS = 5
SHUFFLES = 3


def _normalised(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {k: v / norm for k, v in vector.items()}


def _accuracy(descriptions: list[tuple[str, list[str]]], reports: list[tuple[str, list[str]]],
              tested: list[int], share: float, seed: int) -> float:
    rnd = random.Random(seed)
    order = tested[:]
    rnd.shuffle(order)
    right = total = 0
    for k in range(FOLDS):
        fold = set(order[k::FOLDS])
        pool = [i for i in range(len(reports)) if i not in fold]
        pool = rnd.sample(pool, int(len(pool) * share))
        docs = descriptions + [reports[i] for i in pool]
        frequency: Counter[str] = Counter()
        for _, tokens in docs:
            frequency.update(set(tokens))
        idf = {w: math.log((1 + len(docs)) / (1 + n)) + 1.0 for w, n in frequency.items()}

        def vector(tokens: list[str], idf: dict[str, float] = idf) -> dict[str, float]:
            return _normalised({w: (1 + math.log(n)) * idf[w] for w, n in Counter(tokens).items() if w in idf})

        sums: dict[str, Counter[str]] = defaultdict(Counter)
        for entry_id, tokens in docs:
            sums[entry_id].update(vector(tokens))
        centroids = {entry_id: _normalised(dict(total_)) for entry_id, total_ in sums.items()}
        for i in fold:
            query = vector(reports[i][1])
            best = max(centroids, key=lambda e: sum(w * centroids[e].get(t, 0.0) for t, w in query.items()))
            right += best == reports[i][0]
            total += 1
    return right / total if total else 0.0


def main() -> None:
    engine = Engine.from_settings(Settings(_env_file=None))
    entries = list(engine.kb.entries.values())
    reports = [(entry.id, words(text)) for entry in entries for _, text in own_reports(entry)]
    texts = [text for entry in entries for _, text in own_reports(entry)]
    tested = [
        i for i, text in enumerate(texts)
        if reports_trouble(text) and not asks_rather_than_reports(text) and not ASKS_FOR_INFO.search(text)
        and not engine.matcher.is_question(text)
    ]
    print(f"{len(reports)} reports in {len(entries)} entries; {len(tested)} pass the resemblance gates")

    described = {entry.id: describing_texts(entry) for entry in entries}
    everything = [(e, words(t)) for e, ts in described.items() for t in ts]
    print("\nreports used   raw top-1")
    for share in (0.25, 0.5, 0.75, 1.0):
        mean = sum(_accuracy(everything, reports, tested, share, s) for s in range(SHUFFLES)) / SHUFFLES
        print(f"{share:>11.0%}   {mean:.3f}")

    print("\ndescribing texts                                 raw top-1")
    labels = ("title and summary", "+ signature words", "+ evidence and diagnosis titles", "+ reply prose",
              "+ symptoms in users' words")
    for upto, label in enumerate(labels, 1):
        # the first four are one text each; the symptoms follow, one text each
        subset = [(e, words(t)) for e, ts in described.items() for t in (ts if upto == len(labels) else ts[:upto])]
        mean = sum(_accuracy(subset, reports, tested, 1.0, s) for s in range(SHUFFLES)) / SHUFFLES
        print(f"{label:<48} {mean:.3f}")
    reports_only = [(e, []) for e in described]
    mean = sum(_accuracy(reports_only, reports, tested, 1.0, s) for s in range(SHUFFLES)) / SHUFFLES
    print(f"{'reports alone (no describing text)':<48} {mean:.3f}")


if __name__ == "__main__":
    main()
