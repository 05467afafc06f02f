"""Settings of the real-time monitor (`crew.toml` sections `[stream]`, `[schedule]`,
`[[webhooks]]`, `[notify]`): the event bus, scheduled runs, webhooks and their dispatch.

`crew.config.Settings` holds them; import them from `crew.config`.
"""

from __future__ import annotations

from typing import Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    model_validator,
)

from crew.types import Level, NotificationEvent, RiskType


class StreamSettings(BaseModel):
    """The event bus behind `POST /v1/events` and `crew worker`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    redis_url: str | None = Field(
        default=None,
        description="Redis Streams URL such as redis://127.0.0.1:6379/0; empty means an "
        "in-process queue inside 'crew serve' (no 'crew worker' needed).",
    )
    key_prefix: str = Field(
        default="crew",
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Prefix of every Redis key CREW uses (streams, leases, dedup marks).",
    )
    partitions: int = Field(
        default=4,
        ge=1,
        le=256,
        description="Streams the events are spread over by customer id; one customer's events "
        "stay in one stream, in order. Do not change it while events are pending.",
    )
    max_len: int = Field(
        default=100_000,
        ge=1,
        description="Unprocessed events a partition may hold; beyond it ingest answers 429.",
    )
    claim_idle_ms: int = Field(
        default=30_000,
        ge=1,
        description="Milliseconds an event may stay unacknowledged before another worker "
        "takes it over (a dead worker's events).",
    )
    lease_ms: int = Field(
        default=10_000,
        ge=100,
        description="Milliseconds a worker owns a partition without renewing it; a worker "
        "that stops renewing is taken to be dead.",
    )
    batch: int = Field(
        default=500, ge=1, description="Events a worker reads from a partition at once."
    )
    block_ms: int = Field(
        default=1_000, ge=1, description="Milliseconds a worker waits for new events per read."
    )
    dedup_ttl_s: int = Field(
        default=86_400,
        ge=1,
        description="Seconds an event id is remembered as processed (redeliveries within it "
        "are skipped).",
    )
    retry_after_s: int = Field(
        default=2, ge=1, description="Seconds a publisher is told to wait when the stream is full."
    )
    group: str = Field(default="crew-workers", description="Redis consumer group of the workers.")
    land_events: bool = Field(
        default=True,
        description="Write each handled batch as Parquet under <workspace>/stream/landed/, "
        "imported into the analytical store by the next 'crew run' (or 'crew import --landed').",
    )
    refresh_scores: bool = Field(
        default=True,
        description="Score a customer again with the registered model when its events move "
        "the model's inputs materially (kept in the operational store's live_scores).",
    )
    refresh_shift: float = Field(
        default=0.1,
        gt=0,
        le=1,
        description="A material move: an input's percentile among the training population "
        "changes by at least this share (0.1 = ten points), or it gains or loses a value.",
    )
    refresh_every_ms: int = Field(
        default=1_000,
        ge=1,
        description="Milliseconds between two refresh rounds while events keep coming (a "
        "worker with nothing to read refreshes at once).",
    )
    refresh_budget_ms: int = Field(
        default=20,
        ge=1,
        description="Milliseconds a refresh round may spend comparing customers' inputs on "
        "the worker's thread (scoring those that moved comes on top); the rest wait for the "
        "next round.",
    )


class ScheduleSettings(BaseModel):
    """The built-in scheduler of `crew serve`: the batch run for everyone, periodically."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_every: str | None = Field(
        default=None,
        pattern=r"^[1-9][0-9]*[mhd]$",
        description="Run 'crew run' (landed events imported first) every this long, "
        "e.g. 30m, 6h, 1d; unset: no scheduled runs (use cron).",
    )

    @property
    def every_s(self) -> float | None:
        """`run_every` in seconds (None when unset)."""
        if not self.run_every:
            return None
        unit = {"m": 60, "h": 3_600, "d": 86_400}[self.run_every[-1]]
        return float(int(self.run_every[:-1]) * unit)


class WebhookSettings(BaseModel):
    """One `[[webhooks]]` receiver: where warning changes are POSTed, signed, and which ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
        description="Short unique name (e.g. crm); part of each delivery id and of the logs.",
    )
    url: str = Field(
        pattern=r"^https?://\S+$",
        description="Address the JSON is POSTed to. It is never logged (it may hold a token).",
    )
    secret_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable holding the signing secret (preferred: keeps it "
        "out of the file).",
    )
    secret: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="The signing secret itself, when an environment variable cannot be used.",
    )
    min_level: Level = Field(
        default=Level.LOW, description="Only warnings at this level or above are sent."
    )
    risk_types: list[RiskType] = Field(
        default_factory=list, description="Only these risk types are sent; empty means all."
    )
    events: list[NotificationEvent] = Field(
        default_factory=lambda: [
            NotificationEvent.OPENED,
            NotificationEvent.ESCALATED,
            NotificationEvent.RESOLVED,
        ],
        description="Which changes are sent: opened, escalated, resolved.",
    )
    max_attempts: int = Field(
        default=6, ge=1, le=50, description="Tries before a delivery is dead-lettered."
    )
    timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="Seconds one POST may take before it fails."
    )

    @model_validator(mode="after")
    def _one_secret(self) -> Self:
        if (self.secret is None) == (self.secret_env is None):
            raise ValueError("set exactly one of secret_env (preferred) and secret")
        if NotificationEvent.HELD in self.events:
            raise ValueError("'held' warnings are never sent; use opened, escalated, resolved")
        return self


class NotifySettings(BaseModel):
    """How notifications are dispatched to webhooks and streamed to dashboards."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    interval_s: float = Field(
        default=2.0,
        gt=0,
        description="Seconds between two passes of the dispatcher inside 'crew serve'.",
    )
    backoff_s: float = Field(
        default=30.0,
        gt=0,
        description="Wait before the second attempt of a failed delivery; it doubles with "
        "each further attempt (with random jitter).",
    )
    backoff_max_s: float = Field(
        default=3600.0, gt=0, description="Longest wait between two attempts of a delivery."
    )
    stream_poll_s: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="Seconds between two looks at the outbox by each /v1/stream/alerts client.",
    )
    stream_heartbeat_s: float = Field(
        default=15.0,
        gt=0,
        description="Seconds of quiet after which /v1/stream/alerts sends a comment line, so "
        "proxies keep the connection open.",
    )


__all__ = ["NotifySettings", "ScheduleSettings", "StreamSettings", "WebhookSettings"]
