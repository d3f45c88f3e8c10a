"""The timeline index: what each event names, so that a timeline is an indexed
range read rather than a scan of every event.

One row per (production, kind, id, seq) for every id an event names
(``coldcheck.domain.subjects``): weapon, lot, person, scene, day, incident and
the subjects of refused attempts. A new table, filled here from the events
already recorded (read, never changed); from now on each append writes its
rows in its own transaction. Like the projections it is derived: ``coldcheck
rebuild`` rewrites it and ``coldcheck ledger verify`` recomputes it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timeline_index",
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_timeline_index_production_id_productions"),
        sa.PrimaryKeyConstraint("production_id", "kind", "subject_id", "seq",
                                name="pk_timeline_index"),
        sqlite_with_rowid=False,
    )
    from coldcheck.persistence.index import fill

    bind = op.get_bind()
    fill(bind.connection.cursor(), bind.dialect.name)


def downgrade() -> None:
    raise RuntimeError("coldcheck migrations never go backwards: the record is append-only")
