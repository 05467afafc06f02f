"""The playbook page: every role reads the rules in force, through the case engine's loader."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from crew.response.playbooks import PLAYBOOKS_FILE, load_playbooks
from crew.store import Workspace
from crew.store.users import Role

from .test_dashboard import login, people  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("people")

OWN_RULE = """\
teams:
  vip_desk: {en: VIP desk, zh: 贵宾服务台}
playbooks:
  - name: vip_fraud
    match: {risk_types: [fraud], levels: [high], tiers: [key], profiles: [finance]}
    steps:
      - {action: private_banker_call, team: vip_desk, sla_hours: 1.5, channel: phone,
         escalate_to: fraud_ops,
         message: {en: "Call {customer} about: {reason}", zh: "请致电客户{customer}：{reason}"}}
"""


def _rows(html: str) -> list[str]:
    return re.findall(r'data-playbook="([^"]+)"', html)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_role_sees_the_rules_in_matching_order(client: TestClient, role: str) -> None:
    login(client, role)
    page = client.get("/playbooks")
    assert page.status_code == 200
    assert _rows(page.text) == [p.name for p in load_playbooks().playbooks]
    assert 'href="/playbooks"' in page.text, "the navigation links the page"


def test_steps_teams_and_tiers_are_shown_in_both_languages(
    client: TestClient,
) -> None:
    login(client, "analyst")
    english = client.get("/playbooks?lang=en").text
    fraud = english.split('data-playbook="fraud"')[1].split("data-playbook=")[0]
    assert "fraud_hold" in fraud and "Fraud operations" in fraud and "Internal work" in fraud
    assert "Hold risky transactions of {customer}: {reason}" in fraud
    assert ">2<" in fraud, "the 2-hour deadline of the fraud hold"
    assert "top 5% by CLV" in english and "next 20% by CLV" in english
    chinese = client.get("/playbooks?lang=zh").text
    assert "应对策略" in chinese and "反欺诈组" in chinese
    assert "冻结客户{customer}的可疑交易" in chinese
    assert "重点客户" in chinese and "CLV 排名前 5%" in chinese


def test_the_workspace_file_comes_first_as_the_case_engine_reads_it(
    client: TestClient,
    workspace: Workspace,
) -> None:
    (workspace.root / PLAYBOOKS_FILE).parent.mkdir(exist_ok=True)
    (workspace.root / PLAYBOOKS_FILE).write_text(
        OWN_RULE + "tiers: {key_share: 0.1, important_share: 0.3}\n", encoding="utf-8"
    )
    login(client, "compliance")
    page = client.get("/playbooks").text
    assert _rows(page) == [p.name for p in load_playbooks(workspace.root).playbooks]
    assert _rows(page)[0] == "vip_fraud"
    own = page.split('data-playbook="vip_fraud"')[1].split("data-playbook=")[0]
    assert "VIP desk" in own and "Finance" in own and "1.5" in own and "Fraud operations" in own
    assert "top 10% by CLV" in page and str(PLAYBOOKS_FILE) in page


def test_a_broken_workspace_file_is_named_on_the_page(
    client: TestClient,
    workspace: Workspace,
) -> None:
    (workspace.root / PLAYBOOKS_FILE).parent.mkdir(exist_ok=True)
    (workspace.root / PLAYBOOKS_FILE).write_text(
        OWN_RULE.replace("team: vip_desk", "team: nobody"), encoding="utf-8"
    )
    login(client, "analyst")
    page = client.get("/playbooks")
    assert page.status_code == 500
    assert "unknown team" in page.text and "nobody" in page.text


def test_the_page_needs_a_login(client: TestClient) -> None:
    answer = client.get("/playbooks", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
