"""Role policy and PII masking: who sees what, and what everyone else sees."""

from __future__ import annotations

import pytest

from crew.response.access import (
    PII_FIELDS,
    POLICY,
    Permission,
    can,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_value,
    profile_for,
    sees_pii,
)
from crew.store.users import Role


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张伟", "张**"), ("王娟嘉", "王**"), ("欧阳娜娜", "欧**"), ("Anna Lee", "A*** L***"),
     ("Leo", "L***"), ("", "")],
)  # fmt: skip
def test_names_keep_only_the_first_character_of_each_part(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("130-1502-1839", "130-****-1839"),
     ("+86 138 1234 5678", "+86 1** **** 5678"), ("12345", "*2345")],
)  # fmt: skip
def test_phones_keep_the_first_three_and_last_four_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_emails_and_id_numbers() -> None:
    assert mask_email("a.lee@example.com") == "a***@example.com"
    assert mask_email("张三@例子.中国") == "张***@例子.中国"
    assert mask_id_number("110101199003071234") == "1101**********1234"
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_id_number("123") == "***"


def test_no_masked_value_contains_the_hidden_part() -> None:
    raw = {"name": "李霞华", "phone": "152-5871-2852", "email": "2930302887@qq.com",
           "id_number": "350922197904253473", "segment": "family"}  # fmt: skip
    masked = profile_for(Role.ANALYST, raw)
    assert masked["segment"] == "family"
    assert masked["name"] == "李**" and "霞华" not in str(masked)
    assert "5871" not in str(masked["phone"]) and "302887" not in str(masked["email"])
    assert "19790425" not in str(masked["id_number"])
    assert set(PII_FIELDS) <= set(masked)
    assert mask_value("id_number", None) is None


def test_only_compliance_and_admin_see_pii() -> None:
    assert {r for r in Role if sees_pii(r)} == {Role.ADMIN, Role.COMPLIANCE}
    raw = {"name": "Anna Lee", "phone": "13812345678"}
    assert profile_for(Role.COMPLIANCE, raw) == raw
    assert profile_for(Role.ADMIN, raw) == raw
    for role in (Role.ANALYST, Role.RESPONDER, Role.MANAGER):
        assert profile_for(role, raw) == {"name": "A*** L***", "phone": "138****5678"}


def test_policy_table() -> None:
    assert set(POLICY) == set(Role), "every role has an entry"
    assert all(can(r, Permission.VIEW) for r in Role)
    acting = {r for r in Role if can(r, Permission.ACT)}
    assert acting == {Role.ADMIN, Role.MANAGER, Role.RESPONDER}
    assert {r for r in Role if can(r, Permission.ASSIGN)} == {Role.ADMIN, Role.MANAGER}
    assert {r for r in Role if can(r, Permission.SETTINGS)} == {Role.ADMIN}
    assert {r for r in Role if can(r, Permission.READ_AUDIT)} == {Role.ADMIN, Role.COMPLIANCE}
