"""`prefect-triage eval`: how often the bot is right on labelled real messages.

Each line is `{"text": ..., "expect": "<entry id>" | null, "source": ..., "split": ...}`.
Positive lines are triaged as a prompted question (top-1 entry must equal `expect`);
`expect: null` lines are triaged as unprompted channel chatter (any entry is a false
reply). Reports top-1 accuracy overall and per split, how often the right entry is at least
offered (answered, or listed as closest when nothing was recognised), per-entry
precision/recall, the most frequent confusions and the chatter reply rate (unprompted, and
when the same messages are addressed to the bot). This module must not change anything.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from bot.models import Inbound
from bot.triage import Engine


class EntryScore(BaseModel):
    entry: str
    support: int
    correct: int
    predicted: int
    precision: float
    recall: float


class Report(BaseModel):
    cases: int
    positives: int
    top1: float
    top1_by_split: dict[str, float] = Field(default_factory=dict)
    pointed: float = 0.0
    """Answered right, or not recognised but the right entry is among those the reply offers."""
    pointed_by_split: dict[str, float] = Field(default_factory=dict)
    chatter: int
    chatter_answered: int
    chatter_rate: float
    chatter_rate_by_split: dict[str, float] = Field(default_factory=dict)
    chatter_answered_when_asked: float = 0.0
    """The same messages addressed to the bot (a mention, `/triage`): how often it answers with an entry
    when the honest answer is "I don't recognise this"."""
    per_entry: list[EntryScore] = Field(default_factory=list)
    confusions: list[tuple[str, str, int]] = Field(default_factory=list)
    misses: list[dict[str, str | None]] = Field(default_factory=list)


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def evaluate(engine: Engine, cases: list[dict]) -> Report:
    positives = [c for c in cases if c.get("expect")]
    chatter = [c for c in cases if not c.get("expect")]
    correct_by_split: Counter[str] = Counter()
    total_by_split: Counter[str] = Counter()
    support: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    misses: list[dict[str, str | None]] = []
    pointed_by_split: Counter[str] = Counter()
    for case in positives:
        expect, split = case["expect"], case.get("split", "all")
        result = engine.triage(Inbound(text=case["text"]))
        got = result.entry
        if got == expect or (got is None and expect in result.suggested):
            pointed_by_split[split] += 1
        support[expect] += 1
        total_by_split[split] += 1
        if got:
            predicted[got] += 1
        if got == expect:
            correct[expect] += 1
            correct_by_split[split] += 1
        else:
            confusions[(expect, got or "none")] += 1
            misses.append({"expect": expect, "got": got, "source": case.get("source"), "split": split})
    answered_by_split: Counter[str] = Counter()
    chatter_by_split: Counter[str] = Counter()
    answered_when_asked = 0
    for case in chatter:
        split = case.get("split", "all")
        chatter_by_split[split] += 1
        if engine.triage(Inbound(text=case["text"], unprompted=True)).entry is not None:
            answered_by_split[split] += 1
            misses.append({"expect": None, "got": "answered", "source": case.get("source"), "split": split})
        if engine.triage(Inbound(text=case["text"])).entry is not None:
            answered_when_asked += 1
    per_entry = [
        EntryScore(
            entry=entry,
            support=support[entry],
            correct=correct[entry],
            predicted=predicted[entry],
            precision=_ratio(correct[entry], predicted[entry]),
            recall=_ratio(correct[entry], support[entry]),
        )
        for entry in sorted(set(support) | set(predicted))
    ]
    answered = sum(answered_by_split.values())
    return Report(
        cases=len(cases),
        positives=len(positives),
        top1=_ratio(sum(correct.values()), len(positives)),
        top1_by_split={s: _ratio(correct_by_split[s], n) for s, n in sorted(total_by_split.items())},
        pointed=_ratio(sum(pointed_by_split.values()), len(positives)),
        pointed_by_split={s: _ratio(pointed_by_split[s], n) for s, n in sorted(total_by_split.items())},
        chatter=len(chatter),
        chatter_answered=answered,
        chatter_rate=_ratio(answered, len(chatter)),
        chatter_rate_by_split={s: _ratio(answered_by_split[s], n) for s, n in sorted(chatter_by_split.items())},
        chatter_answered_when_asked=_ratio(answered_when_asked, len(chatter)),
        per_entry=per_entry,
        confusions=[(a, b, n) for (a, b), n in confusions.most_common(15)],
        misses=misses,
    )


def read_cases(path: Path) -> list[dict]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not a JSON object ({exc.msg})") from None
        if not isinstance(case, dict) or not isinstance(case.get("text"), str) or "expect" not in case:
            raise ValueError(f"{path}:{number}: each line needs `text` and `expect`")
        cases.append(case)
    return cases


def evaluate_file(engine: Engine, path: Path) -> Report:
    """Evaluate one JSONL file, or every *.jsonl in a directory."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    cases = [case for file in files for case in read_cases(file)]
    return evaluate(engine, cases)


def print_report(report: Report, console: Console) -> None:
    console.print(
        f"top-1 accuracy: [bold]{report.top1:.1%}[/bold] on {report.positives} labelled messages  "
        + "  ".join(f"{split}: {value:.1%}" for split, value in report.top1_by_split.items())
    )
    console.print(
        f"right, or offered as closest when not recognised: [bold]{report.pointed:.1%}[/bold]  "
        + "  ".join(f"{split}: {value:.1%}" for split, value in report.pointed_by_split.items())
    )
    console.print(
        f"chatter answered unprompted: [bold]{report.chatter_rate:.1%}[/bold] "
        f"({report.chatter_answered}/{report.chatter})  "
        + "  ".join(f"{split}: {value:.1%}" for split, value in report.chatter_rate_by_split.items())
    )
    console.print(f"chatter answered when asked directly: {report.chatter_answered_when_asked:.1%}")
    table = Table("entry", "support", "precision", "recall")
    for score in report.per_entry:
        table.add_row(score.entry, str(score.support), f"{score.precision:.2f}", f"{score.recall:.2f}")
    console.print(table)
    if report.confusions:
        confusion = Table("expected", "got", "times", title="Most frequent confusions")
        for expected, got, n in report.confusions:
            confusion.add_row(expected, got, str(n))
        console.print(confusion)

