"""API access: accounts, production memberships, browser sessions, bearer tokens,
registered devices, idempotency keys, and an append-only log of sign-ins.

None of these tables is part of a ledger. Passwords are argon2id hashes; session
and bearer tokens are stored as SHA-256 hashes of 32 random bytes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("auth_events",)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.String(32), nullable=True),
        sa.CheckConstraint("failed_logins >= 0",
                           name="ck_accounts_failed_logins_not_negative"),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("username", name="uq_accounts_username"),
    )
    op.create_table(
        "memberships",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name="fk_memberships_account_id_accounts"),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_memberships_production_id_productions"),
        sa.PrimaryKeyConstraint("account_id", "production_id", name="pk_memberships"),
        sa.UniqueConstraint("production_id", "person_id",
                            name="uq_memberships_production_person"),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name="fk_sessions_account_id_accounts"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_sessions"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name="fk_api_tokens_account_id_accounts"),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_api_tokens_production_id_productions"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "devices",
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("registered_by", sa.Integer, nullable=False),
        sa.Column("registered_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_devices_production_id_productions"),
        sa.ForeignKeyConstraint(["registered_by"], ["accounts.id"],
                                name="fk_devices_registered_by_accounts"),
        sa.PrimaryKeyConstraint("production_id", "id", name="pk_devices"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("response", sa.Text, nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_idempotency_keys_production_id_productions"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name="fk_idempotency_keys_account_id_accounts"),
        sa.PrimaryKeyConstraint("production_id", "account_id", "key",
                                name="pk_idempotency_keys"),
    )
    op.create_table(
        "auth_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=True),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("production_id", sa.String(64), nullable=True),
        sa.Column("remote", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auth_events"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for what in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{what.lower()} BEFORE {what} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'coldcheck: {table} is append-only'); END")
    elif dialect == "postgresql":
        # coldcheck_append_only() was created by 0001.
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION coldcheck_append_only()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION coldcheck_append_only()")


def downgrade() -> None:
    raise RuntimeError("coldcheck migrations never go backwards: the record is append-only")
