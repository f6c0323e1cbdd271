"""The `prefect-triage` command line (public contract in DESIGN.md).

`diagnose`, `eval` and the `kb` commands live here and in `cli_kb.py`; `chat`, `serve`,
`history`, `report` and `workspace` are registered from their own modules. Commands parse
arguments, build the engine and print; the work happens in the core. Importing this
module must stay cheap: Slack, Prefect and database modules load only in the commands
that need them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown

from bot.config import Settings
from bot.models import Inbound, TriageResult

app = typer.Typer(
    name="prefect-triage",
    help="Triage Prefect support questions: recognise, look up, ask, diagnose.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True)


def engine_or_exit(settings: Settings | None = None):  # -> Engine (import kept lazy)
    from bot.kb.loader import KnowledgeError
    from bot.triage import Engine

    try:
        return Engine.from_settings(settings)
    except KnowledgeError as exc:
        err.print("[red]The knowledge base does not load:[/red]")
        for problem in exc.problems:
            err.print(f"  - {problem}", markup=False, highlight=False)
        raise typer.Exit(2) from None


def parse_facts(pairs: list[str]) -> dict[str, str]:
    facts: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise typer.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--fact")
        facts[name.strip()] = value.strip()
    return facts


def read_input(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    path = Path(source)
    if not path.is_file():
        raise typer.BadParameter(f"{source}: no such file", param_hint="FILE")
    return path.read_bytes()


def print_human(result: TriageResult) -> None:
    if result.problem:
        out.print(result.problem, markup=False, highlight=False)
        return
    if result.entry:
        out.print(
            f"[bold green]{result.entry}[/bold green]  confidence {result.confidence:.2f}"
            f"  diagnosis [bold]{result.diagnosis}[/bold]"
        )
    else:
        out.print(f"[yellow]no entry matched[/yellow] (best score {result.confidence:.2f})")
    if result.reply:
        out.print(Markdown(result.reply.markdown()))


def _batch(engine, source: Path, workspace) -> None:
    for number, line in enumerate(source.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            if not isinstance(case, dict) or not isinstance(case.get("text", ""), str):
                raise ValueError("each line must be an object with a string `text`")
            facts = engine.user_facts({str(k): str(v) for k, v in (case.get("facts") or {}).items()})
            result = engine.triage(Inbound(text=case.get("text", ""), facts=facts), workspace)
            print(json.dumps(result.public(), ensure_ascii=False))
        except (ValueError, AttributeError) as exc:
            print(json.dumps({"line": number, "error": str(exc)}, ensure_ascii=False))
        sys.stdout.flush()


@app.command()
def diagnose(
    file: Annotated[str, typer.Argument(help="A file with the pasted text, or - for standard input.")] = "-",
    fact: Annotated[
        list[str] | None, typer.Option("--fact", "-f", help="A known fact, NAME=VALUE (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    no_workspace: Annotated[
        bool, typer.Option("--no-workspace", help="Do not look anything up in a Prefect workspace.")
    ] = False,
    batch: Annotated[
        Path | None, typer.Option("--batch", help="A JSONL file of {text, facts}; prints one JSON line each.")
    ] = None,
) -> None:
    """Triage one pasted message (or a batch) and print the diagnosis."""
    from bot.workspace.select import workspace_for

    settings = Settings()
    engine = engine_or_exit(settings)
    workspace = workspace_for(settings, enabled=not no_workspace)
    if batch is not None:
        if not batch.is_file():
            raise typer.BadParameter(f"{batch}: no such file", param_hint="--batch")
        _batch(engine, batch, workspace)
        return
    try:
        facts = engine.user_facts(parse_facts(fact or []))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fact") from None
    result = engine.triage(Inbound(text=read_input(file), facts=facts), workspace)
    if as_json:
        print(json.dumps(result.public(), ensure_ascii=False, indent=2))
    else:
        print_human(result)


@app.command("eval")
def evaluate(
    cases: Annotated[
        Path, typer.Argument(help="Labelled cases: a JSONL file {text, expect, source}, or a folder of them.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    min_accuracy: Annotated[
        float | None, typer.Option(help="Exit 1 when top-1 accuracy is below this.")
    ] = None,
    max_chatter: Annotated[
        float | None, typer.Option(help="Exit 1 when the unprompted chatter reply rate is above this.")
    ] = None,
) -> None:
    """Measure accuracy over labelled real messages."""
    from bot.evaluate import evaluate_file, print_report

    if not cases.exists():
        raise typer.BadParameter(f"{cases}: no such file or directory", param_hint="CASES")
    try:
        report = evaluate_file(engine_or_exit(), cases)
    except (ValueError, UnicodeDecodeError) as exc:  # a bad line (JSONDecodeError is a ValueError) or not text
        raise typer.BadParameter(str(exc), param_hint="CASES") from None
    if as_json:
        print(json.dumps(report.model_dump(), indent=2))
    else:
        print_report(report, out)
    failed = (min_accuracy is not None and report.top1 < min_accuracy) or (
        max_chatter is not None and report.chatter_rate > max_chatter
    )
    if failed:
        raise typer.Exit(1)


def _register() -> None:
    from bot import cli_chat, cli_kb, cli_report, cli_serve, cli_workspace  # noqa: F401  (they register on `app`)

    app.add_typer(cli_kb.kb, name="kb")
    app.add_typer(cli_workspace.workspace, name="workspace")


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
