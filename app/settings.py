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
    allow_anonymous: bool = Field(
        True,
        description="GraphQL answers callers without a token with public channels' events;"
        " false makes every GraphQL operation that reads data require a token (REST read"
        " routes follow their seed contracts either way)",
    )
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
        description="PostgreSQL connections per process: reads open up to 1.5x this many as"
        " the load needs and keep them, writers up to 0.75x: mind max_connections with"
        " --workers",
    )
    db_warm_connections: int = Field(
        8,
        ge=0,
        description="PostgreSQL connections of each pool (read, write) opened in the"
        " background at start-up, so that the first requests do not open them (0: none)",
    )
    sqlite_busy_timeout_ms: int = Field(
        5000, ge=0, description="How long a SQLite writer waits for the lock before a 503"
    )
    statement_timeout_ms: int = Field(
        5000,
        ge=0,
        description="Time budget of every database statement (0: none); past it 503 QUERY_TIMEOUT",
    )
    max_request_cost: int = Field(
        50_000,
        ge=1,
        description="Cost budget of one request: page size times filter cost summed over every"
        " connection read (docs/graphql.md); past it 400 BAD_USER_INPUT",
    )
    header_timeout: float = Field(
        10.0, gt=0, description="Seconds a client has to send a request line and headers"
    )
    body_timeout: float = Field(30.0, gt=0, description="Seconds a client has to send a body")
    max_header_bytes: int = Field(
        256 * 1024,
        ge=8 * 1024,
        description="Largest request line plus headers (long filters travel on the query"
        " string); past it 431",
    )
    keep_alive_timeout: int = Field(
        5, ge=1, description="Seconds an idle keep-alive connection stays open"
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
    webhook_allow_private: bool = Field(
        False,
        description="Allow webhook URLs on loopback, private, link-local and other"
        " non-public addresses (tests and closed networks only)",
    )
    webhook_retry_base: float = Field(
        30.0, gt=0, description="Seconds before the first webhook retry; doubles each time"
    )
    webhook_max_attempts: int = Field(
        10, ge=1, le=50, description="Attempts per webhook delivery before it is marked failed"
    )
    webhook_timeout: float = Field(
        10.0, gt=0, le=120, description="Seconds a webhook receiver has to answer"
    )
    webhook_concurrency: int = Field(
        4, ge=1, le=100, description="Concurrent deliveries per webhook, over all processes"
    )
    webhook_window: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="Pending delivery rows per webhook; past it, what is queued waits as"
        " ranges, released in order as the window frees",
    )
    webhook_busy_rate: float = Field(
        100.0,
        ge=0,
        description="Deliveries per second a process starts while it is busy publishing"
        " (0: no limit); full speed again once publishing pauses",
    )
    webhook_poll_interval: float = Field(
        1.0, gt=0, description="Seconds between outbox polls when not woken by a publish"
    )
    webhook_log_retention: float = Field(
        7 * 24 * 3600.0,
        gt=0,
        description="Seconds a succeeded webhook delivery (with its attempts) stays in the log",
    )
    webhook_failed_log_retention: float = Field(
        30 * 24 * 3600.0,
        gt=0,
        description="Seconds a failed or skipped webhook delivery stays in the log (unless"
        " retried)",
    )
    fast_paths: bool = Field(
        True,
        description="Serve the hot reads (planned GraphQL queries, GET /api/events) through"
        " their shortcut paths; off, every request takes the general path",
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
