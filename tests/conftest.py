"""Shared pytest setup: every fake and fixture lives in tests/fakes/ and is registered here."""

pytest_plugins = [
    "tests.fakes.engine",
    "tests.fakes.prefect_server",
    "tests.fakes.cli",
    "tests.fakes.databases",
    "tests.fakes.slack_api",
    "tests.fakes.private_postgres",
]
