"""An index on sign-in records by account and address.

A sign-in to a locked account from an address the account signed in from in
the last 30 days is let through with the right password; finding that out
scanned every sign-in record ever made, a cost that grew with every failed
guess and told a real username (a scan) from a made-up one (none) by its
time. The index makes it one short lookup. It adds no row and changes none.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_auth_events_account_remote", "auth_events",
                    ["account_id", "remote", "type", "at"])


def downgrade() -> None:
    op.drop_index("ix_auth_events_account_remote", table_name="auth_events")
