"""Settings, built once at start-up and passed in (never read at import time)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="METERLY_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("./meterly-data"), description="Data folder")
    ledger_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite in the data folder"
    )
    events_url: str | None = Field(
        default=None, description="Event store URL; default DuckDB in the data folder"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    provider_id: str = Field(default="provider", description="external_id of the root account")
    provider_name: str = "Provider"
    worker: bool = Field(default=True, description="run the worker thread inside `serve`")
    max_batch_events: int = 10_000
    max_body_bytes: int = 10 * 1024 * 1024
    public_url: str | None = Field(
        default=None,
        description="Base URL of the links Meterly hands out (customer portal); default: the "
        "URL a request came in on, or http://host:port from the CLI",
    )

    @field_validator("ledger_url", "events_url", "public_url")
    @classmethod
    def _blank_is_default(cls, v: str | None) -> str | None:
        return v or None

    @property
    def resolved_ledger_url(self) -> str:
        if self.ledger_url:
            return self.ledger_url
        return f"sqlite:///{(self.data_dir / 'ledger.sqlite3').resolve()}"

    @property
    def resolved_events_url(self) -> str:
        if self.events_url:
            return self.events_url
        return f"duckdb:///{(self.data_dir / 'events.duckdb').resolve()}"
