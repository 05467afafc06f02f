"""Who may do what, and personal data masked for everyone else (个人信息脱敏).

The policy is data: each role's permissions in one table. Compliance officers and admins
see personal data (PII) unmasked, and every such view is audited by the caller; every other
role sees `张**`, `138****5678`, `a***@example.com`, `1101**********1234`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from crew.store.users import Role

PII_FIELDS = ("name", "phone", "email", "id_number")
"""Columns of `customers` that hold personal data."""

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_STAR = "*"


class Permission(StrEnum):
    """Things a dashboard user may be allowed to do."""

    VIEW = "view"  # overview, queue, customers (masked), evaluation
    ACT = "act"  # acknowledge, start, resolve or dismiss warnings
    ASSIGN = "assign"  # give warnings to a user
    SEE_PII = "see_pii"  # personal data unmasked (audited)
    READ_AUDIT = "read_audit"  # the audit log
    SETTINGS = "settings"  # thresholds and weights


POLICY: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: frozenset({Permission.VIEW, Permission.ACT, Permission.ASSIGN}),
    Role.ANALYST: frozenset({Permission.VIEW}),
    Role.RESPONDER: frozenset({Permission.VIEW, Permission.ACT}),
    Role.COMPLIANCE: frozenset({Permission.VIEW, Permission.SEE_PII, Permission.READ_AUDIT}),
    Role.VIEWER: frozenset({Permission.VIEW}),
}
"""Permissions by role; a role not listed may do nothing."""


def can(role: Role, permission: Permission) -> bool:
    """Whether `role` has `permission`.

    >>> can(Role.RESPONDER, Permission.ACT), can(Role.ANALYST, Permission.ACT)
    (True, False)
    """
    return permission in POLICY.get(role, frozenset())


def sees_pii(role: Role) -> bool:
    """Whether `role` sees personal data unmasked (compliance and admin only).

    >>> [r.value for r in Role if sees_pii(r)]
    ['admin', 'compliance']
    """
    return can(role, Permission.SEE_PII)


def mask_name(name: str) -> str:
    """A name with only its first character (Chinese) or initials (Latin) left.

    >>> mask_name("张伟"), mask_name("欧阳娜娜"), mask_name("Anna Lee"), mask_name("Leo")
    ('张**', '欧**', 'A*** L***', 'L***')
    """
    name = name.strip()
    if not name:
        return name
    if _CJK.match(name):
        return name[0] + _STAR * 2  # the same length for every name: it says nothing
    return " ".join(word[0] + _STAR * 3 for word in name.split())


def mask_phone(phone: str) -> str:
    """A phone number with all digits but the first three and last four starred.

    Separators stay, so the number still reads as a phone number.

    >>> mask_phone("13812345678"), mask_phone("130-1502-1839"), mask_phone("+44 20 7946 0958")
    ('138****5678', '130-****-1839', '+44 2* **** 0958')
    >>> mask_phone("12345")
    '*2345'
    """
    digits = sum(c.isdigit() for c in phone)
    keep_head = 3 if digits > 7 else 0
    keep_tail = min(4, max(digits - 1, 0))
    out, seen = [], 0
    for char in phone:
        if char.isdigit():
            hidden = keep_head <= seen < digits - keep_tail
            out.append(_STAR if hidden else char)
            seen += 1
        else:
            out.append(char)
    return "".join(out)


def mask_email(email: str) -> str:
    """An e-mail address with the local part reduced to its first character.

    >>> mask_email("anna.lee@example.com"), mask_email("2930302887@qq.com"), mask_email("x")
    ('a***@example.com', '2***@qq.com', 'x***')
    """
    local, at, domain = email.strip().partition("@")
    return (local[:1] + _STAR * 3 + at + domain) if local else email


def mask_id_number(id_number: str) -> str:
    """An ID number with all but its first four and last four characters starred.

    >>> mask_id_number("11010519491231002X"), mask_id_number("A1234")
    ('1101**********002X', '*****')
    """
    value = id_number.strip()
    if len(value) <= 8:
        return _STAR * len(value)
    return value[:4] + _STAR * (len(value) - 8) + value[-4:]


_MASKS = {
    "name": mask_name,
    "phone": mask_phone,
    "email": mask_email,
    "id_number": mask_id_number,
}


def mask_value(field: str, value: object) -> object:
    """`value` masked as `field` of `customers` requires; non-PII fields and None unchanged.

    >>> mask_value("phone", "13812345678"), mask_value("segment", "mass"), mask_value("name", None)
    ('138****5678', 'mass', None)
    """
    mask = _MASKS.get(field)
    if mask is None or value is None:
        return value
    return mask(str(value))


def profile_for(role: Role, profile: Mapping[str, object]) -> dict[str, object]:
    """A customer's profile as `role` may see it: PII masked unless the role sees PII.

    >>> profile_for(Role.ANALYST, {"name": "李霞华", "segment": "family"})
    {'name': '李**', 'segment': 'family'}
    >>> profile_for(Role.COMPLIANCE, {"name": "李霞华"})
    {'name': '李霞华'}
    """
    if sees_pii(role):
        return dict(profile)
    return {key: mask_value(key, value) for key, value in profile.items()}


__all__ = [
    "PII_FIELDS",
    "POLICY",
    "Permission",
    "can",
    "mask_email",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "mask_value",
    "profile_for",
    "sees_pii",
]
