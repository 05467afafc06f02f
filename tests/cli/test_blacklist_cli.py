"""`crew blacklist`: add, export, import between workspaces; refusals name file, row, field."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crew.cli import app
from crew.store import Workspace, init_workspace
from crew.store.operational import OperationalStore

KEY = "partners-shared-key-2025"
PHONE = "+86 138-0013-8000"
FINGERPRINT = "c77cff9faa603144"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREW_BLACKLIST_KEY", KEY)


def _crew(cli: CliRunner, root: Path, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, ["--workspace", str(root), "blacklist", *args])
    return result.exit_code, result.stdout, result.stderr


def _entries(root: Path) -> int:
    with OperationalStore.open(f"sqlite:///{root / 'operational.sqlite'}") as store:
        return len(store.blacklist.entries())


def _audit(root: Path) -> list[tuple[str, str, dict[str, object]]]:
    with OperationalStore.open(f"sqlite:///{root / 'operational.sqlite'}") as store:
        assert store.audit.verify().ok
        return [(r.action, r.subject, r.details) for r in reversed(store.audit.records())]


@pytest.fixture
def partner(tmp_path: Path, cli: CliRunner) -> Workspace:
    """A workspace that listed a phone, an e-mail (with an expiry) and a device."""
    workspace = init_workspace(tmp_path / "partner")
    for args in (
        ("--phone", PHONE, "--reason", "chargeback fraud", "--listed-on", "2025-03-01"),
        ("--email", "Mule@Example.com", "--reason", "money mule", "--expires", "2099-01-01"),
        ("--device", "DF8DF305", "--reason", "device farm", "--evidence", "case 42"),
    ):
        code, _, err = _crew(cli, workspace.root, "add", *args)
        assert code == 0, err
    return workspace


@pytest.fixture
def ours(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ours")


def test_the_fingerprint_is_shown_for_partners_to_compare(
    partner: Workspace, cli: CliRunner
) -> None:
    assert _crew(cli, partner.root, "fingerprint")[:2] == (0, FINGERPRINT + "\n")


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_an_export_imports_into_another_workspace_with_the_same_key(
    partner: Workspace, ours: Workspace, cli: CliRunner, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"partner.{suffix}"
    code, out, err = _crew(cli, partner.root, "export", "--out", str(path))
    assert code == 0, err
    assert out == f"3 entries of local written to {path} (key fingerprint {FINGERPRINT}).\n"
    code, out, err = _crew(cli, ours.root, "import", str(path), "--source", "bank-x")
    assert code == 0, err
    assert out == f"3 entries of bank-x imported from {path}.\n"
    code, out, _ = _crew(cli, ours.root, "list", "--json")
    entries = json.loads(out)["entries"]
    assert [(e["identifier_type"], e["source"], e["reason"]) for e in entries] == [
        ("phone", "bank-x", "chargeback fraud"),
        ("email", "bank-x", "money mule"),
        ("device", "bank-x", "device farm"),
    ]
    assert entries[0]["listed_on"] == "2025-03-01" and entries[1]["expires_on"] == "2099-01-01"
    assert entries[2]["evidence"] == "case 42"


def test_no_identifier_reaches_the_export_the_store_or_the_logs(
    partner: Workspace, ours: Workspace, cli: CliRunner, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "partner.jsonl"
    _crew(cli, partner.root, "export", "--out", str(path))
    _crew(cli, ours.root, "import", str(path), "--source", "bank-x")
    code, _, err = _crew(cli, ours.root, "add", "--phone", "139 0000 1111", "--reason", "fraud")
    assert code == 0, err
    assert "blacklist.import" in caplog.text and "blacklist.add" in caplog.text
    assert _audit(ours.root) == [
        ("blacklist.import", "blacklist/bank-x",
         {"source": "bank-x", "entries": 3, "ids": [1, 2, 3], "file": "partner.jsonl"}),
        ("blacklist.add", "blacklist/local",
         {"source": "local", "entries": 1, "ids": [4], "identifier_type": "phone"}),
    ]  # fmt: skip
    written = [
        path.read_text(encoding="utf-8"),
        caplog.text,
        (partner.root / "operational.sqlite").read_bytes().decode("latin-1"),
        (ours.root / "operational.sqlite").read_bytes().decode("latin-1"),
        str(_audit(ours.root)),
    ]
    for plain in ("13800138000", "138-0013-8000", "mule@example.com", "Mule@Example",
                  "df8df305", "DF8DF305", "13900001111", "0000 1111", KEY):  # fmt: skip
        assert not any(plain in text for text in written), plain


def _export_lines(partner: Workspace, cli: CliRunner, path: Path) -> list[dict[str, object]]:
    _crew(cli, partner.root, "export", "--out", str(path))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_an_import_with_another_key_is_refused(
    partner: Workspace, ours: Workspace, cli: CliRunner, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    path = tmp_path / "partner.jsonl"
    _crew(cli, partner.root, "export", "--out", str(path))
    monkeypatch.setenv("CREW_BLACKLIST_KEY", "a-different-key-of-ours")
    code, _, err = _crew(cli, ours.root, "import", str(path), "--source", "bank-x")
    assert code == 5
    assert err.splitlines()[0] == (
        f"error: {path}: key fingerprint {FINGERPRINT} does not match this workspace's key "
        "(0c1e45367d11da17); nothing was imported."
    )
    assert _entries(ours.root) == 0


def test_an_import_of_entries_already_listed_is_refused(
    partner: Workspace, ours: Workspace, cli: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "partner.jsonl"
    _crew(cli, partner.root, "export", "--out", str(path))
    assert _crew(cli, ours.root, "import", str(path), "--source", "bank-x")[0] == 0
    code, _, err = _crew(cli, ours.root, "import", str(path), "--source", "bank-x")
    assert code == 5
    assert err.splitlines()[0] == (
        f"error: {path}: row 1 (line 2), identifier_hash: this phone is already listed by "
        "bank-x (entry 1); nothing was imported."
    )
    assert _entries(ours.root) == 3


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"identifier_hash": "+86 138 0013 8000"},
            "row 2 (line 3), identifier_hash: expected 64 lowercase hexadecimal digits "
            "(an HMAC-SHA256), got 17 characters",
        ),
        (
            {"listed_on": "2025-02-30"},
            "row 2 (line 3), listed_on: '2025-02-30' is not a date (YYYY-MM-DD)",
        ),
        (
            {"expires_on": "2024-01-01"},
            "row 2 (line 3), expires_on: 2024-01-01 is not after listed_on",
        ),
        ({"phone": "13800138000"}, "row 2 (line 3), phone: unknown field"),
        ({"identifier_type": "passport"}, "row 2 (line 3), identifier_type: 'passport' is not"),
        ("duplicate", "row 2 (line 3), identifier_hash: the same phone as row 1"),
    ],
)
def test_one_bad_row_imports_nothing_and_names_file_row_and_field(
    partner: Workspace, ours: Workspace, cli: CliRunner, tmp_path: Path,
    change: dict[str, str] | str, problem: str,
) -> None:  # fmt: skip
    header, *rows = _export_lines(partner, cli, tmp_path / "partner.jsonl")
    rows[1] = dict(rows[0]) if isinstance(change, str) else rows[1] | change
    path = _write(tmp_path / "bad.jsonl", [header, *rows])
    code, _, err = _crew(cli, ours.root, "import", str(path), "--source", "bank-x")
    assert code == 5
    message = err.splitlines()[0]
    assert message.startswith(f"error: {path}: {problem}"), message
    assert message.endswith("; nothing was imported.")
    assert "13800138000" not in err and "138 0013" not in err
    assert _entries(ours.root) == 0


def test_a_file_that_is_not_an_export_or_is_cut_short_is_refused(
    partner: Workspace, ours: Workspace, cli: CliRunner, tmp_path: Path
) -> None:
    header, *rows = _export_lines(partner, cli, tmp_path / "partner.jsonl")
    cut = _write(tmp_path / "cut.jsonl", [header, *rows[:2]])
    code, _, err = _crew(cli, ours.root, "import", str(cut), "--source", "bank-x")
    assert (code, err.splitlines()[0]) == (5, (
        f"error: {cut}: line 1: the header announces 3 entries, the file holds 2 (cut short?); "
        "nothing was imported."
    ))  # fmt: skip
    plain = tmp_path / "plain.csv"
    plain.write_text("phone,reason\n13800138000,fraud\n", encoding="utf-8")
    code, _, err = _crew(cli, ours.root, "import", str(plain), "--source", "bank-x")
    assert (code, err.splitlines()[0]) == (5, (
        f"error: {plain}: line 1: not a crew blacklist export (no header line); "
        "nothing was imported."
    ))  # fmt: skip
    assert _entries(ours.root) == 0


def test_add_refuses_two_identifiers_a_bad_one_and_a_missing_key(
    ours: Workspace, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _crew(cli, ours.root, "add", "--phone", "1", "--email", "a@b", "--reason", "x")
    assert (code, err.splitlines()[0]) == (
        1, "error: Give exactly one of --phone, --email, --id-number or --device.",
    )  # fmt: skip
    code, _, err = _crew(cli, ours.root, "add", "--phone", "12 34", "--reason", "x")
    assert (code, err.splitlines()[0]) == (5, (
        "error: phone: a phone number needs 7 to 15 digits with its country code; "
        "nothing was added."
    ))  # fmt: skip
    monkeypatch.delenv("CREW_BLACKLIST_KEY")
    code, _, err = _crew(cli, ours.root, "add", "--phone", PHONE, "--reason", "x")
    assert (code, err.splitlines()[0]) == (2, (
        "error: No shared blacklist key: the environment variable CREW_BLACKLIST_KEY is not set."
    ))  # fmt: skip
    assert _entries(ours.root) == 0


def test_entries_are_disputed_reinstated_and_withdrawn(partner: Workspace, cli: CliRunner) -> None:
    root = partner.root
    assert _crew(cli, root, "dispute", "1", "--note", "customer proved identity")[:2] == (
        0, "Entry 1 is now disputed.\n",
    )  # fmt: skip
    assert _crew(cli, root, "reinstate", "1")[1] == "Entry 1 is now active.\n"
    assert _crew(cli, root, "withdraw", "1")[1] == "Entry 1 is now withdrawn.\n"
    code, _, err = _crew(cli, root, "dispute", "1", "--note", "again")
    assert (code, err.splitlines()[0]) == (
        1, "error: Blacklist entry 1 is withdrawn; it cannot become disputed.",
    )  # fmt: skip
    code, _, err = _crew(cli, root, "withdraw", "99")
    assert (code, err.splitlines()[0]) == (1, "error: No blacklist entry 99.")
    listed = json.loads(_crew(cli, root, "list", "--json")[1])["entries"]
    assert [e["id"] for e in listed] == [2, 3]
    everything = json.loads(_crew(cli, root, "list", "--status", "all", "--json")[1])["entries"]
    assert everything[0]["status"] == "withdrawn"
    assert everything[0]["note"] == "customer proved identity"
    changes = [(a, s, d) for a, s, d in _audit(root) if a == "blacklist.status"]
    assert changes == [
        ("blacklist.status", "blacklist/1", {"status": status, "source": "local"})
        for status in ("disputed", "active", "withdrawn")
    ]
