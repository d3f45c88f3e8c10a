"""Table definitions (SQLAlchemy Core) with an explicit naming convention.

The event table is the record; everything else is derived from it (projections,
ledger hashes) or is a secret that never enters the record (credentials).
Triggers created by the migrations make events, ledger hashes and checkpoints
append-only inside the database itself.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

productions = Table(
    "productions", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("key_name", Text, nullable=False),
    Column("verifier_key", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("head", BigInteger, nullable=False, default=0),
    CheckConstraint("head >= 0", name="head_not_negative"),
)

events = Table(
    "events", metadata,
    Column("production_id", String(64), ForeignKey("productions.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("type", String(64), nullable=False),
    Column("at", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("device", String(128), nullable=False),
    Column("entry", LargeBinary, nullable=False),  # canonical bytes, exactly as hashed
    PrimaryKeyConstraint("production_id", "seq", name="pk_events"),  # UNIQUE(production_id, seq)
    CheckConstraint("seq >= 0", name="seq_not_negative"),
)

ledger_hashes = Table(
    "ledger_hashes", metadata,
    Column("production_id", String(64), ForeignKey("productions.id"), nullable=False),
    Column("idx", BigInteger, nullable=False),  # Go tlog stored-hash index
    Column("hash", LargeBinary(32), nullable=False),
    PrimaryKeyConstraint("production_id", "idx", name="pk_ledger_hashes"),
    sqlite_with_rowid=False,  # one b-tree search a hash (migration 0004)
)

checkpoints = Table(
    "checkpoints", metadata,
    Column("production_id", String(64), ForeignKey("productions.id"), nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("note", Text, nullable=False),  # the signed note, exactly as signed
    Column("reason", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    PrimaryKeyConstraint("production_id", "tree_size", name="pk_checkpoints"),
)

# A production's signing key sealed with the master key (studio scale, setting
# key_store=database; ledger.md: "or in the database, encrypted"). Written once,
# with the production; the master key is never in the database. Migration 0006.
signing_keys = Table(
    "signing_keys", metadata,
    Column("production_id", String(64), ForeignKey("productions.id"), primary_key=True),
    Column("sealed", LargeBinary, nullable=False),  # ledger.keys.seal_key
    Column("created_at", String(32), nullable=False),
)

projections = Table(
    "projections", metadata,
    Column("production_id", String(64), ForeignKey("productions.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("entity_id", String(32), nullable=False),
    Column("data", Text, nullable=False),  # canonical JSON of the entity
    Column("seq", BigInteger, nullable=False),  # last event that touched it
    PrimaryKeyConstraint("production_id", "kind", "entity_id", name="pk_projections"),
)

# What each event names (domain.subjects): one row per (kind, id) it names, written
# in the same transaction as the event. A timeline is a range read of it plus
# the events it names. Derived from the events like the projections: `rebuild`
# rewrites it, `ledger verify` recomputes it (LEDGER_INDEX_MISMATCH). Migration 0007.
timeline_index = Table(
    "timeline_index", metadata,
    Column("production_id", String(64), ForeignKey("productions.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("subject_id", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    PrimaryKeyConstraint("production_id", "kind", "subject_id", "seq",
                         name="pk_timeline_index"),
    sqlite_with_rowid=False,  # the table is its primary key's b-tree: one search a timeline
)

credentials = Table(
    "credentials", metadata,
    Column("production_id", String(64), ForeignKey("productions.id"), nullable=False),
    Column("person_id", String(32), nullable=False),
    Column("pin_hash", Text, nullable=False),
    PrimaryKeyConstraint("production_id", "person_id", name="pk_credentials"),
)

APPEND_ONLY = ("events", "ledger_hashes", "checkpoints")
__all__ = ["APPEND_ONLY", "Integer", "checkpoints", "credentials", "events", "ledger_hashes",
           "metadata", "productions", "projections", "timeline_index"]


# ---- API access (migration 0002): accounts, sessions, tokens, devices ---------
# None of these is part of any ledger: they say who may ask, not what happened.
# Secrets are stored only as hashes (argon2id for passwords, SHA-256 for the
# 32-byte random session and bearer tokens).

accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", String(32)),
    CheckConstraint("failed_logins >= 0", name="failed_logins_not_negative"),
)

memberships = Table(
    "memberships", metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("production_id", String(64), ForeignKey("productions.id"), nullable=False),
    Column("person_id", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    PrimaryKeyConstraint("account_id", "production_id", name="pk_memberships"),
    UniqueConstraint("production_id", "person_id", name="uq_memberships_production_person"),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("production_id", String(64), ForeignKey("productions.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
)

devices = Table(
    "devices", metadata,
    Column("production_id", String(64), ForeignKey("productions.id"), nullable=False),
    Column("id", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("registered_by", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("registered_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    Column("key_hash", String(64)),  # SHA-256 of the device key's secret (migration 0003)
    PrimaryKeyConstraint("production_id", "id", name="pk_devices"),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("production_id", String(64), ForeignKey("productions.id"), nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # HMAC-SHA256 of method, path, body
    Column("status", Integer, nullable=False),  # 0 while the first request runs
    Column("response", Text),  # the JSON body answered, replayed on a retry
    Column("created_at", String(32), nullable=False),
    PrimaryKeyConstraint("production_id", "account_id", "key", name="pk_idempotency_keys"),
)

auth_events = Table(
    "auth_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("type", String(32), nullable=False),
    Column("account_id", Integer),
    Column("username", String(64)),
    Column("production_id", String(64)),
    Column("remote", String(64)),
    Column("detail", Text, nullable=False),  # JSON; never a password, PIN or token
    # "Did this account sign in from this address lately?" (migration 0005)
    Index("ix_auth_events_account_remote", "account_id", "remote", "type", "at"),
)

APPEND_ONLY_ACCESS = ("auth_events",)


# ---- the outgoing alert webhook (migration 0008) --------------------------------
# Neither is part of the record. ``webhooks`` holds the secret that signs each
# post (its fingerprint and the URL are in production.webhook_set); the row goes
# when the webhook is cleared. ``webhook_deliveries`` is the outbox: one row per
# alert due to be posted, keyed by the alert's id (the idempotency id the
# receiver dedupes on), with the attempts made so far.
webhooks = Table(
    "webhooks", metadata,
    Column("production_id", String(64), ForeignKey("productions.id"), primary_key=True),
    Column("secret", Text, nullable=False),  # never logged, never in events or answers
    Column("set_at", String(32), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("production_id", String(64), ForeignKey("productions.id"), nullable=False),
    Column("alert_id", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON, the same at every attempt
    Column("created_at", String(32), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_try_at", String(32)),
    Column("next_try_at", String(32), nullable=False),
    Column("delivered_at", String(32)),
    PrimaryKeyConstraint("production_id", "alert_id", name="pk_webhook_deliveries"),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
)
