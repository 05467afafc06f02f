"""Playbooks: built-in rules, matching order, workspace overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from crew.errors import ConfigError
from crew.response.playbooks import PLAYBOOKS_FILE, Tier, load_playbooks
from crew.types import Industry, Level, RiskType


def test_built_in_playbooks_cover_every_risk_type() -> None:
    book = load_playbooks()
    for risk in RiskType:
        assert book.find(risk, Level.HIGH, Tier.REGULAR, None) is not None, risk


def test_first_match_wins_and_tier_picks_the_key_customer_rule() -> None:
    book = load_playbooks()
    key = book.find(RiskType.CHURN, Level.HIGH, Tier.KEY, Industry.ECOMMERCE)
    regular = book.find(RiskType.CHURN, Level.HIGH, Tier.REGULAR, Industry.ECOMMERCE)
    assert key is not None and key.name == "key_customer_churn"
    assert regular is not None and regular.name == "churn_high"
    assert key.steps[0].team == "risk_response"  # 专项风险响应小组 calls key customers
    assert book.teams["risk_response"].zh == "专项风险响应小组"


def test_a_workspace_rule_comes_first_and_replaces_by_name(tmp_path: Path) -> None:
    (tmp_path / "catalog").mkdir()
    (tmp_path / PLAYBOOKS_FILE).write_text(
        "teams:\n  vip_desk: {en: VIP desk, zh: 贵宾服务台}\n"
        "playbooks:\n"
        "  - name: vip_fraud\n"
        "    match: {risk_types: [fraud], tiers: [key]}\n"
        "    steps:\n"
        "      - {action: personal_call, team: vip_desk, sla_hours: 1, channel: phone,\n"
        "         message: {en: 'Call {customer}', zh: '致电{customer}'}}\n",
        encoding="utf-8",
    )
    book = load_playbooks(tmp_path)
    found = book.find(RiskType.FRAUD, Level.HIGH, Tier.KEY, None)
    assert found is not None and found.name == "vip_fraud"
    other = book.find(RiskType.FRAUD, Level.HIGH, Tier.REGULAR, None)
    assert other is not None and other.name == "fraud"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "playbooks:\n  - name: x\n    steps:\n      - {action: call, team: nobody, "
            "sla_hours: 1, channel: phone, message: {en: a, zh: b}}\n",
            "playbooks[0] (x) step 1: unknown team 'nobody'",
        ),
        (
            "playbooks:\n  - name: x\n    steps:\n      - {action: call, team: retention, "
            "sla_hours: 0, channel: phone, message: {en: a, zh: b}}\n",
            "playbooks.0.steps.0.sla_hours: Input should be greater than 0",
        ),
        (
            "playbooks:\n  - name: x\n    steps:\n      - {action: call, team: retention, "
            "sla_hours: 1, channel: fax, message: {en: a, zh: b}}\n",
            "playbooks.0.steps.0.channel: Input should be",
        ),
    ],
)
def test_a_bad_playbook_names_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "catalog").mkdir()
    (tmp_path / PLAYBOOKS_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_playbooks(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / PLAYBOOKS_FILE}: ")
    assert message in str(caught.value)
