"""Check `prefect …` command lines against Prefect's real CLI (run as a subprocess by the tests).

Reads a JSON list of token lists (the words after `prefect`) on stdin and prints, for each,
`{"ok": bool, "path": [...], "problem": str | null}`. Asks the installed CLI for `--help`
of each command path in-process (fast), so subcommands and option names are real.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from prefect.cli._app import _run_cli

_cache: dict[tuple[str, ...], tuple[int, str]] = {}


def help_for(path: tuple[str, ...]) -> tuple[int, str]:
    if path not in _cache:
        buf = io.StringIO()
        code = 0
        try:
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                _run_cli([*path, "--help"])
        except SystemExit as exc:
            code = int(exc.code or 0)
        except Exception as exc:  # an unknown command raises in some versions
            code, buf = 1, io.StringIO(str(exc))
        _cache[path] = (code, buf.getvalue())
    return _cache[path]


def usage(text: str) -> str:
    return next((line for line in text.splitlines() if line.startswith("Usage:")), "")


def check(tokens: list[str]) -> dict:
    path: list[str] = []
    for token in tokens:
        if token.startswith("-"):
            break
        code, text = help_for((*path, token))
        if code == 0 and usage(text).startswith("Usage: prefect " + " ".join([*path, token])):
            path.append(token)
            if "COMMAND" not in usage(text):
                break
            continue
        _parent_code, parent = help_for(tuple(path)) if path else (0, "Usage: prefect COMMAND")
        if "COMMAND" in usage(parent):
            return {"ok": False, "path": path, "problem": f"unknown command {' '.join([*path, token])!r}"}
        break
    if not path:
        return {"ok": False, "path": path, "problem": "no command"}
    code, text = help_for(tuple(path))
    if "COMMAND" in usage(text) and "[ARGS]" not in usage(text):
        return {"ok": False, "path": path, "problem": f"{' '.join(path)!r} needs a subcommand"}
    for token in tokens:
        if token.startswith("-") and token not in ("-", "--"):
            option = token.split("=", 1)[0]
            if option not in text.replace("│", " ").split():
                return {"ok": False, "path": path, "problem": f"{' '.join(path)!r} has no option {option}"}
    return {"ok": True, "path": path, "problem": None}


if __name__ == "__main__":
    print(json.dumps([check(tokens) for tokens in json.load(sys.stdin)]))
