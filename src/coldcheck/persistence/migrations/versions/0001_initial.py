"""The initial schema: productions, the append-only event table, ledger hashes,
checkpoints, projections and credentials, with append-only triggers.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("events", "ledger_hashes", "checkpoints")


def upgrade() -> None:
    op.create_table(
        "productions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("key_name", sa.Text, nullable=False),
        sa.Column("verifier_key", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("head", sa.BigInteger, nullable=False),
        sa.CheckConstraint("head >= 0", name="ck_productions_head_not_negative"),
        sa.PrimaryKeyConstraint("id", name="pk_productions"),
    )
    op.create_table(
        "events",
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("device", sa.String(128), nullable=False),
        sa.Column("entry", sa.LargeBinary, nullable=False),
        sa.CheckConstraint("seq >= 0", name="ck_events_seq_not_negative"),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_events_production_id_productions"),
        sa.PrimaryKeyConstraint("production_id", "seq", name="pk_events"),
    )
    op.create_table(
        "ledger_hashes",
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("idx", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_ledger_hashes_production_id_productions"),
        sa.PrimaryKeyConstraint("production_id", "idx", name="pk_ledger_hashes"),
    )
    op.create_table(
        "checkpoints",
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_checkpoints_production_id_productions"),
        sa.PrimaryKeyConstraint("production_id", "tree_size", name="pk_checkpoints"),
    )
    op.create_table(
        "projections",
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(32), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_projections_production_id_productions"),
        sa.PrimaryKeyConstraint("production_id", "kind", "entity_id", name="pk_projections"),
    )
    op.create_table(
        "credentials",
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("pin_hash", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_credentials_production_id_productions"),
        sa.PrimaryKeyConstraint("production_id", "person_id", name="pk_credentials"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for what in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{what.lower()} BEFORE {what} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'coldcheck: {table} is append-only'); END")
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION coldcheck_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'coldcheck: % is append-only', TG_TABLE_NAME; END $$")
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION coldcheck_append_only()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION coldcheck_append_only()")


def downgrade() -> None:
    raise RuntimeError("coldcheck migrations never go backwards: the record is append-only")
