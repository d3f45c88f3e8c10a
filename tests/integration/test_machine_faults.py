"""Faults of the machine (issue 19 part 5): with the disk full the answer says
"recorded" if and only if the event is committed, a retry with the same
Idempotency-Key gets the committed outcome or runs once, and every surface
gives the fault's own code (503 on the API, never 500).

The disk is a small tmpfs, mounted for the test: that needs root; otherwise
the tests skip, saying so. PostgreSQL disk-full cannot be made here without a
tmpfs tablespace of its own; its SQLSTATEs are classified by a unit test."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import API, PASSWORD, api_world
from sqlalchemy.exc import OperationalError

from coldcheck.config import Settings
from coldcheck.persistence.store import Store
from coldcheck.services import idempotency
from coldcheck.services.faults import fault_of


def _mount_tmpfs(where: Path, size: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "disk"
    _mount_tmpfs(where, "24m")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk`` (ENOSPC); remove the file to free it."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def aw(disk: Path, clock: Any) -> Iterator[Any]:
    settings = Settings(database_url=str(disk / "coldcheck.db"), key_dir=disk / "keys",
                        argon2_profile="fast-insecure-for-tests", device="pytest")
    store = Store(settings.database_url)
    store.migrate()
    try:
        with api_world(store, settings, clock, production="faults") as aw:
            yield aw
    finally:
        store.engine.dispose()


def complaint(aw: Any, key: str) -> Any:
    return aw.post("alex", "/complaints", {"text": "the armory door sticks"},
                   **{"Idempotency-Key": key})


def assert_fault(r: Any, code: str) -> None:
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["code"] == code and r.headers["content-type"] == "application/problem+json"
    assert "nothing was recorded" in body["detail"]


def test_disk_full_before_the_commit_records_nothing_and_the_retry_runs_once(
        aw: Any, disk: Path) -> None:
    head = aw.world.seq()
    filler = fill(disk)
    r = complaint(aw, "tablet-1")
    assert_fault(r, "DISK_FULL")
    assert r.headers["retry-after"] == "30"
    assert aw.world.seq() == head  # the answer said nothing was recorded: nothing was
    filler.unlink()
    again = complaint(aw, "tablet-1")  # the same key: runs now, once
    assert again.status_code == 200, again.text
    assert "idempotent-replayed" not in again.headers
    assert aw.world.types_since(head) == ["complaint.filed"]
    third = complaint(aw, "tablet-1")
    assert third.headers["idempotent-replayed"] == "true" and third.json() == again.json()
    assert aw.world.types_since(head) == ["complaint.filed"]


def test_a_fault_storing_the_answer_after_the_commit_answers_recorded_and_the_retry_gets_it(
        aw: Any, disk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head = aw.world.seq()
    real = idempotency.complete_key
    filler: list[Path] = []

    def full_then_store(*a: Any, **k: Any) -> None:
        # The event is committed; now the disk fills before its answer is stored.
        filler.append(fill(disk))
        try:
            real(*a, **k)
        except OperationalError:
            raise
        else:  # the WAL had room: make the fault the driver would give
            raise OperationalError("UPDATE idempotency_keys", {},
                                   sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(idempotency, "complete_key", full_then_store)
    r = complaint(aw, "tablet-2")
    assert r.status_code == 200, r.text  # recorded, and told so
    assert aw.world.types_since(head) == ["complaint.filed"]
    monkeypatch.setattr(idempotency, "complete_key", real)
    again = complaint(aw, "tablet-2")  # disk still full: the kept answer, not IN_PROGRESS
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == r.json()
    filler[0].unlink()
    third = complaint(aw, "tablet-2")  # stored by the retry above or now: still the answer
    assert third.status_code == 200 and third.json() == r.json()
    assert aw.world.types_since(head) == ["complaint.filed"]


def test_a_key_whose_release_failed_is_claimed_again_by_the_retry(
        aw: Any, disk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from coldcheck.services import actions

    head = aw.world.seq()
    filler: list[Path] = []
    real = actions.file_complaint

    def full(*a: Any, **k: Any) -> Any:  # the key is claimed; then the disk fills
        filler.append(fill(disk))
        return real(*a, **k)

    monkeypatch.setattr(actions, "file_complaint", full)
    assert_fault(complaint(aw, "tablet-3"), "DISK_FULL")
    assert aw.world.seq() == head
    monkeypatch.setattr(actions, "file_complaint", real)
    filler[0].unlink()
    again = complaint(aw, "tablet-3")  # not IN_PROGRESS, nor OUTCOME_UNKNOWN later
    assert again.status_code == 200, again.text
    assert aw.world.types_since(head) == ["complaint.filed"]


def test_sign_in_and_pin_checks_give_the_fault_for_right_and_wrong_secrets(
        aw: Any, disk: Path) -> None:
    w = aw.world
    filler = fill(disk)
    for password in (PASSWORD, "not-the-password"):
        r = aw.client.post(f"{API}/auth/login", json={"username": "alex", "password": password})
        assert_fault(r, "DISK_FULL")
    head = w.seq()
    for pin in (w.pins["alex"], "0000"):
        r = aw.post("alex", "/me/pin", {"pin": "97531", "current_pin": pin})
        assert r.status_code == 503 and r.json()["code"] == "DISK_FULL", r.text
    assert w.seq() == head
    filler.unlink()
    r = aw.client.post(f"{API}/auth/login", json={"username": "alex", "password": PASSWORD})
    assert r.status_code == 200, r.text


def test_the_cli_says_disk_full_not_unreadable(disk: Path, clock: Any) -> None:
    from typer.testing import CliRunner

    from coldcheck.cli import app

    runner = CliRunner()
    db = str(disk / "cli.db")
    env = {"COLDCHECK_KEY_DIR": str(disk / "keys"), "COLDCHECK_ARGON2_PROFILE":
           "fast-insecure-for-tests"}
    res = runner.invoke(app, ["init", "--db", db, "--production", "cli-full", "--name", "X"],
                        env=env)
    assert res.exit_code == 0, res.output
    filler = fill(disk)
    res = runner.invoke(app, ["person", "add", "--db", db, "--name", "Ann", "--role",
                              "armorer", "--badge", "B1", "--no-pin", "--json"], env=env)
    assert res.exit_code == 6, res.output
    # SQLite says "database or disk is full", or "disk I/O error" when the disk
    # fills while it flushes its log: either way a fault of the machine.
    assert ('"DISK_FULL"' in res.output or '"DISK_IO_ERROR"' in res.output), res.output
    assert "DATABASE_UNREADABLE" not in res.output
    filler.unlink()
    res = runner.invoke(app, ["ledger", "verify", "--db", db], env=env)
    assert res.exit_code == 0, res.output


def test_a_read_only_file_system_is_read_only_storage(aw: Any, disk: Path) -> None:
    head = aw.world.seq()
    aw.app.state.coldcheck.store.engine.dispose()
    r = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount read-only: {r.stderr.strip()}")
    try:
        res = complaint(aw, "tablet-ro")
        assert res.status_code == 503, res.text
        assert res.json()["code"] == "READ_ONLY_STORAGE", res.text
        assert "retry-after" not in res.headers
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=False)
    again = complaint(aw, "tablet-ro")
    assert again.status_code == 200, again.text
    assert aw.world.types_since(head) == ["complaint.filed"]


def test_postgresql_faults_are_classified_by_sqlstate() -> None:
    class PgError(Exception):
        def __init__(self, state: str) -> None:
            super().__init__(f"server said {state}")
            self.sqlstate = state

    for state, code in (("53100", "DISK_FULL"), ("25006", "READ_ONLY_STORAGE"),
                        ("55P03", "DATABASE_BUSY")):
        found = fault_of(OperationalError("INSERT", {}, PgError(state)))
        assert found is not None and found.code == code
    assert fault_of(OperationalError("SELECT", {}, PgError("42601"))) is None  # a defect
    assert fault_of(RuntimeError("disk on fire")) is None
