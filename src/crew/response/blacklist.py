"""Shared blacklist (行业黑名单): identifiers normalised, then hashed under the partners' key.

Partners exchange HMAC-SHA256 hashes, never phone numbers, e-mails, ID numbers or device
ids, so both sides must normalise an identifier the same way before hashing it:

- phone: digits only, as an international number without '+'. A leading '+' or '00'
  introduces the country code; otherwise the number is national: one leading trunk '0' is
  dropped and `[blacklist] country_code` put in front. A '(0)' after the country code is
  dropped too. '+86 138-0013-8000', '0086 13800138000' and '138 0013 8000' (country code
  86) all become '8613800138000'; 7 to 15 digits must remain.
- email: trimmed and lower-cased; one '@' with text on both sides.
- id_number: spaces and hyphens removed, upper-cased; 4 to 32 letters or digits remain.
- device: trimmed and lower-cased.

The hash is HMAC-SHA256(key, "<type>:<normalised>") in 64 lowercase hex digits (the type
keeps a phone and an ID number with the same digits apart). The key is the value of the
environment variable that `[blacklist] key_env` names, trimmed, as UTF-8; its fingerprint,
the first 16 hex digits of SHA-256(key), lets partners check they use the same key without
showing it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from crew.config import BlacklistSettings
from crew.errors import BlacklistKeyError
from crew.store.blacklist import BlacklistEntry, IdentifierType

MIN_KEY_CHARS = 16
HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")
SIGNAL = "blacklist_match"

_TYPE_LABELS = {
    IdentifierType.PHONE: ("phone number", "手机号"),
    IdentifierType.ID_NUMBER: ("ID number", "证件号"),
    IdentifierType.EMAIL: ("e-mail address", "邮箱"),
    IdentifierType.DEVICE: ("device", "设备"),
}
_ID_NUMBER = re.compile(r"^[0-9A-Z]{4,32}$")
_TRUNK_ZERO = re.compile(r"^(\+|00)\s*(\d{1,3})\s*\(0\)")


def normalize_identifier(kind: IdentifierType, raw: str, *, country_code: str = "86") -> str:
    """The form of `raw` that is hashed (see the module's docstring for the rules).

    Raises ValueError (without repeating `raw`, which is personal data) when nothing usable
    remains.

    >>> normalize_identifier(IdentifierType.PHONE, "+86 138-0013-8000")
    '8613800138000'
    >>> normalize_identifier(IdentifierType.PHONE, "0138 0013 8000")
    '8613800138000'
    >>> normalize_identifier(IdentifierType.PHONE, "+44 (0)20 7946 0958")
    '442079460958'
    >>> normalize_identifier(IdentifierType.EMAIL, "  Li.Wei@Example.COM ")
    'li.wei@example.com'
    >>> normalize_identifier(IdentifierType.ID_NUMBER, "11010519491231002x")
    '11010519491231002X'
    """
    text = raw.strip()
    if kind == IdentifierType.PHONE:
        return _normalize_phone(text, country_code)
    if kind == IdentifierType.EMAIL:
        value = text.lower()
        local, at, domain = value.partition("@")
        if not at or not local or not domain or "@" in domain or any(c.isspace() for c in value):
            raise ValueError("an e-mail address needs one '@' with text on both sides")
        return value
    if kind == IdentifierType.ID_NUMBER:
        value = re.sub(r"[\s-]", "", text).upper()
        if not _ID_NUMBER.match(value):
            raise ValueError("an ID number needs 4 to 32 letters or digits")
        return value
    if not text:
        raise ValueError("a device id must not be empty")
    return text.lower()


def _normalize_phone(text: str, country_code: str) -> str:
    text = _TRUNK_ZERO.sub(r"\1\2", text)
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    else:
        number = country_code + (digits[1:] if digits.startswith("0") else digits)
    if not 7 <= len(number) <= 15:
        raise ValueError("a phone number needs 7 to 15 digits with its country code")
    return number


def key_fingerprint(key: bytes) -> str:
    """First 16 hex digits of SHA-256(key): shows which key was used, not the key.

    >>> key_fingerprint(b"correct horse battery staple")
    'c4bbcb1fbec99d65'
    """
    return hashlib.sha256(key).hexdigest()[:16]


@dataclass(frozen=True)
class IdentifierHasher:
    """Normalises and hashes identifiers under one shared key (the key is never shown)."""

    key: bytes = field(repr=False)
    country_code: str = "86"

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_CHARS:
            raise ValueError(f"a shared key needs at least {MIN_KEY_CHARS} characters")

    @cached_property
    def fingerprint(self) -> str:
        """The key's fingerprint (see `key_fingerprint`)."""
        return key_fingerprint(self.key)

    @cached_property
    def _mac(self) -> hmac.HMAC:
        return hmac.new(self.key, digestmod=hashlib.sha256)

    def hash(self, kind: IdentifierType, raw: str) -> str:
        """HMAC-SHA256 hex of the normalised `raw`; ValueError if it cannot be normalised.

        >>> IdentifierHasher(b"0123456789abcdef").hash(IdentifierType.EMAIL, "A@B.CN")[:16]
        'f4acc16febf05e4b'
        """
        return self.hash_normalized(
            kind, normalize_identifier(kind, raw, country_code=self.country_code)
        )

    def hash_normalized(self, kind: IdentifierType, value: str) -> str:
        """HMAC-SHA256 hex of an identifier normalised already."""
        mac = self._mac.copy()  # the key's padding is hashed once, not per identifier
        mac.update(f"{kind.value}:{value}".encode())
        return mac.hexdigest()


def load_hasher(settings: BlacklistSettings, env: Mapping[str, str]) -> IdentifierHasher | None:
    """The hasher of the key in `env[settings.key_env]`; None when the variable is unset.

    Raises:
        BlacklistKeyError: the key is shorter than 16 characters.
    """
    text = env.get(settings.key_env, "").strip()
    if not text:
        return None
    try:
        return IdentifierHasher(text.encode(), settings.country_code)
    except ValueError:
        raise BlacklistKeyError(
            f"The shared blacklist key in {settings.key_env} has {len(text)} characters; "
            f"it needs at least {MIN_KEY_CHARS}.",
            hint="Agree a long random key with the partners, e.g. from "
            "'python -c \"import secrets; print(secrets.token_hex(32))\"'.",
        ) from None


def require_hasher(settings: BlacklistSettings, env: Mapping[str, str]) -> IdentifierHasher:
    """Like `load_hasher`, but a missing key is a BlacklistKeyError."""
    hasher = load_hasher(settings, env)
    if hasher is None:
        raise BlacklistKeyError(
            f"No shared blacklist key: the environment variable {settings.key_env} is not set.",
            hint=f"Set {settings.key_env} to the key agreed with the partners "
            "([blacklist] key_env in crew.toml names the variable).",
        )
    return hasher


def type_label(kind: IdentifierType) -> tuple[str, str]:
    """English and Chinese name of an identifier type.

    >>> type_label(IdentifierType.PHONE)
    ('phone number', '手机号')
    """
    return _TYPE_LABELS[kind]


def match_reason(entry: BlacklistEntry) -> dict[str, object]:
    """The warning reason for a customer matching `entry`, in English and Chinese.

    >>> from datetime import date
    >>> e = BlacklistEntry(IdentifierType.PHONE, "0" * 64, "chargeback fraud",
    ...                    date(2025, 3, 1), "bank-x")
    >>> match_reason(e)["en"]
    'Listed by partner bank-x on 2025-03-01 for chargeback fraud (matched on phone number).'
    >>> match_reason(e)["zh"]
    '行业黑名单：bank-x于2025-03-01列入，原因：chargeback fraud（匹配手机号）。'
    """
    en_type, zh_type = type_label(entry.identifier_type)
    day = entry.listed_on.isoformat()
    return {
        "signal": SIGNAL,
        "score": 1.0,
        "en": f"Listed by partner {entry.source} on {day} for {entry.reason} "
        f"(matched on {en_type}).",
        "zh": f"行业黑名单：{entry.source}于{day}列入，原因：{entry.reason}（匹配{zh_type}）。",
    }


def match_evidence(entry: BlacklistEntry) -> dict[str, object]:
    """What a warning keeps of a matched entry: provenance, never the identifier or its hash."""
    return {
        "entry_id": entry.id,
        "identifier_type": entry.identifier_type.value,
        "reason": entry.reason,
        "source": entry.source,
        "listed_on": entry.listed_on.isoformat(),
        "expires_on": None if entry.expires_on is None else entry.expires_on.isoformat(),
        "evidence": entry.evidence,
    }


__all__ = [
    "HASH_PATTERN",
    "MIN_KEY_CHARS",
    "SIGNAL",
    "IdentifierHasher",
    "key_fingerprint",
    "load_hasher",
    "match_evidence",
    "match_reason",
    "normalize_identifier",
    "require_hasher",
    "type_label",
]
