"""Alembic environment. coldcheck runs migrations itself (`coldcheck init`,
`coldcheck migrate`) with the connection it already holds."""

from __future__ import annotations

from alembic import context

from coldcheck.persistence.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - coldcheck always passes a connection
    raise RuntimeError("coldcheck migrations run through coldcheck (coldcheck migrate)")
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
