"""The migrations build exactly the schema the models declare (on SQLite and PostgreSQL): a
model changed without its migration, or a migration that drifts from its model, fails here."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from meterly.runtime import Runtime
from meterly.storage.models_registry import Base


def test_migrated_ledger_equals_the_models(runtime: Runtime) -> None:
    with runtime.ledger.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
