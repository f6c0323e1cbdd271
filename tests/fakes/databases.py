"""Database fixtures: every store test runs on SQLite and on the machine's real PostgreSQL.

PostgreSQL comes from DATABASE_URL when it names one, else the local server
(127.0.0.1:5432, trust auth, database `test`). Each test gets its own schema, so runs
never see each other's rows; the schema is dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from bot.store.db import normalise_url, open_database

LOCAL_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return normalise_url(url) if url.startswith(("postgres://", "postgresql")) else LOCAL_PG


@pytest.fixture
def pg_url():
    """A PostgreSQL URL whose search_path is a fresh, empty schema."""
    base = postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'triage.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def database(db_url):
    db = open_database(db_url)
    yield db
    db.dispose()
