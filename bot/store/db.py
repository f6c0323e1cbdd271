"""Database engine, sessions and migrations.

`open_database(url)` returns an `Database` whose schema is at the newest Alembic revision:
migrations run automatically on start, under a PostgreSQL advisory lock so several
replicas starting together migrate once. SQLite files get WAL mode and a busy timeout so
concurrent writers wait instead of failing; writing sessions queue on a Python lock and, for
a database file, an advisory file lock (so event worker processes queue too) before `BEGIN
IMMEDIATE` — writers hand the write lock over at once instead of sleeping in SQLite's busy
handler (which backs off up to 100 ms per try) — and read-only sessions use deferred
transactions that never wait on a writer (WAL). This module must not
know about conversations.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: in-process serialisation only
    fcntl = None  # type: ignore[assignment]

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 7_352_117  # pg_advisory_lock key


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain PostgreSQL URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN IMMEDIATE ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_intent = threading.local()


@contextlib.contextmanager
def _write_intent() -> Iterator[None]:
    """Transactions begun in this block on SQLite take the write lock up front (`BEGIN IMMEDIATE`)."""
    before = getattr(_intent, "writing", False)
    _intent.writing = True
    try:
        yield
    finally:
        _intent.writing = before


def _sqlite_begin(connection) -> None:
    # A read-then-write transaction must hold the write lock from its first read, or it fails
    # with a stale snapshot when another writer commits in between; reads alone need no lock.
    connection.exec_driver_sql("BEGIN IMMEDIATE" if getattr(_intent, "writing", False) else "BEGIN")


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (idempotent; safe with several processes on PostgreSQL).

    `base` drops everything (used by tests); any other revision upgrades.
    """
    with _write_intent(), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        if revision == "base":
            command.downgrade(alembic_config(connection), revision)
        else:
            command.upgrade(alembic_config(connection), revision)


def schema_revision(engine: Engine) -> tuple[str | None, str]:
    """(the database's current revision, the newest revision this code knows)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(None)).get_current_head() or ""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head


class SchemaBehind(Exception):
    """The database is older than the code and migrations are not run automatically."""


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    writers: threading.RLock = field(default_factory=threading.RLock)
    lock_path: str | None = None
    """SQLite file databases: a file whose advisory lock writers of every process take in turn."""
    _lock_fd: int | None = field(default=None, init=False, repr=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A session that commits on success and rolls back on error.

        `readonly=True` promises no writes: on SQLite it neither queues behind writers nor
        blocks them.
        """
        with contextlib.ExitStack() as stack:
            if not readonly and self.engine.dialect.name == "sqlite":
                stack.enter_context(self.writers)
                stack.enter_context(self._file_lock())
                stack.enter_context(_write_intent())
            session = self.sessions()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self.lock_path is None or fcntl is None:
            yield
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def open_database(url: str, *, run_migrations: bool = True) -> Database:
    engine = make_engine(url)
    if run_migrations:
        migrate(engine)
    else:
        current, head = schema_revision(engine)
        if current != head:
            engine.dispose()
            raise SchemaBehind(f"database schema is at {current or 'nothing'}, the code needs {head}: "
                               "run `prefect-triage migrate`")
    parsed = make_url(normalise_url(url))
    lock_path = None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        lock_path = str(Path(parsed.database).expanduser()) + ".writer-lock"
    return Database(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), lock_path=lock_path)
