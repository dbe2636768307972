"""Alembic environment: the URL and connection come from meterly.storage.migrate."""

from __future__ import annotations

from alembic import context

from meterly.storage.models_registry import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `meterly db upgrade`")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
