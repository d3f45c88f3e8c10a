"""The outgoing alert webhook (issue 15 part 3): the secret that signs each post,
and the outbox of alerts to post with their attempts.

Two new tables; nothing recorded changes. The URL and the secret's fingerprint
are in the record (``production.webhook_set``); the secret never is.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("set_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_webhooks_production_id_productions"),
        sa.PrimaryKeyConstraint("production_id", name="pk_webhooks"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("production_id", sa.String(64), nullable=False),
        sa.Column("alert_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_try_at", sa.String(32), nullable=True),
        sa.Column("next_try_at", sa.String(32), nullable=False),
        sa.Column("delivered_at", sa.String(32), nullable=True),
        sa.CheckConstraint("attempts >= 0", name="ck_webhook_deliveries_attempts_not_negative"),
        sa.ForeignKeyConstraint(["production_id"], ["productions.id"],
                                name="fk_webhook_deliveries_production_id_productions"),
        sa.PrimaryKeyConstraint("production_id", "alert_id", name="pk_webhook_deliveries"),
    )


def downgrade() -> None:
    raise RuntimeError("coldcheck migrations never go backwards: the record is append-only")
