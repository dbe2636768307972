"""create_app(settings): routers, error handlers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from meterly import __version__
from meterly.accounts.api import router as accounts_router
from meterly.api import errors
from meterly.api.deps import RuntimeDep
from meterly.config import Settings
from meterly.ingest.api import router as ingest_router
from meterly.metering.api import router as meters_router
from meterly.runtime import Runtime

DESCRIPTION = """Meterly counts, bills, monitors and drives micro-transactions through reseller
chains. Every `/v1` call needs `Authorization: Bearer <key>`; a key sees its own account's
subtree only. Errors share one shape: `{"error": code, "message": ..., "details": [...]}`."""


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    owned = runtime is None
    rt = runtime if runtime is not None else Runtime.open(settings or Settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            rt.close()

    app = FastAPI(
        title="Meterly",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.runtime = rt
    errors.install(app)

    @app.get("/healthz", tags=["health"])
    def healthz(runtime: RuntimeDep) -> dict[str, str]:
        """200 when the ledger and the event store answer (no auth)."""
        with runtime.ledger.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        runtime.events.ping()
        return {"status": "ok"}

    app.include_router(accounts_router)
    app.include_router(ingest_router)
    app.include_router(meters_router)
    return app
