"""Workspace settings (`crew.toml`), typed and strict, with `CREW_*` overrides.

Only `load_config` reads the file; every other module receives a `Settings` object.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from crew._config_realtime import (
    NotifySettings,
    ScheduleSettings,
    StreamSettings,
    WebhookSettings,
)
from crew.errors import ConfigError
from crew.types import Industry

CONFIG_FILE = "crew.toml"
ENV_PREFIX = "CREW_"


class StoreSettings(BaseModel):
    """Where the workspace keeps its data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duckdb_file: str = Field(
        default="crew.duckdb",
        description="Analytical store: DuckDB file, relative to the workspace folder.",
    )
    threads: int | None = Field(
        default=None, ge=1, description="DuckDB worker threads; empty means one per core."
    )
    memory_limit: str | None = Field(
        default=None, description="DuckDB memory cap such as '8GB'; empty means DuckDB's default."
    )
    operational_url: str | None = Field(
        default=None,
        description="Operational store (warnings, runs, cases): SQLAlchemy URL; "
        "default an SQLite file in the workspace.",
    )


class ApiSettings(BaseModel):
    """Where `crew serve` listens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(default="127.0.0.1", description="Interface the API binds to.")
    port: int = Field(default=8642, ge=1, le=65535, description="TCP port of the API.")
    rate_limit_per_second: float = Field(
        default=50.0,
        gt=0,
        description="Requests per second each API token may make on average (token bucket).",
    )
    rate_limit_burst: int = Field(
        default=100,
        ge=1,
        description="Requests an API token may make at once before the rate limit applies.",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body accepted, in bytes; larger ones get 413.",
    )


class SparkSettings(BaseModel):
    """How `--engine spark` reaches Apache Spark."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    master: str = Field(
        default="local[2]",
        description="Spark master URL: local[N] on this machine, or a cluster's URL.",
    )
    driver_memory: str = Field(default="2g", description="Memory of the Spark driver.")
    parquet_dir: str = Field(
        default="exports/parquet",
        description="Where the canonical tables are exported as Parquet for Spark to read, "
        "relative to the workspace (a cluster needs a shared path here).",
    )


class ResponseSettings(BaseModel):
    """How warnings are acted on, and how the effect of acting is measured."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    control_share: float = Field(
        default=0.1,
        ge=0.0,
        le=0.5,
        description="Share of warnings put in a random control group that receives no action, "
        "so that the effect of actions can be measured (treated vs control).",
    )


class BlacklistSettings(BaseModel):
    """The shared blacklist (行业黑名单): the partners' key, and how phones are read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_env: str = Field(
        default="CREW_BLACKLIST_KEY",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable holding the HMAC key shared by the partners "
        "(never written in a file); without it, blacklist matching is skipped.",
    )
    country_code: str = Field(
        default="86",
        pattern=r"^[1-9][0-9]{0,2}$",
        description="Country calling code of phone numbers written without '+' or '00'.",
    )
    source: str = Field(
        default="local",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$",
        description="Source name of the entries added here; 'crew blacklist export' shares them.",
    )


