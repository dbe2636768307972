"""create_app(settings): routers, error handlers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from meterly import __version__
from meterly.accounts.api import router as accounts_router
from meterly.accounts.audit_api import router as audit_router
from meterly.api import errors
from meterly.api.deps import RuntimeDep
from meterly.billing.api import router as billing_router
from meterly.billing.money.api import router as money_router
from meterly.catalog.api import router as catalog_router
from meterly.chain.api import router as chain_router
from meterly.config import Settings
from meterly.documents.api import router as documents_router
from meterly.ingest.api import router as ingest_router
from meterly.metering.api import router as meters_router
from meterly.plans.api import router as plans_router
from meterly.portal.api import router as portal_router
from meterly.resellers.api import router as resellers_router
from meterly.runtime import Runtime
from meterly.subscriptions.api import router as subscriptions_router
from meterly.webhooks.api import router as webhooks_router

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
    app.include_router(audit_router)
    app.include_router(ingest_router)
    app.include_router(meters_router)
    app.include_router(catalog_router)
    app.include_router(plans_router)
    app.include_router(subscriptions_router)
    app.include_router(webhooks_router)
    app.include_router(documents_router)  # before billing: /invoices/{id} would take "7.pdf"
    app.include_router(chain_router)  # before billing: /invoices/{id}/breakdown.csv
    app.include_router(billing_router)
    app.include_router(money_router)
    app.include_router(resellers_router)
    app.include_router(portal_router)
    return app
