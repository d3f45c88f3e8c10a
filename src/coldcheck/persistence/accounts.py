"""Repositories for API access: accounts, memberships, sessions, bearer tokens,
devices, idempotency keys and the sign-in log.

Plain functions on a :class:`~sqlalchemy.Connection` the caller holds; none of
them commits (services/accounts.py owns the transactions). Nothing here is part
of a ledger, and no function takes or returns a password, PIN or raw token:
only their hashes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from . import tables as t

Record = dict[str, Any]


def _one(row: Row[Any] | Any) -> Record | None:
    return None if row is None else dict(row._mapping)


def _run(c: Connection, sql: str, params: tuple[Any, ...]) -> None:
    c.exec_driver_sql(sql.replace("?", "%s") if c.dialect.name == "postgresql" else sql,
                      params)


def _hot(c: Connection, sql: str, params: tuple[Any, ...]) -> Record | None:
    """One row of a plain SQL query on the driver (``?`` placeholders). The lookups
    every request makes use it: building an SQLAlchemy statement costs several
    times the query itself."""
    if c.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
    cur = c.exec_driver_sql(sql, params)
    row = cur.first()
    return None if row is None else dict(row._mapping)


# ---- accounts ----------------------------------------------------------------
def account_by_username(c: Connection, username: str) -> Record | None:
    return _one(c.execute(select(t.accounts).where(t.accounts.c.username == username)).first())


def account_by_id(c: Connection, account_id: int) -> Record | None:
    return _one(c.execute(select(t.accounts).where(t.accounts.c.id == account_id)).first())


def insert_account(c: Connection, *, username: str, password_hash: str, at: str) -> int:
    res = c.execute(insert(t.accounts).values(username=username, password_hash=password_hash,
                                              created_at=at, failed_logins=0,
                                              locked_until=None)
                    .returning(t.accounts.c.id))
    return int(res.scalar_one())


def set_password_hash(c: Connection, account_id: int, password_hash: str) -> None:
    c.execute(update(t.accounts).where(t.accounts.c.id == account_id)
              .values(password_hash=password_hash))


def set_login_failures(c: Connection, account_id: int, failures: int,
                       locked_until: str | None) -> None:
    c.execute(update(t.accounts).where(t.accounts.c.id == account_id)
              .values(failed_logins=failures, locked_until=locked_until))


# ---- memberships -------------------------------------------------------------
def membership(c: Connection, account_id: int, production: str) -> str | None:
    """The person an account is on a production, or None if it is not a member."""
    row = _hot(c, "SELECT person_id FROM memberships WHERE account_id = ? "
                  "AND production_id = ?", (account_id, production))
    return None if row is None else str(row["person_id"])


def memberships_of(c: Connection, account_id: int) -> list[Record]:
    return [dict(r._mapping) for r in c.execute(
        select(t.memberships.c.production_id, t.memberships.c.person_id)
        .where(t.memberships.c.account_id == account_id)
        .order_by(t.memberships.c.production_id))]


def members_of(c: Connection, production: str) -> list[Record]:
    m, a = t.memberships, t.accounts
    return [dict(r._mapping) for r in c.execute(
        select(a.c.username, m.c.person_id, m.c.created_at)
        .select_from(m.join(a, a.c.id == m.c.account_id))
        .where(m.c.production_id == production).order_by(m.c.person_id))]


def account_of_person(c: Connection, production: str, person: str) -> int | None:
    v = c.execute(select(t.memberships.c.account_id).where(
        t.memberships.c.production_id == production,
        t.memberships.c.person_id == person)).scalar()
    return None if v is None else int(v)


def insert_membership(c: Connection, *, account_id: int, production: str, person: str,
                      at: str) -> None:
    c.execute(insert(t.memberships).values(account_id=account_id, production_id=production,
                                           person_id=person, created_at=at))


# ---- browser sessions ----------------------------------------------------------
def insert_session(c: Connection, *, token_hash: str, account_id: int, csrf_token: str,
                   at: str, expires_at: str) -> None:
    c.execute(insert(t.sessions).values(token_hash=token_hash, account_id=account_id,
                                        csrf_token=csrf_token, created_at=at,
                                        expires_at=expires_at, revoked_at=None))


def session_with_account(c: Connection, token_hash: str) -> Record | None:
    return _hot(c, "SELECT s.account_id, s.csrf_token, s.expires_at, s.revoked_at, a.username "
                   "FROM sessions s JOIN accounts a ON a.id = s.account_id "
                   "WHERE s.token_hash = ?", (token_hash,))


def revoke_session(c: Connection, token_hash: str, at: str) -> None:
    c.execute(update(t.sessions).where(t.sessions.c.token_hash == token_hash,
                                       t.sessions.c.revoked_at.is_(None))
              .values(revoked_at=at))


# ---- bearer tokens -----------------------------------------------------------
def insert_token(c: Connection, *, token_id: str, token_hash: str, account_id: int,
                 production: str, name: str, at: str, expires_at: str) -> None:
    c.execute(insert(t.api_tokens).values(id=token_id, token_hash=token_hash,
                                          account_id=account_id, production_id=production,
                                          name=name, created_at=at, expires_at=expires_at,
                                          revoked_at=None))


def token_with_account(c: Connection, token_hash: str) -> Record | None:
    """The token, its account and the person the account is on the token's production."""
    return _hot(c, "SELECT k.id, k.account_id, k.production_id, k.expires_at, k.revoked_at, "
                   "a.username, m.person_id FROM api_tokens k "
                   "JOIN accounts a ON a.id = k.account_id "
                   "LEFT JOIN memberships m ON m.account_id = k.account_id "
                   "AND m.production_id = k.production_id "
                   "WHERE k.token_hash = ?", (token_hash,))