class Settings(BaseModel):
    """Everything a workspace can be told in `crew.toml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    industry: Industry = Field(
        default=Industry.GENERIC,
        description="Industry profile that picks indicators, weights and thresholds.",
    )
    timezone: str = Field(
        default="UTC",
        description="Time zone for imported timestamps that carry no offset (IANA name).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Least severe log level that is written."
    )
    store: StoreSettings = Field(default_factory=StoreSettings, description="Data stores.")
    api: ApiSettings = Field(default_factory=ApiSettings, description="Web API and dashboard.")
    response: ResponseSettings = Field(
        default_factory=ResponseSettings, description="Response to warnings."
    )
    spark: SparkSettings = Field(
        default_factory=SparkSettings, description="Apache Spark engine for indicators."
    )
    schedule: ScheduleSettings = Field(
        default_factory=ScheduleSettings, description="Scheduled batch runs in crew serve."
    )
    stream: StreamSettings = Field(
        default_factory=StreamSettings, description="Event bus of the real-time monitor."
    )
    blacklist: BlacklistSettings = Field(
        default_factory=BlacklistSettings, description="Shared blacklist (行业黑名单)."
    )
    webhooks: list[WebhookSettings] = Field(
        default_factory=list,
        description="Receivers of warning changes ([[webhooks]] tables), each signed with HMAC.",
    )
    notify: NotifySettings = Field(
        default_factory=NotifySettings, description="Webhook dispatch and alert streaming."
    )

    @field_validator("webhooks")
    @classmethod
    def _unique_webhook_names(cls, webhooks: list[WebhookSettings]) -> list[WebhookSettings]:
        names = [w.name for w in webhooks]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"webhook names must be unique; repeated: {', '.join(twice)}")
        return webhooks


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `path` (missing file: defaults), then `CREW_SECTION__KEY` variables.

    >>> load_config(Path("/nonexistent/crew.toml"), env={"CREW_API__PORT": "9000"}).api.port
    9000
    """
    raw: dict[str, object] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{path}: not valid TOML ({exc}).", hint="Fix the syntax or delete the file."
            ) from None
    _overlay_env(raw, os.environ if env is None else env)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        got = first.get("input")
        # A webhook's secret must not reach a terminal or a log, nor a table that holds one.
        shown = "" if "secret" in where or isinstance(got, dict) else f" (got {got!r})"
        raise ConfigError(
            f"{path}: {where}: {first['msg']}{shown}.",
            hint="'crew init --help' lists the settings; docs/operations.md explains each.",
        ) from None


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_yaml_rules(text: str, where: str, model: type[ModelT], *, hint: str) -> ModelT:
    """A rules file (YAML) as `model`; ConfigError naming the file and the field otherwise.

    >>> try:
    ...     parse_yaml_rules("port: 0", "api.yaml", ApiSettings, hint="")
    ... except ConfigError as exc:
    ...     print(exc)
    api.yaml: port: Input should be greater than or equal to 1.
    """
    try:
        return model.model_validate(yaml.safe_load(text) or {})
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({exc}).", hint=hint) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{where}: {loc}: {first['msg'].removeprefix('Value error, ')}.", hint=hint
        ) from None


def _overlay_env(raw: dict[str, object], env: Mapping[str, str]) -> None:
    """Apply `CREW_API__PORT=9000`-style variables on top of the file's values."""
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        keys = name[len(ENV_PREFIX) :].lower().split("__")
        if keys[0] not in Settings.model_fields:
            continue  # CREW_WORKSPACE and other variables that are not settings
        node = raw
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{name}: '{key}' is not a settings section.")
            node = child
        node[keys[-1]] = value


def render_default_config() -> str:
    """The commented `crew.toml` that `crew init` writes."""
    s = Settings()
    return (
        "# CREW workspace settings. Every key is optional; CREW_<SECTION>__<KEY>\n"
        "# environment variables override it (e.g. CREW_API__PORT=9000).\n\n"
        f"# {Settings.model_fields['industry'].description}\n"
        f'industry = "{s.industry.value}"\n'
        f"# {Settings.model_fields['timezone'].description}\n"
        f'timezone = "{s.timezone}"\n'
        f"# {Settings.model_fields['log_level'].description}\n"
        f'log_level = "{s.log_level}"\n\n'
        "[store]\n"
        f"# {StoreSettings.model_fields['duckdb_file'].description}\n"
        f'duckdb_file = "{s.store.duckdb_file}"\n\n'
        "[api]\n"
        f"# {ApiSettings.model_fields['host'].description}\n"
        f'host = "{s.api.host}"\n'
        f"# {ApiSettings.model_fields['port'].description}\n"
        f"port = {s.api.port}\n\n"
        "[response]\n"
        f"# {ResponseSettings.model_fields['control_share'].description}\n"
        f"control_share = {s.response.control_share}\n\n"
        "[spark]\n"
        f"# {SparkSettings.model_fields['master'].description}\n"
        f'master = "{s.spark.master}"\n\n'
        "[blacklist]\n"
        f"# {BlacklistSettings.model_fields['key_env'].description}\n"
        f'key_env = "{s.blacklist.key_env}"\n'
    )


__all__ = [
    "CONFIG_FILE",
    "ApiSettings",
    "BlacklistSettings",
    "NotifySettings",
    "ResponseSettings",
    "Settings",
    "SparkSettings",
    "StoreSettings",
    "StreamSettings",
    "WebhookSettings",
    "load_config",
    "parse_yaml_rules",
]
