"""Evaluate a diagnosis's `when` condition over facts, safely.

Conditions are sandboxed Jinja2 expressions (`deployment == 'cloud' and mechanism in
['tag', 'global']`), never Python `eval`. Unknown facts are `None`. Two helpers compare
versions: `version_lt(prefect_version, '3.7.2')` and `version_ge(...)`; both are false
when the version is unknown. This module must not know any fact or entry by name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import StrictUndefined, meta
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


def version_tuple(version: str | None) -> tuple[int, int, int] | None:
    """(3, 4, 14) from '3.4.14', '3.4.14.dev3' or '3.4'; None when it is not a version."""
    if not version:
        return None
    m = _VERSION.match(str(version).strip())
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def version_lt(version: str | None, other: str) -> bool:
    mine, theirs = version_tuple(version), version_tuple(other)
    return mine is not None and theirs is not None and mine < theirs


def version_ge(version: str | None, other: str) -> bool:
    mine, theirs = version_tuple(version), version_tuple(other)
    return mine is not None and theirs is not None and mine >= theirs


HELPERS: dict[str, Callable[..., Any]] = {"version_lt": version_lt, "version_ge": version_ge}

_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
_ENV.globals.update(HELPERS)


@functools.lru_cache(maxsize=1024)
def compile_condition(expression: str) -> Callable[..., Any]:
    """Compile a condition; raises jinja2's TemplateSyntaxError on bad syntax."""
    return _ENV.compile_expression(expression, undefined_to_none=False)


@functools.lru_cache(maxsize=1024)
def names_in(expression: str) -> frozenset[str]:
    """The fact names a condition refers to (helpers excluded)."""
    ast = _ENV.parse("{{ " + expression + " }}")
    return frozenset(meta.find_undeclared_variables(ast) - set(HELPERS))


def holds(expression: str | None, facts: Mapping[str, str | None]) -> bool:
    """True when the condition holds for these facts (a missing condition always holds).

    Every name the condition uses must be present in `facts` (None when unknown); an
    expression that fails at run time counts as not holding.
    """
    if expression is None:
        return True
    return _holds(expression, tuple(sorted(facts.items())))


@functools.lru_cache(maxsize=65536)
def _holds(expression: str, facts: tuple[tuple[str, str | None], ...]) -> bool:
    """Conditions are pure functions of the facts: the same question always has the same answer."""
    try:
        return bool(compile_condition(expression)(**dict(facts)))
    except TemplateError:
        return False
    except (TypeError, ValueError):
        return False
