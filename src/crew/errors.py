"""Failures a user can cause and fix, each with a message and a hint.

Anything that is not a `CrewError` is a bug: it is allowed to raise with a traceback.
"""

from __future__ import annotations


class CrewError(Exception):
    """A problem the user can fix; shown without a traceback."""

    exit_code = 1
    code = "crew_error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(CrewError):
    """A settings or rules file is missing, unreadable or invalid."""

    exit_code = 2
    code = "config_error"


class MappingError(ConfigError):
    """A mapping file does not fit the data it describes."""

    code = "mapping_error"


class WorkspaceError(CrewError):
    """The workspace is missing or not initialised."""

    exit_code = 3
    code = "workspace_error"


class SourceError(CrewError):
    """An input file, folder or database table cannot be read."""

    exit_code = 4
    code = "source_error"


class ValidationFailed(CrewError):
    """Input rows break the canonical data contract; nothing was written."""

    exit_code = 5
    code = "validation_failed"

    def __init__(
        self,
        message: str,
        *,
        problems: list[str],
        total: int,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems
        self.total = total


class CatalogError(ConfigError):
    """An indicator definition is invalid (names the indicator and the problem)."""

    code = "catalog_error"


class UnknownIndicatorError(CrewError):
    """A name that is not in the indicator catalog."""

    code = "unknown_indicator"


class WeightsError(CrewError):
    """Weights cannot be computed from the given judgements or data."""

    code = "weights_error"


class InconsistentJudgementsError(WeightsError):
    """An AHP judgement matrix whose consistency ratio is 0.1 or more."""

    code = "inconsistent_judgements"


class StaleDataError(CrewError):
    """Something needed for the request has not been computed for that instant."""

    code = "stale_data"


class ModelNotTrainedError(CrewError):
    """A model was asked to score before it was fitted or loaded."""

    code = "model_not_trained"


class InsufficientDataError(CrewError):
    """The data cannot support the requested fit (too few examples, no repeat buyers)."""

    code = "insufficient_data"


class IncompatibleModelError(CrewError):
    """A registered model does not fit the current catalog or data."""

    exit_code = 7
    code = "incompatible_model"


class EngineError(CrewError):
    """A compute engine (e.g. Spark) is missing or failed to start."""

    exit_code = 6
    code = "engine_error"


class OperationalStoreError(CrewError):
    """The operational store (warnings, runs) cannot be opened or reached."""

    exit_code = 8
    code = "operational_store_error"


class WarningNotFoundError(CrewError):
    """No stored warning has the given id."""

    code = "warning_not_found"


class InvalidTransitionError(CrewError):
    """A warning cannot move from its current state to the requested one."""

    code = "invalid_transition"


class DuplicateWarningError(CrewError):
    """A second active warning for the same subject and risk type, or a reused id."""

    code = "duplicate_warning"


class MissingExtraError(CrewError):
    """An optional part of CREW is not installed (e.g. the `text` extra)."""

    exit_code = 6
    code = "missing_extra"


class TaxonomyError(ConfigError):
    """The topic taxonomy (topics.yaml) or a topic label file is invalid."""

    code = "taxonomy_error"


class CustomerNotFoundError(CrewError):
    """No customer has the given id."""

    code = "customer_not_found"


class InvalidTokenError(CrewError):
    """A request without an API token, or with one that is unknown or revoked."""

    code = "invalid_token"


class MissingScopeError(CrewError):
    """An API token whose scope does not allow the request."""

    code = "missing_scope"


class TokenNotFoundError(CrewError):
    """No active API token has the given name."""

    code = "token_not_found"


class DuplicateTokenError(CrewError):
    """An active API token already has the given name."""

    code = "duplicate_token"


class RateLimitedError(CrewError):
    """An API token sent more requests than its rate limit allows; retry after a pause."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class PayloadTooLargeError(CrewError):
    """A request body above the configured size limit."""

    code = "payload_too_large"


class EventBusError(CrewError):
    """The event bus (Redis) cannot be reached or refused a command."""

    exit_code = 9
    code = "event_bus_error"


class BackpressureError(CrewError):
    """The event stream holds more unprocessed events than allowed; nothing was published."""

    exit_code = 9
    code = "backpressure"

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class DuplicateUserError(CrewError):
    """A dashboard user already has the given name."""

    code = "duplicate_user"


class UserNotFoundError(CrewError):
    """No dashboard user has the given name."""

    code = "user_not_found"


class AuditLogTamperedError(CrewError):
    """The audit log's hash chain is broken: a record was edited or deleted."""

    exit_code = 10
    code = "audit_log_tampered"


class CaseNotFoundError(CrewError):
    """No response case with that id."""


class BlacklistKeyError(ConfigError):
    """The shared blacklist key is missing or too weak where it is needed."""

    code = "blacklist_key"


class InvalidBlacklistEntryError(CrewError):
    """A blacklist entry (import file row, API item or `crew blacklist add`) is refused."""

    exit_code = 5
    code = "invalid_blacklist_entry"


class BlacklistEntryNotFoundError(CrewError):
    """No blacklist entry with that id."""

    code = "blacklist_entry_not_found"


class SilenceNotFoundError(CrewError):
    """No silence with that id."""

    code = "silence_not_found"


class WebhookSecretError(ConfigError):
    """A webhook's signing secret is missing where crew.toml says it is."""

    code = "webhook_secret"


__all__ = [
    "AuditLogTamperedError",
    "BackpressureError",
    "BlacklistEntryNotFoundError",
    "BlacklistKeyError",
    "CaseNotFoundError",
    "CatalogError",
    "ConfigError",
    "CrewError",
    "CustomerNotFoundError",
    "DuplicateTokenError",
    "DuplicateUserError",
    "DuplicateWarningError",
    "EngineError",
    "EventBusError",
    "IncompatibleModelError",
    "InconsistentJudgementsError",
    "InsufficientDataError",
    "InvalidBlacklistEntryError",
    "InvalidTokenError",
    "InvalidTransitionError",
    "MappingError",
    "MissingExtraError",
    "MissingScopeError",
    "ModelNotTrainedError",
    "OperationalStoreError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "SilenceNotFoundError",
    "SourceError",
    "StaleDataError",
    "TaxonomyError",
    "TokenNotFoundError",
    "UnknownIndicatorError",
    "UserNotFoundError",
    "ValidationFailed",
    "WarningNotFoundError",
    "WebhookSecretError",
    "WeightsError",
    "WorkspaceError",
]