_TOKEN_COLUMNS = (t.api_tokens.c.id, t.api_tokens.c.name, t.api_tokens.c.created_at,
                  t.api_tokens.c.expires_at, t.api_tokens.c.revoked_at)


def tokens_of(c: Connection, account_id: int, production: str) -> list[Record]:
    return [dict(r._mapping) for r in c.execute(
        select(*_TOKEN_COLUMNS).where(t.api_tokens.c.account_id == account_id,
                                      t.api_tokens.c.production_id == production)
        .order_by(t.api_tokens.c.created_at, t.api_tokens.c.id))]


def token(c: Connection, token_id: str, account_id: int, production: str) -> Record | None:
    return _one(c.execute(select(*_TOKEN_COLUMNS).where(
        t.api_tokens.c.id == token_id, t.api_tokens.c.account_id == account_id,
        t.api_tokens.c.production_id == production)).first())


def revoke_token(c: Connection, token_id: str, at: str) -> None:
    c.execute(update(t.api_tokens).where(t.api_tokens.c.id == token_id,
                                         t.api_tokens.c.revoked_at.is_(None))
              .values(revoked_at=at))


# ---- devices -----------------------------------------------------------------
_DEVICE_COLUMNS = (t.devices.c.id, t.devices.c.name, t.devices.c.registered_at,
                   t.devices.c.revoked_at)


def insert_device(c: Connection, *, production: str, device: str, name: str,
                  registered_by: int, at: str, key_hash: str) -> None:
    c.execute(insert(t.devices).values(production_id=production, id=device, name=name,
                                       registered_by=registered_by, registered_at=at,
                                       revoked_at=None, key_hash=key_hash))


def device(c: Connection, production: str, device_id: str) -> Record | None:
    """A device's public record (never its key hash)."""
    return _hot(c, "SELECT id, name, registered_at, revoked_at FROM devices "
                   "WHERE production_id = ? AND id = ?", (production, device_id))


def device_with_key(c: Connection, production: str, device_id: str) -> Record | None:
    """The device and its key hash, to check a key against."""
    return _hot(c, "SELECT id, name, registered_at, revoked_at, key_hash FROM devices "
                   "WHERE production_id = ? AND id = ?", (production, device_id))


