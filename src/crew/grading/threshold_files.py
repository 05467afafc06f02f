"""Saving threshold rules into a workspace's `catalog/thresholds.yaml`, checked and atomic.

The dashboard's settings page writes here. A saved rule replaces the workspace rule of the
same signal and profiles, or is added; the new file is written beside the old one, read back
by `load_thresholds` (the loader every run uses) and only then renamed over it, so a bad
value never reaches the file a run reads and a crash never leaves half a file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import yaml

from crew.config import parse_yaml_rules
from crew.errors import ConfigError
from crew.grading.thresholds import THRESHOLDS_FILE, ThresholdRule, ThresholdsFile, load_thresholds
from crew.types import Industry

_HEADER = (
    "# Trigger thresholds of this workspace: each rule replaces the built-in rule of its\n"
    "# signal (docs/signals.md, 'Thresholds'). Saved from the dashboard's settings page,\n"
    "# which rewrites this file: keep notes elsewhere.\n"
)
_HINT = "docs/signals.md ('Thresholds') lists the fields of a rule."


def merged_rules(
    existing: Sequence[ThresholdRule], changed: Sequence[ThresholdRule]
) -> list[ThresholdRule]:
    """`existing` with each rule of `changed` in place of the one of the same signal and
    profiles, or appended.

    >>> a = ThresholdRule(signal="a", low_at=1)
    >>> b = ThresholdRule(signal="b", low_at=2)
    >>> [(r.signal, r.low_at) for r in merged_rules([a, b], [a.model_copy(update={"low_at": 3})])]
    [('a', 3), ('b', 2.0)]
    """
    rules = list(existing)
    for rule in changed:
        key = (rule.signal, rule.profiles)
        place = next((i for i, r in enumerate(rules) if (r.signal, r.profiles) == key), None)
        if place is None:
            rules.append(rule)
        else:
            rules[place] = rule
    return rules


def workspace_rules(workspace_root: Path) -> list[ThresholdRule]:
    """The rules of the workspace's own file (none when it has no file)."""
    path = workspace_root / THRESHOLDS_FILE
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return parse_yaml_rules(text, str(path), ThresholdsFile, hint=_HINT).rules


def save_threshold_rules(
    workspace_root: Path,
    changed: Sequence[ThresholdRule],
    profile: Industry | None,
    *,
    signals: Sequence[str],
) -> dict[str, ThresholdRule]:
    """Write `changed` into the workspace file; the rules in force afterwards, by signal.

    Raises:
        ConfigError: the new file does not load (the old file is left as it was).
    """
    path = workspace_root / THRESHOLDS_FILE
    rules = merged_rules(workspace_rules(workspace_root), changed)
    unknown = sorted({r.signal for r in rules} - set(signals))
    if unknown:
        raise ConfigError(
            f"{path}: threshold rule for unknown signal '{unknown[0]}'.",
            hint=f"Known signals: {', '.join(sorted(signals))}.",
        )
    body = {"rules": [r.model_dump(mode="json", exclude_defaults=True) for r in rules]}
    text = _HEADER + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with draft.open("w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        try:
            in_force = load_thresholds(workspace_root, profile, path=draft)
        except ConfigError as exc:
            raise ConfigError(exc.message.replace(str(draft), str(path)), hint=exc.hint) from None
        os.replace(draft, path)
    except OSError as exc:
        raise ConfigError(f"Cannot write {path}: {exc.strerror}.") from None
    finally:
        draft.unlink(missing_ok=True)
    return in_force


__all__ = ["merged_rules", "save_threshold_rules", "workspace_rules"]
