"""Load the knowledge base from disk into validated, compiled objects.

The base ships with the package (`bot/knowledge` in a wheel, `knowledge/` beside the
package in a checkout); `TRIAGE_KNOWLEDGE_PATH` adds directories of a team's own entries in
the same format. Loading validates every file with the schema, compiles every pattern as
RE2 and fails with a list of every problem found. It must not match or render anything.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import re2
import yaml
from pydantic import TypeAdapter, ValidationError

from bot.kb.schema import CaseSpec, EntrySpec, FactSpec, Vocabulary

RE2_OPTIONS = re2.Options()
RE2_OPTIONS.log_errors = False
RE2_OPTIONS.max_mem = 64 << 20

_CASES = TypeAdapter(list[CaseSpec])


class KnowledgeError(Exception):
    """The knowledge base cannot be loaded; `problems` lists every reason."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems[:5]) + (" …" if len(self.problems) > 5 else ""))


@dataclass(frozen=True)
class Entry:
    spec: EntrySpec
    directory: Path
    template_root: Path
    cases: tuple[CaseSpec, ...] = ()

    @property
    def id(self) -> str:
        return self.spec.id

    def template_name(self, template: str) -> str:
        """The loader-relative name of one of this entry's templates."""
        return (self.directory / template).relative_to(self.template_root).as_posix()


@dataclass
class KnowledgeBase:
    vocabulary: dict[str, FactSpec]
    entries: dict[str, Entry]
    roots: tuple[Path, ...]
    warnings: list[str] = field(default_factory=list)

    def entry(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id)


def packaged_root() -> Path:
    """Where the shipped knowledge base lives: inside the package, or beside it in a checkout."""
    here = Path(__file__).resolve().parent.parent
    inside = here / "knowledge"
    if (inside / "facts.yaml").exists():
        return inside
    return here.parent / "knowledge"


@functools.lru_cache(maxsize=4096)
def compile_re2(pattern: str) -> re2._Regexp:  # type: ignore[name-defined]
    """Compile an RE2 pattern, raising ValueError with RE2's own reason."""
    try:
        return re2.compile(pattern, RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(f"not a valid RE2 pattern ({reason}): {pattern!r}") from None


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster, same result


def _read_yaml(path: Path, problems: list[str]) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{path}: cannot read YAML: {exc}")
        return None


def _errors(path: Path, exc: ValidationError) -> list[str]:
    return [f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]


def _load_vocabulary(roots: Iterable[Path], problems: list[str]) -> dict[str, FactSpec]:
    vocabulary: dict[str, FactSpec] = {}
    paths = [p for root in roots for p in [root / "facts.yaml", *sorted(root.glob("*/facts.yaml"))] if p.exists()]
    for path in paths:
        data = _read_yaml(path, problems)
        try:
            vocab = Vocabulary.model_validate(data)
        except ValidationError as exc:
            problems.extend(_errors(path, exc))
            continue
        for spec in vocab.facts:
            if spec.name in vocabulary:
                problems.append(f"{path}: fact {spec.name!r} is already defined by another knowledge directory")
            vocabulary[spec.name] = spec
            for rule in spec.infer:
                try:
                    compile_re2(rule.pattern)
                except ValueError as exc:
                    problems.append(f"{path}: fact {spec.name}: {exc}")
    return vocabulary


def _load_entry(directory: Path, root: Path, problems: list[str]) -> Entry | None:
    path = directory / "entry.yaml"
    data = _read_yaml(path, problems)
    try:
        spec = EntrySpec.model_validate(data)
    except ValidationError as exc:
        problems.extend(_errors(path, exc))
        return None
    for pattern in [*(sig.pattern for sig in spec.signatures), *spec.exclude]:
        try:
            compile_re2(pattern)
        except ValueError as exc:
            problems.append(f"{path}: {exc}")
    expected = f"{directory.parent.name}.{directory.name}"
    if spec.id != expected:
        problems.append(f"{path}: id {spec.id!r} must match its folder ({expected!r})")
    cases: tuple[CaseSpec, ...] = ()
    cases_path = directory / "cases.yaml"
    if cases_path.exists():
        try:
            cases = tuple(_CASES.validate_python(_read_yaml(cases_path, problems) or []))
        except ValidationError as exc:
            problems.extend(_errors(cases_path, exc))
    return Entry(spec=spec, directory=directory, template_root=root, cases=cases)


def load(extra_paths: Sequence[str | Path] = ()) -> KnowledgeBase:
    """Load and validate the shipped knowledge base plus `extra_paths`; raise KnowledgeError."""
    roots = [packaged_root(), *(Path(p).expanduser().resolve() for p in extra_paths)]
    problems: list[str] = []
    for root in roots:
        if not root.is_dir():
            problems.append(f"{root}: knowledge directory does not exist")
    roots = [r for r in roots if r.is_dir()]
    vocabulary = _load_vocabulary(roots, problems)
    entries: dict[str, Entry] = {}
    for root in roots:
        for entry_file in sorted(root.glob("*/*/entry.yaml")):
            entry = _load_entry(entry_file.parent, root, problems)
            if entry is None:
                continue
            if entry.id in entries:
                problems.append(f"{entry_file}: entry {entry.id!r} is defined twice")
                continue
            entries[entry.id] = entry
    if not vocabulary:
        problems.append("no facts.yaml vocabulary found")
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(vocabulary=vocabulary, entries=entries, roots=tuple(roots))


@functools.lru_cache(maxsize=8)
def _cached(extra: tuple[str, ...]) -> KnowledgeBase:
    return load(extra)


def load_cached(extra_paths: Sequence[str | Path] = ()) -> KnowledgeBase:
    """The knowledge base for these paths, loaded once per process."""
    return _cached(tuple(str(p) for p in extra_paths))

