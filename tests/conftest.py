"""Shared fixtures: settings with fast argon2, stores on SQLite and PostgreSQL.

PostgreSQL tests create and drop their own database. When CI=true they are
required: an unreachable server fails them instead of skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coldcheck.config import Settings
from coldcheck.persistence.store import Store

PG_ADMIN = os.environ.get("COLDCHECK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"


def make_settings(tmp: Path, url: str | None = None) -> Settings:
    return Settings(database_url=url or str(tmp / "coldcheck.db"), key_dir=tmp / "keys",
                    argon2_profile="fast-insecure-for-tests", device="pytest")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def sqlite_store(settings: Settings) -> Iterator[Store]:
    s = Store(settings.database_url)
    yield s
    s.dispose()


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    try:
        return psycopg.connect(PG_ADMIN.replace("postgresql+psycopg", "postgresql"),
                               autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as err:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and is unreachable at {PG_ADMIN}: {err}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN}: {err}")


@pytest.fixture
def pg_url() -> Iterator[str]:
    admin = _pg_admin()
    name = f"coldcheck_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for each backend: the contract suite runs once per backend."""
    if request.param == "sqlite":
        return make_settings(tmp_path)
    url = request.getfixturevalue("pg_url")
    return make_settings(tmp_path, url)


@pytest.fixture
def store(backend_settings: Settings) -> Iterator[Store]:
    s = Store(backend_settings.database_url)
    yield s
    s.dispose()


T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


class Clock:
    """A deterministic clock for tests: each call moves one minute on."""

    def __init__(self, start: datetime = T0, step: timedelta = timedelta(minutes=1)) -> None:
        self.t, self.step = start, step

    def __call__(self) -> datetime:
        self.t += self.step
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()
