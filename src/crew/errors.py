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


__all__ = [
    "ConfigError",
    "CrewError",
    "MappingError",
    "SourceError",
    "ValidationFailed",
    "WorkspaceError",
]
