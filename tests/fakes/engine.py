"""Fixtures for the triage core: one engine over the shipped knowledge base per session."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.kb.loader import load_cached
from bot.triage import Engine


@pytest.fixture(scope="session")
def kb():
    return load_cached(())


@pytest.fixture(scope="session")
def engine(kb) -> Engine:
    return Engine(kb, Settings(_env_file=None))
