"""Signing keys sealed in the database, for a studio server (key_store=database).

ledger.md keeps each production's private key in a 0600 file, "or in the
database, encrypted, at studio scale": several servers in front of one
PostgreSQL then share the keys without sharing a folder. The key is sealed
with AES-256-GCM under a master key that stays outside the database
(COLDCHECK_MASTER_KEY_FILE). A new table; nothing recorded changes, and
productions whose keys are files keep them there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_signing_keys_production_id_productions"),
        sa.PrimaryKeyConstraint("production_id", name="pk_signing_keys"),
    )
    # Written once: a sealed key replaced or deleted would cost the production
    # its signatures (the verifier key in productions still tells a swap).
    table = "signing_keys"
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for what in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{what.lower()} BEFORE {what} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'coldcheck: {table} is append-only'); END")
    elif dialect == "postgresql":
        # coldcheck_append_only() was created by 0001.
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION coldcheck_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION coldcheck_append_only()")


def downgrade() -> None:
    raise RuntimeError("coldcheck migrations never go backwards: the record is append-only")
