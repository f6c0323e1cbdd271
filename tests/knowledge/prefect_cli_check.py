"""Check `prefect …` command lines against Prefect's real CLI (run as a subprocess by the tests).

Reads a JSON list of token lists (the words after `prefect`) on stdin and prints, for each,
`{"ok": bool, "path": [...], "problem": str | null}`. Asks the installed CLI for `--help`
of each command path in-process (fast): a word after a command group must be one of the
group's listed commands, and the options of a leaf command must appear in its help.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys

from prefect.cli._app import _run_cli

_cache: dict[tuple[str, ...], str] = {}
_BOX = re.compile(r"╭─ (.+?) ─")


def help_for(path: tuple[str, ...]) -> str:
    if path not in _cache:
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                _run_cli([*path, "--help"])
        except SystemExit:
            pass
        except Exception as exc:  # some versions raise for unknown commands
            buf.write(str(exc))
        _cache[path] = buf.getvalue()
    return _cache[path]


def sections(text: str) -> dict[str, list[str]]:
    """Help sections (Commands, Parameters, …) and their lines."""
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        m = _BOX.search(line)
        if m:
            current = m.group(1).strip()
            out[current] = []
        elif current and line.startswith("│"):
            out[current].append(line.strip("│ "))
    return out


def commands_of(text: str) -> set[str]:
    return {line.split()[0] for line in sections(text).get("Commands", []) if line.split()}


def check(tokens: list[str]) -> dict:
    path: list[str] = []
    for token in tokens:
        if token.startswith("-"):
            break
        parent = help_for(tuple(path)) if path else help_for(())
        own_usage = next((x for x in help_for((*path, token)).splitlines() if x.startswith("Usage:")), "")
        if token in commands_of(parent) or own_usage.startswith(f"Usage: prefect {' '.join([*path, token])}"):
            path.append(token)
            if "Commands" not in sections(help_for(tuple(path))):
                break  # a leaf command: the rest are its arguments
            continue
        if path and "Parameters" in sections(parent):
            break  # a positional argument of a command that also has subcommands
        return {"ok": False, "path": path, "problem": f"unknown command {' '.join([*path, token])!r}"}
    if not path:
        return {"ok": False, "path": path, "problem": "no command"}
    text = help_for(tuple(path))
    own = sections(text)
    if "Parameters" in own:  # a leaf command lists its options: every option used must be one of them
        words = set(" ".join(own["Parameters"]).replace(",", " ").split())
        for token in tokens:
            if token.startswith("--") or (token.startswith("-") and len(token) == 2):
                option = token.split("=", 1)[0]
                if option not in words:
                    return {"ok": False, "path": path, "problem": f"{' '.join(path)!r} has no option {option}"}
    return {"ok": True, "path": path, "problem": None}


if __name__ == "__main__":
    print(json.dumps([check(tokens) for tokens in json.load(sys.stdin)]))
