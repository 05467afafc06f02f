"""Shared blacklist: normalisation, HMAC, the key, the store's lifecycle and matching."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, date, datetime

import duckdb
import pandas as pd
import pytest

from crew.config import BlacklistSettings
from crew.errors import BlacklistKeyError, InvalidBlacklistEntryError, InvalidTransitionError
from crew.response.blacklist import (
    IdentifierHasher,
    load_hasher,
    normalize_identifier,
    require_hasher,
)
from crew.response.blacklist_matching import blacklist_hits, blacklist_rows, with_blacklist_rows
from crew.store.blacklist import EntryStatus, IdentifierType, NewEntry
from crew.store.operational import OperationalStore

KEY = b"partners-shared-key-2025"
AT = datetime(2025, 3, 2, 9, tzinfo=UTC)
AS_OF = datetime(2025, 3, 10, tzinfo=UTC)
PHONE, EMAIL, ID_NUMBER, DEVICE = (
    IdentifierType.PHONE,
    IdentifierType.EMAIL,
    IdentifierType.ID_NUMBER,
    IdentifierType.DEVICE,
)


def _expected(kind: str, normalised: str, key: bytes = KEY) -> str:
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def store() -> Iterator[OperationalStore]:
    with OperationalStore.in_memory() as s:
        yield s


@pytest.fixture
def hasher() -> IdentifierHasher:
    return IdentifierHasher(KEY, "86")


def _entry(hasher: IdentifierHasher, kind: IdentifierType, raw: str, **extra: object) -> NewEntry:
    values: dict[str, object] = {
        "identifier_type": kind, "identifier_hash": hasher.hash(kind, raw),
        "reason": "chargeback fraud", "listed_on": date(2025, 3, 1), "source": "bank-x",
    }  # fmt: skip
    return NewEntry(**(values | extra))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "raw", "normalised"),
    [
        (PHONE, "+86 138-0013-8000", "8613800138000"),
        (PHONE, "0086 138 0013 8000", "8613800138000"),
        (PHONE, "138-0013-8000", "8613800138000"),
        (PHONE, "(010) 6552 9988", "861065529988"),
        (PHONE, "+44 (0)20 7946 0958", "442079460958"),
        (EMAIL, "  Wang.Fang@Example.COM\t", "wang.fang@example.com"),
        (ID_NUMBER, " 11010519491231002x ", "11010519491231002X"),
        (ID_NUMBER, "ab-123 456", "AB123456"),
        (DEVICE, " DF8DF305 ", "df8df305"),
    ],
)
def test_identifiers_are_normalised_per_type(
    kind: IdentifierType, raw: str, normalised: str, hasher: IdentifierHasher
) -> None:
    assert normalize_identifier(kind, raw, country_code="86") == normalised
    assert hasher.hash(kind, raw) == _expected(kind.value, normalised)


def test_the_hash_is_the_hmac_computed_by_hand() -> None:
    digest = IdentifierHasher(KEY).hash(PHONE, "+86 138 0013 8000")
    by_hand = hmac.new(KEY, b"phone:8613800138000", hashlib.sha256).hexdigest()
    assert digest == by_hand
    assert IdentifierHasher(KEY).fingerprint == hashlib.sha256(KEY).hexdigest()[:16]
    # The type is part of the message: the same text as another type hashes differently.
    assert IdentifierHasher(KEY).hash(ID_NUMBER, "8613800138000") != digest


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        (PHONE, "12-34", "a phone number needs 7 to 15 digits with its country code"),
        (EMAIL, "no-at-sign", "an e-mail address needs one '@' with text on both sides"),
        (ID_NUMBER, "12", "an ID number needs 4 to 32 letters or digits"),
        (DEVICE, "   ", "a device id must not be empty"),
    ],
)
def test_unusable_identifiers_are_refused_without_repeating_them(
    kind: IdentifierType, raw: str, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        normalize_identifier(kind, raw)
    assert str(caught.value) == message


def test_the_key_comes_from_the_named_variable_and_never_shows() -> None:
    settings = BlacklistSettings(key_env="PARTNER_KEY")
    assert load_hasher(settings, {}) is None
    hasher = load_hasher(settings, {"PARTNER_KEY": "  " + KEY.decode() + "\n"})
    assert hasher is not None and hasher.key == KEY
    assert KEY.decode() not in repr(hasher)
    with pytest.raises(BlacklistKeyError) as short:
        load_hasher(settings, {"PARTNER_KEY": "tiny"})
    assert short.value.message == (
        "The shared blacklist key in PARTNER_KEY has 4 characters; it needs at least 16."
    )
    with pytest.raises(BlacklistKeyError) as missing:
        require_hasher(settings, {})
    assert missing.value.message == (
        "No shared blacklist key: the environment variable PARTNER_KEY is not set."
    )
    assert missing.value.exit_code == 2


def test_entries_are_stored_once_per_source_and_change_status(
    store: OperationalStore, hasher: IdentifierHasher
) -> None:
    blacklist = store.blacklist
    (first,) = blacklist.add([_entry(hasher, PHONE, "13800138000")], actor="ann", at=AT)
    with pytest.raises(InvalidBlacklistEntryError) as twice:
        blacklist.add([_entry(hasher, PHONE, "+86 13800138000")], actor="ann", at=AT)
    assert twice.value.message == (
        f"This phone is already listed by bank-x (entry {first}); nothing was added."
    )
    # Another partner may list the same phone: each listing keeps its provenance.
    blacklist.add([_entry(hasher, PHONE, "13800138000", source="shop-y")], actor="ann", at=AT)
    disputed = blacklist.set_status(first, EntryStatus.DISPUTED, actor="bob", at=AT, note="why")
    assert (disputed.status, disputed.note, disputed.status_changed_by) == (
        EntryStatus.DISPUTED, "why", "bob",
    )  # fmt: skip
    assert blacklist.set_status(first, EntryStatus.ACTIVE, actor="bob", at=AT).note == "why"
    blacklist.set_status(first, EntryStatus.WITHDRAWN, actor="bob", at=AT)
    with pytest.raises(InvalidTransitionError) as final:
        blacklist.set_status(first, EntryStatus.ACTIVE, actor="bob", at=AT)
    assert final.value.message == f"Blacklist entry {first} is withdrawn; it cannot become active."
    # Once withdrawn, the same source may list it again.
    blacklist.add([_entry(hasher, PHONE, "13800138000")], actor="ann", at=AT)
    assert len(blacklist.entries()) == 3


@pytest.fixture
def db_with_customers(db: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    db.execute(
        "INSERT INTO customers (customer_id, phone, email, id_number) VALUES "
        "('C1', '138-0013-8000', 'a@x.cn', NULL), ('C2', '139 0000 0000', 'B@Y.CN', "
        "'11010519491231002X'), ('C3', 'not a phone', NULL, NULL)"
    )
    db.execute(
        "INSERT INTO events (event_id, customer_id, ts, kind, attributes) VALUES "
        "('e1', 'C3', '2025-03-01 10:00+00', 'device_change', "
        '\'{"old_device_id":"aa11","new_device_id":"bb22"}\'), '
        "('e2', 'C1', '2025-03-20 10:00+00', 'login', '{\"device_id\":\"cc33\"}')"
    )
    return db


def test_customers_match_on_phone_email_id_number_and_devices_seen_before_as_of(
    db_with_customers: duckdb.DuckDBPyConnection, store: OperationalStore, hasher: IdentifierHasher
) -> None:
    store.blacklist.add(
        [
            _entry(hasher, PHONE, "+8613800138000"),
            _entry(hasher, EMAIL, "b@y.cn", reason="mule account"),
            _entry(hasher, ID_NUMBER, "11010519491231002x"),
            _entry(hasher, DEVICE, "BB22"),
            _entry(hasher, DEVICE, "cc33"),  # seen only after as_of
        ],
        actor="ann",
        at=AT,
    )
    hits = blacklist_hits(db_with_customers, store.blacklist.in_force(AS_OF.date()), hasher, AS_OF)
    assert {c: sorted(e.identifier_type.value for e in es) for c, es in hits.items()} == {
        "C1": ["phone"], "C2": ["email", "id_number"], "C3": ["device"],
    }  # fmt: skip
    other = IdentifierHasher(b"another-partners-key", "86")
    assert blacklist_hits(db_with_customers, store.blacklist.in_force(AS_OF.date()), other,
                          AS_OF) == {}  # fmt: skip


def test_disputed_withdrawn_expired_and_later_entries_do_not_match(
    db_with_customers: duckdb.DuckDBPyConnection, store: OperationalStore, hasher: IdentifierHasher
) -> None:
    ids = store.blacklist.add(
        [
            _entry(hasher, PHONE, "13800138000"),
            _entry(hasher, EMAIL, "b@y.cn"),
            _entry(hasher, ID_NUMBER, "11010519491231002X", expires_on=date(2025, 3, 10)),
            _entry(hasher, DEVICE, "bb22", listed_on=date(2025, 3, 11)),
        ],
        actor="ann",
        at=AT,
    )
    store.blacklist.set_status(ids[0], EntryStatus.DISPUTED, actor="bob", at=AT, note="n")
    store.blacklist.set_status(ids[1], EntryStatus.WITHDRAWN, actor="bob", at=AT)
    in_force = store.blacklist.in_force(AS_OF.date())
    assert in_force == []
    assert blacklist_hits(db_with_customers, in_force, hasher, AS_OF) == {}
    assert [e.id for e in store.blacklist.in_force(date(2025, 3, 9))] == [ids[2]]


def test_a_match_is_one_high_fraud_warning_folded_with_the_signals_own(
    store: OperationalStore, hasher: IdentifierHasher
) -> None:
    (id,) = store.blacklist.add([_entry(hasher, PHONE, "13800138000")], actor="a", at=AT)
    rows = blacklist_rows({"C1": [store.blacklist.get(id)]})
    signals = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"], "segment": [None, None], "risk_type": ["fraud", "churn"],
            "level": ["medium", "high"], "score": [3.5, 0.9],
            "leading_signal": ["night_txn", "activity_drop"],
            "signals": [["night_txn"], ["activity_drop"]], "cooldown_days": [28, 28],
            "evidence": [{"night_txn": {"share": 0.8}}, {}],
            "reasons": [[{"signal": "night_txn", "en": "Night", "zh": "夜间"}], []],
            "recommended_action": ["x", "y"], "parent_id": [None, None],
        }
    )  # fmt: skip
    merged = with_blacklist_rows(signals, rows)
    fraud = merged[merged["risk_type"] == "fraud"].iloc[0]
    assert len(merged) == 2
    assert (fraud["level"], fraud["score"], fraud["signals"]) == (
        "high", 3.5, ["blacklist_match", "night_txn"],
    )  # fmt: skip
    assert [r["signal"] for r in fraud["reasons"]] == ["blacklist_match", "night_txn"]
    assert fraud["reasons"][0]["en"] == (
        "Listed by partner bank-x on 2025-03-01 for chargeback fraud (matched on phone number)."
    )
    assert fraud["evidence"]["blacklist_match"]["entries"][0]["source"] == "bank-x"
    assert set(fraud["evidence"]) == {"blacklist_match", "night_txn"}
    assert "identifier_hash" not in str(fraud["evidence"])
