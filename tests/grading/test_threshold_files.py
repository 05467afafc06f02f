"""Threshold rules saved into a workspace file: merged by signal, checked by the loader, atomic."""

from __future__ import annotations

from pathlib import Path

import pytest

from crew.errors import ConfigError
from crew.grading.threshold_files import save_threshold_rules, workspace_rules
from crew.grading.thresholds import THRESHOLDS_FILE, ThresholdRule, load_thresholds
from crew.types import Industry

SIGNALS = ["activity_drop", "complaint_surge", "fraud_pattern"]


def test_a_saved_rule_replaces_its_signal_and_keeps_the_others(tmp_path: Path) -> None:
    (tmp_path / "catalog").mkdir()
    (tmp_path / THRESHOLDS_FILE).write_text(
        "rules:\n  - {signal: complaint_surge, low_at: 3, medium_at: 4}\n"
        "  - {signal: activity_drop, low_at: 1, profiles: [finance]}\n",
        encoding="utf-8",
    )
    rule = ThresholdRule(signal="activity_drop", low_at=2.0, medium_at=3.0)
    in_force = save_threshold_rules(tmp_path, [rule], Industry.GENERIC, signals=SIGNALS)
    assert in_force["activity_drop"].medium_at == 3.0
    assert in_force == load_thresholds(tmp_path, Industry.GENERIC)
    saved = workspace_rules(tmp_path)
    assert [(r.signal, r.profiles) for r in saved] == [
        ("complaint_surge", ()),
        ("activity_drop", (Industry.FINANCE,)),
        ("activity_drop", ()),
    ]
    # The finance rule still wins for finance: only the generic one was replaced.
    assert load_thresholds(tmp_path, Industry.FINANCE)["activity_drop"].low_at == 1


def test_a_file_the_loader_refuses_is_never_written(tmp_path: Path) -> None:
    # Built without validation, as a bug elsewhere might: the run's loader is the last gate.
    bad = ThresholdRule.model_construct(
        signal="activity_drop", low_at=5.0, medium_at=1.0, high_at=None
    )
    with pytest.raises(ConfigError) as caught:
        save_threshold_rules(tmp_path, [bad], None, signals=SIGNALS)
    assert "limits must rise" in caught.value.message
    assert str(tmp_path / THRESHOLDS_FILE) in caught.value.message, "names the real file"
    assert list((tmp_path / "catalog").iterdir()) == [], "no file, no draft"


def test_an_unknown_signal_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown signal 'nope'"):
        save_threshold_rules(tmp_path, [ThresholdRule(signal="nope", low_at=1)], None,
                             signals=SIGNALS)  # fmt: skip
    assert not (tmp_path / THRESHOLDS_FILE).exists()
