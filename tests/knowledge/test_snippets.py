"""Every fix snippet in every reply is valid for the installed Prefect (3.9).

Renders every diagnosis of every entry (with sample names), then: Python snippets must
compile; YAML snippets must parse; every `prefect …` command must exist with the options
used (checked against the real CLI's `--help`); every `PREFECT_…` setting named anywhere
in a reply must be a real Prefect setting (or one of a known plugin's).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot import diagnose
from bot.kb.lint import _assignments, _sample_facts
from bot.render import make_environment, render

HERE = Path(__file__).resolve().parent
PLUGIN_SETTINGS = re.compile(r"^PREFECT_REDIS_|^PREFECT_INTEGRATIONS_|^PREFECT_KUBERNETES_|^PREFECT_AWS_")
SETTING = re.compile(r"\bPREFECT_[A-Z0-9_]+\b")
PREFECT_LINE = re.compile(r"(?:^|[;&|]\s*|\$\s+)prefect\s+([^|;&#\n]+)")


def rendered(kb) -> list[tuple[str, str, str]]:
    """(entry id, diagnosis id, reply markdown) for every reachable diagnosis."""
    env = make_environment(kb)
    out = []
    for entry in kb.entries.values():
        seen: set[str] = set()
        for values in _assignments(entry, kb):
            diagnosis = diagnose.choose(entry, values)
            if diagnosis.id in seen:
                continue
            seen.add(diagnosis.id)
            reply = render(env, kb, entry, diagnosis, _sample_facts(kb, values, True), [])
            out.append((entry.id, diagnosis.id, reply.markdown()))
    return out


@pytest.fixture(scope="module")
def replies(kb):
    return rendered(kb)


def snippets(markdown: str, languages: set[str]) -> list[str]:
    return [code for lang, code in re.findall(r"```([A-Za-z0-9_+-]*)\n(.*?)\n```", markdown, re.DOTALL)
            if lang.lower() in languages]


def test_python_snippets_compile(replies):
    failures = []
    for entry, diagnosis, markdown in replies:
        for code in snippets(markdown, {"python", "py"}):
            try:
                compile(code, f"{entry}/{diagnosis}", "exec")
            except SyntaxError as exc:
                failures.append(f"{entry}/{diagnosis}: {exc}")
    assert failures == []


def test_yaml_snippets_parse(replies):
    failures = []
    for entry, diagnosis, markdown in replies:
        for code in snippets(markdown, {"yaml", "yml"}):
            try:
                yaml.safe_load(code)
            except yaml.YAMLError as exc:
                failures.append(f"{entry}/{diagnosis}: {exc}")
    assert failures == []


def test_prefect_settings_named_in_replies_exist(replies):
    import prefect
    from prefect.settings import Settings
    from prefect.settings.legacy import _get_valid_setting_names

    known = set(_get_valid_setting_names(Settings))
    for source in Path(prefect.__file__).parent.rglob("*.py"):  # env vars Prefect reads directly
        known |= set(SETTING.findall(source.read_text(encoding="utf-8", errors="replace")))
    unknown = sorted({
        f"{entry}/{diagnosis}: {name}"
        for entry, diagnosis, markdown in replies
        for name in SETTING.findall(markdown)
        if name not in known and not PLUGIN_SETTINGS.match(name)
    })
    assert unknown == []


def test_prefect_cli_commands_exist_with_their_options(replies, tmp_path):
    commands: dict[tuple[str, ...], str] = {}
    for entry, diagnosis, markdown in replies:
        for code in snippets(markdown, {"bash", "sh", "shell", "console", ""}):
            for line in code.splitlines():
                for match in PREFECT_LINE.finditer(line.split(" #")[0]):
                    try:
                        tokens = shlex.split(match.group(1))
                    except ValueError:
                        tokens = match.group(1).split()
                    commands.setdefault(tuple(tokens), f"{entry}/{diagnosis}: prefect {match.group(1).strip()}")
    assert commands, "no prefect commands found in any reply"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path), "COLUMNS": "300", "NO_COLOR": "1"}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.run([sys.executable, str(HERE / "prefect_cli_check.py")], input=json.dumps(list(commands)),
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    failures = [f"{where}: {result['problem']}" for where, result in zip(commands.values(), results, strict=True)
                if not result["ok"]]
    assert failures == []
