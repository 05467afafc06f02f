"""The combining rule: defaults, workspace overrides per profile, errors naming the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from crew.cli import app
from crew.errors import ConfigError
from crew.models.combining import SCORING_FILE, CombineRule, load_combine_rule
from crew.models.scoring import with_signal_levels
from crew.store import Workspace, open_workspace
from crew.store.operational import open_operational_store
from crew.types import Industry, Level


def _write(root: Path, text: str) -> None:
    (root / SCORING_FILE).parent.mkdir(parents=True, exist_ok=True)
    (root / SCORING_FILE).write_text(text, encoding="utf-8")


def test_bands_map_the_index_to_levels() -> None:
    rule = CombineRule()
    assert [rule.level_for(x) for x in (50.0, 80.0, 90.0, 95.0, float("nan"))] == [
        Level.NONE,
        Level.LOW,
        Level.MEDIUM,
        Level.HIGH,
        Level.NONE,
    ]


def test_profile_overrides_the_workspace_default(tmp_path: Path) -> None:
    _write(tmp_path, "default: {high_at: 97}\nprofiles:\n  finance: {fuzzy_share: 0.8}\n")
    assert load_combine_rule(tmp_path, None) == CombineRule(high_at=97)
    assert load_combine_rule(tmp_path, Industry.FINANCE) == CombineRule(high_at=97, fuzzy_share=0.8)
    assert load_combine_rule(tmp_path / "none", Industry.FINANCE) == CombineRule()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("default: {high_at: 50}\n", "bands must rise"),
        ("default: {fuzzy_share: 2}\n", "fuzzy_share: Input should be less than or equal to 1"),
        ("default: {hi_at: 90}\n", "hi_at: Extra inputs are not permitted"),
        ("profiles: {banking: {}}\n", "profiles.banking"),
        (
            "default: {signal_floor: maybe}\n",
            "default.signal_floor: expected a number or true/false",
        ),
    ],
)
def test_bad_scoring_files_name_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_combine_rule(tmp_path, Industry.FINANCE)
    assert str(caught.value).startswith(str(tmp_path / SCORING_FILE))
    assert message in str(caught.value)


def test_every_setting_is_documented() -> None:
    assert all(f.description for f in CombineRule.model_fields.values())


def _assessment() -> pd.DataFrame:
    reasons = [[{"indicator": "recency_days", "en": "No purchase", "zh": "无购买"}]] * 3
    return pd.DataFrame(
        {"level": ["none", "low", "high"], "colour": ["green", "yellow", "red"],
         "reasons": reasons, "risk_index": [10.0, 82.0, 97.0]},
        index=pd.Index(["C1", "C2", "C3"], name="customer_id"),
    )  # fmt: skip


def test_a_signal_graded_higher_lifts_the_level_and_leads_the_reasons() -> None:
    fraud = {"signal": "fraud_pattern", "en": "New device at night", "zh": "夜间新设备"}
    warnings = pd.DataFrame(
        {"customer_id": ["C1", "C1", "C2", "C3", None],
         "level": ["low", "high", "low", "medium", "high"],
         "reasons": [[{"en": "churn"}], [fraud], [{"en": "same"}], [{"en": "lower"}],
                     [{"en": "segment"}]]},
    )  # fmt: skip
    out = with_signal_levels(_assessment(), warnings, CombineRule())
    assert list(out["level"]) == ["high", "low", "high"]  # C2 and C3: no higher signal
    assert list(out["colour"]) == ["red", "yellow", "red"]
    assert out.at["C1", "reasons"][0] == fraud and len(out.at["C1", "reasons"]) == 2
    assert out.at["C2", "reasons"] == _assessment().at["C2", "reasons"]
    assert list(out["risk_index"]) == [10.0, 82.0, 97.0]  # the index stays the model's
    unchanged = with_signal_levels(_assessment(), warnings, CombineRule(signal_floor=False))
    pd.testing.assert_frame_equal(unchanged, _assessment())


def test_a_run_stores_no_customer_below_its_warnings(
    scored_workspace: Workspace, tmp_path: Path, cli: CliRunner
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(scored_workspace.root, root)
    result = cli.invoke(app, ["-w", str(root), "run", "--as-of", "2024-12-01"])
    assert result.exit_code == 0, result.stderr
    rank = {"none": 0, "low": 1, "medium": 2, "high": 3}
    with open_operational_store(open_workspace(root), None) as store:
        warned = store.active_warnings()
    warned = warned[warned["customer_id"].notna()]
    assert len(warned) > 0
    with duckdb.connect(str(root / "crew.duckdb"), read_only=True) as conn:
        levels = dict(
            conn.execute(
                "SELECT customer_id, level FROM scores WHERE as_of = '2024-12-01'"
            ).fetchall()
        )
    for customer, level in zip(warned["customer_id"], warned["level"], strict=True):
        assert rank[levels[customer]] >= rank[level], customer
