"""`prefect-triage kb lint | test | show ID`: work on the knowledge base.

Thin commands over `bot.kb.lint` and `bot.kb.cases`; they print and set the exit code.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bot.cli import engine_or_exit, err, out

kb = typer.Typer(help="Check and inspect the knowledge base.", no_args_is_help=True)


@kb.command()
def lint() -> None:
    """Validate schema, RE2 patterns, fact names, reachability, templates and cases."""
    from bot.kb.lint import lint as run_lint

    engine = engine_or_exit()
    problems = run_lint(engine.kb)
    for problem in problems:
        err.print(f"- {problem}", markup=False, highlight=False)
    entries = len(engine.kb.entries)
    if problems:
        err.print(f"[red]{len(problems)} problem(s)[/red] in {entries} entries")
        raise typer.Exit(1)
    out.print(f"[green]ok[/green]: {entries} entries, {len(engine.kb.vocabulary)} facts, no problems")


@kb.command("test")
def test_cases(
    entry: Annotated[str | None, typer.Argument(help="Only this entry's cases.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every case.")] = False,
) -> None:
    """Run every entry's cases (fires / near-miss / asks) through the triage engine."""
    from bot.kb.cases import run_all

    engine = engine_or_exit()
    if entry and entry not in engine.kb.entries:
        err.print(f"unknown entry {entry!r}")
        raise typer.Exit(1)
    outcomes = run_all(engine, entry)
    failed = [o for o in outcomes if not o.ok]
    for outcome in outcomes:
        if verbose or not outcome.ok:
            mark = "[green]ok[/green]  " if outcome.ok else "[red]FAIL[/red]"
            out.print(f"{mark} {outcome.entry} :: {outcome.case.kind} :: {outcome.case.name}", highlight=False)
            for failure in outcome.failures:
                out.print(f"       {failure}", markup=False, highlight=False)
    out.print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    if failed or not outcomes:
        raise typer.Exit(1)


@kb.command()
def show(entry_id: Annotated[str, typer.Argument(help="An entry id, e.g. concurrency.lease-renewal-failed.")]) -> None:
    """Show one entry: signatures, facts, diagnoses, links and cases."""
    engine = engine_or_exit()
    entry = engine.kb.entry(entry_id)
    if entry is None:
        err.print(f"unknown entry {entry_id!r}; known: {', '.join(sorted(engine.kb.entries))}")
        raise typer.Exit(1)
    spec = entry.spec
    out.print(f"[bold]{spec.id}[/bold] — {spec.title}\n{spec.summary.strip()}\n")
    signatures = Table("kind", "weight", "pattern", title="Signatures")
    for s in spec.signatures:
        signatures.add_row(s.kind.value, f"{s.strength:.2f}", s.pattern)
    out.print(signatures)
    diagnoses = Table("id", "when", "title", title="Diagnoses (first that holds wins)")
    for d in spec.diagnoses:
        diagnoses.add_row(d.id, d.when or "(always)", d.title)
    out.print(diagnoses)
    out.print(f"Facts: {', '.join(spec.facts) or '-'}")
    for link in spec.links:
        out.print(f"Link: {link.title} — {link.url}", highlight=False)
    kinds = {k: sum(1 for c in entry.cases if c.kind == k) for k in ("fires", "near-miss", "asks")}
    out.print("Cases: " + ", ".join(f"{n} {k}" for k, n in kinds.items()))
    out.print(f"Folder: {entry.directory}", highlight=False)
