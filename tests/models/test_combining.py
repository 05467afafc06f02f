"""The combining rule: defaults, workspace overrides per profile, errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from crew.errors import ConfigError
from crew.models.combining import SCORING_FILE, CombineRule, load_combine_rule
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
