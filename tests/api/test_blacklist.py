"""/v1/blacklist: hashes listed for readers, partners' pushes checked, disputes by admins."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

KEY = "partners-shared-key-2025"
FINGERPRINT = hashlib.sha256(KEY.encode()).hexdigest()[:16]


def _hash(kind: str, normalised: str) -> str:
    return hmac.new(KEY.encode(), f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


PHONE_HASH = _hash("phone", "8613800138000")
EMAIL_HASH = _hash("email", "mule@example.com")


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREW_BLACKLIST_KEY", KEY)


def _push(entries: list[dict[str, object]], fingerprint: str = FINGERPRINT) -> dict[str, object]:
    return {"key_fingerprint": fingerprint, "source": "bank-x", "entries": entries}


ENTRIES: list[dict[str, object]] = [
    {"identifier_type": "phone", "identifier_hash": PHONE_HASH, "reason": "chargeback fraud",
     "listed_on": "2025-03-01", "evidence": "case 42", "ref": "17"},
    {"identifier_type": "email", "identifier_hash": EMAIL_HASH, "reason": "money mule",
     "listed_on": "2025-03-01", "expires_on": "2099-01-01"},
]  # fmt: skip


def test_a_partner_pushes_entries_and_readers_list_them(
    app: FastAPI, client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    answer = client.post("/v1/blacklist", json=_push(ENTRIES), headers=headers["admin"])
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"added": 2, "ids": [1, 2]}
    listed = client.get("/v1/blacklist", headers=headers["read"])
    assert listed.status_code == 200
    body = listed.json()
    assert (body["count"], body["key_fingerprint"]) == (2, FINGERPRINT)
    first = body["entries"][0]
    assert first["identifier_hash"] == PHONE_HASH and first["source"] == "bank-x"
    assert (first["reason"], first["evidence"], first["listed_on"]) == (
        "chargeback fraud", "case 42", "2025-03-01",
    )  # fmt: skip
    assert first["added_by"] == "admin-bot" and first["status"] == "active"
    (record,) = app.state.crew.store.audit.records(action="blacklist.push")
    assert (record.actor, record.subject, record.details) == (
        "admin-bot", "blacklist/bank-x", {"source": "bank-x", "entries": 2, "ids": [1, 2]},
    )  # fmt: skip


def test_without_a_source_the_token_name_is_the_source(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    body = {"key_fingerprint": FINGERPRINT, "entries": ENTRIES[:1]}
    assert client.post("/v1/blacklist", json=body, headers=headers["admin"]).status_code == 201
    (entry,) = client.get("/v1/blacklist", headers=headers["read"]).json()["entries"]
    assert entry["source"] == "admin-bot"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"identifier_hash": "13800138000"},
         "entries[1].identifier_hash: expected 64 lowercase hexadecimal digits (an HMAC-SHA256), "
         "got 11 characters; nothing was imported."),
        ({"listed_on": "01/03/2025"},
         "entries[1].listed_on: '01/03/2025' is not a date (YYYY-MM-DD); nothing was imported."),
        ({"reason": ""}, "entries[1].reason: missing; nothing was imported."),
        ({"identifier_hash": PHONE_HASH, "identifier_type": "phone"},
         "entries[1].identifier_hash: the same phone as entries[0]; nothing was imported."),
    ],
)  # fmt: skip
def test_a_bad_item_is_422_naming_index_and_field_and_nothing_is_stored(
    client: TestClient, headers: dict[str, dict[str, str]], change: dict[str, str], message: str
) -> None:
    entries = [ENTRIES[0], ENTRIES[1] | change]
    answer = client.post("/v1/blacklist", json=_push(entries), headers=headers["admin"])
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["message"]) == ("invalid_blacklist_entry", message)
    assert client.get("/v1/blacklist", headers=headers["read"]).json()["count"] == 0


def test_another_key_or_an_entry_already_listed_is_refused(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    other = client.post("/v1/blacklist", json=_push(ENTRIES, "0" * 16), headers=headers["admin"])
    assert other.status_code == 422
    assert other.json()["error"]["message"] == (
        f"key_fingerprint: 0000000000000000 does not match this workspace's key ({FINGERPRINT}); "
        "nothing was imported."
    )
    assert client.post("/v1/blacklist", json=_push(ENTRIES), headers=headers["admin"]).is_success
    again = client.post("/v1/blacklist", json=_push(ENTRIES[1:]), headers=headers["admin"])
    assert again.status_code == 422
    assert again.json()["error"]["message"] == (
        "entries[0].identifier_hash: this email is already listed by bank-x (entry 2); "
        "nothing was imported."
    )


def test_without_a_key_pushes_are_503(
    client: TestClient, headers: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREW_BLACKLIST_KEY")
    answer = client.post("/v1/blacklist", json=_push(ENTRIES), headers=headers["admin"])
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "blacklist_key"
    assert client.get("/v1/blacklist", headers=headers["read"]).json()["key_fingerprint"] is None


def test_admins_dispute_and_withdraw_entries(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    client.post("/v1/blacklist", json=_push(ENTRIES), headers=headers["admin"])
    change = {"status": "disputed", "note": "customer proved identity"}
    answer = client.patch("/v1/blacklist/1", json=change, headers=headers["admin"])
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["note"]) == ("disputed", change["note"])
    active = client.get("/v1/blacklist", headers=headers["read"]).json()["entries"]
    assert [e["id"] for e in active] == [2]
    disputed = client.get("/v1/blacklist?status=disputed", headers=headers["read"]).json()
    assert [e["id"] for e in disputed["entries"]] == [1]
    gone = client.patch("/v1/blacklist/1", json={"status": "withdrawn"}, headers=headers["admin"])
    assert gone.json()["status"] == "withdrawn"
    back = client.patch("/v1/blacklist/1", json={"status": "active"}, headers=headers["admin"])
    assert back.status_code == 409
    assert back.json()["error"]["message"] == (
        "Blacklist entry 1 is withdrawn; it cannot become active."
    )
    missing = client.patch(
        "/v1/blacklist/9", json={"status": "withdrawn"}, headers=headers["admin"]
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (
        404, "blacklist_entry_not_found",
    )  # fmt: skip


def test_reading_needs_a_token_and_changing_needs_admin(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    assert client.get("/v1/blacklist").status_code == 401
    assert client.get("/v1/blacklist", headers=headers["ingest"]).status_code == 403
    push = client.post("/v1/blacklist", json=_push(ENTRIES), headers=headers["read"])
    assert push.status_code == 403
    patch = client.patch("/v1/blacklist/1", json={"status": "withdrawn"}, headers=headers["read"])
    assert patch.status_code == 403