def head(c: Connection, production: str) -> int | None:
    """A production's head (the number of its events), for the API's read model."""
    row = _hot(c, "SELECT head FROM productions WHERE id = ?", (production,))
    return None if row is None else int(row["head"])


def devices_of(c: Connection, production: str) -> list[Record]:
    return [dict(r._mapping) for r in c.execute(
        select(*_DEVICE_COLUMNS).where(t.devices.c.production_id == production)
        .order_by(t.devices.c.registered_at, t.devices.c.id))]


def revoke_device(c: Connection, production: str, device_id: str, at: str) -> None:
    c.execute(update(t.devices).where(t.devices.c.production_id == production,
                                      t.devices.c.id == device_id,
                                      t.devices.c.revoked_at.is_(None))
              .values(revoked_at=at))


# ---- idempotency keys ----------------------------------------------------------
def claim_key(c: Connection, *, production: str, account_id: int, key: str,
              fingerprint: str, at: str) -> bool:
    """Insert a pending key; False if the key was already there (nothing written)."""
    # RETURNING, because rowcount is not reliable for INSERT on every driver.
    return _hot(c, "INSERT INTO idempotency_keys (production_id, account_id, key, "
                   "fingerprint, status, response, created_at) VALUES (?, ?, ?, ?, 0, NULL, ?) "
                   "ON CONFLICT DO NOTHING RETURNING key",
                (production, account_id, key, fingerprint, at)) is not None


def entries(c: Connection, production: str, start: int, end: int) -> list[bytes]:
    """The ledger entries ``[start, end)`` of a production, for the API's read
    model (the store's own replay path is its business; this one only reads)."""
    sql = ("SELECT entry FROM events WHERE production_id = ? AND seq >= ? AND seq < ? "
           "ORDER BY seq")
    if c.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
    return [bytes(r[0]) for r in c.exec_driver_sql(sql, (production, start, end))]


def idempotency_key(c: Connection, production: str, account_id: int,
                    key: str) -> Record | None:
    k = t.idempotency_keys
    return _one(c.execute(select(k.c.fingerprint, k.c.status, k.c.response, k.c.created_at)
                          .where(k.c.production_id == production, k.c.account_id == account_id,
                                 k.c.key == key)).first())


def complete_key(c: Connection, *, production: str, account_id: int, key: str, status: int,
                 response: str) -> None:
    _run(c, "UPDATE idempotency_keys SET status = ?, response = ? WHERE production_id = ? "
            "AND account_id = ? AND key = ?", (status, response, production, account_id, key))


def release_key(c: Connection, *, production: str, account_id: int, key: str) -> None:
    k = t.idempotency_keys
    c.execute(delete(k).where(k.c.production_id == production, k.c.account_id == account_id,
                              k.c.key == key))


def purge_keys(c: Connection, before: str) -> int:
    res = c.execute(delete(t.idempotency_keys).where(t.idempotency_keys.c.created_at < before))
    return int(res.rowcount or 0)


# ---- the sign-in log -----------------------------------------------------------
def log_auth_event(c: Connection, *, at: str, type_: str, account_id: int | None = None,
                   username: str | None = None, production: str | None = None,
                   remote: str | None = None, detail: Mapping[str, Any] | None = None) -> None:
    c.execute(insert(t.auth_events).values(
        at=at, type=type_, account_id=account_id, username=username, production_id=production,
        remote=remote, detail=json.dumps(dict(detail or {}), sort_keys=True)))


def signed_in_from(c: Connection, account_id: int, remote: str, since: str) -> bool:
    """Whether the account signed in from ``remote`` at or after ``since``."""
    e = t.auth_events.c
    return c.execute(select(e.id).where(
        e.account_id == account_id, e.type == "login.succeeded", e.remote == remote,
        e.at >= since).limit(1)).first() is not None


def auth_events(c: Connection, *, username: str | None = None) -> list[Record]:
    q = select(t.auth_events).order_by(t.auth_events.c.id)
    if username is not None:
        q = q.where(t.auth_events.c.username == username)
    return [dict(r._mapping) for r in c.execute(q)]
