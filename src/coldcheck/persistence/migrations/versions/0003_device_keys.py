"""Device keys: a registered device proves itself with a secret, not its public id.

A device id is shown on the tablet's device page and recorded in every event it
writes; anyone on the production could put it in a cookie or header and have
their records attributed to the armory tablet. From this revision a device is
registered with a random key, shown once and stored as SHA-256; writes send the
key. Devices registered before have no key and must be registered again (their
events keep naming them: nothing recorded changes).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("key_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("key_hash")
