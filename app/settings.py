"""Settings, read once from the environment (prefix ``EVENTGRAPH_``) and passed down."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./eventgraph.db"


class Settings(BaseSettings):
    """Every tunable of an Eventgraph process."""

    model_config = SettingsConfigDict(env_prefix="EVENTGRAPH_", extra="ignore")

    database_url: str = Field(
        DEFAULT_SQLITE_URL,
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    broadcast_url: str | None = Field(
        None,
        description="Wake-up bus between processes: memory://, redis://host:port or"
        " postgresql://...; default: memory on SQLite, LISTEN/NOTIFY on the event database"
        " on PostgreSQL. It carries positions and ids only (docs/realtime.md)",
    )
    host: str = Field("127.0.0.1", description="Address `eventgraph serve` binds to")
    port: int = Field(8000, description="Port `eventgraph serve` binds to")
    admin_token: SecretStr | None = Field(None, description="Accepted as an admin token when set")
    max_page_size: int = Field(100, ge=1, le=1000, description="Largest `first`/`last`/`limit`")
    max_event_bytes: int = Field(65536, ge=1, description="Largest compact JSON `data` of an event")
    max_batch: int = Field(1000, ge=1, description="Most events in one atomic publish")
    poll_interval: int = Field(30, ge=0, description="s-maxage for public channel polling")
    retention_days: int | None = Field(None, ge=1, description="Delete events older than this")
    max_body_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="Largest HTTP request body accepted"
    )
    db_pool_size: int = Field(
        20,
        ge=1,
        description="PostgreSQL read connections kept per process (up to 1.5x under load;"
        " writers get half as many): mind max_connections with --workers",
    )
    sqlite_busy_timeout_ms: int = Field(
        5000, ge=0, description="How long a SQLite writer waits for the lock before a 503"
    )
    log_level: str = Field("INFO", description="Root log level")
    stream_poll_seconds: float = Field(
        0.5,
        gt=0,
        le=60,
        description="How often the realtime tail reads new events without a wake-up: the"
        " latency bound when a notification is lost (and across SQLite worker processes)",
    )
    stream_queue_size: int = Field(
        1000,
        ge=1,
        description="Events buffered per subscriber; past it the subscriber is ended with"
        " SLOW_CONSUMER and the id to resume after",
    )
    stream_auth_check_seconds: float = Field(
        5.0,
        gt=0,
        description="How often running subscriptions re-check their token (revoked/expired)",
    )
    bus_check_seconds: float = Field(
        1.0, gt=0, description="Probe interval of the broadcast connection (dead within ~3x)"
    )
    ws_ping_seconds: float = Field(
        20.0,
        gt=0,
        description="WebSocket ping interval and timeout: a vanished client is dropped after"
        " at most twice this",
    )
    sse_ping_seconds: float = Field(
        15.0, gt=0, description="Heartbeat (comment line) interval of Server-Sent Event streams"
    )
    sse_send_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="A Server-Sent Event stream whose client takes no data for this long is"
        " closed (its subscriber with it)",
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("database_url must use sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def page_size_default(self) -> int:
        return min(100, self.max_page_size)
