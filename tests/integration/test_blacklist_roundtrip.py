"""Blacklist round trip: a partner's export matches our customer in `crew run` with the same key.

With another key the import is refused, and entries hashed under it match nobody.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crew.cli import app
from crew.store import Workspace, init_workspace
from crew.store.operational import OperationalStore

pytestmark = pytest.mark.slow

KEY = "partners-shared-key-2025"


def _crew(cli: CliRunner, root: Path, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, ["--workspace", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def _store(root: Path) -> OperationalStore:
    return OperationalStore.open(f"sqlite:///{root / 'operational.sqlite'}")


@pytest.fixture
def ours(sim_workspace: Workspace, tmp_path: Path) -> Path:
    return Path(shutil.copytree(sim_workspace.root, tmp_path / "ours"))


@pytest.fixture
def target(sim_workspace: Workspace) -> tuple[str, str, str]:
    """A customer of ours long before the run: id, phone and device (as the data has them)."""
    with sim_workspace.connect() as conn:
        customer, phone = conn.execute(
            "SELECT customer_id, phone FROM customers WHERE phone IS NOT NULL "
            "AND signup_date < DATE '2024-03-01' ORDER BY customer_id LIMIT 1"
        ).fetchone() or ("", "")
        (device,) = conn.execute(
            "SELECT json_extract_string(attributes, '$.device_id') FROM events WHERE kind = "
            "'login' AND customer_id <> ? AND ts < '2024-09-01' ORDER BY event_id LIMIT 1",
            [customer],
        ).fetchone() or ("",)
    return str(customer), str(phone), str(device)


@pytest.fixture
def export(tmp_path: Path, cli: CliRunner, target: tuple[str, str, str],
           monkeypatch: pytest.MonkeyPatch) -> Path:  # fmt: skip
    """A partner's export listing our customer's phone, written with a national '0' and '+86'."""
    monkeypatch.setenv("CREW_BLACKLIST_KEY", KEY)
    partner = init_workspace(tmp_path / "partner").root
    _, phone, _ = target
    code, _, err = _crew(
        cli, partner, "blacklist", "add", "--phone", "+86 " + phone.replace("-", " "),
        "--reason", "chargeback fraud", "--listed-on", "2024-08-15", "--evidence", "case 7",
    )  # fmt: skip
    assert code == 0, err
    path = tmp_path / "partner.csv"
    assert _crew(cli, partner, "blacklist", "export", "--out", str(path))[0] == 0
    return path


def _blacklist_warnings(root: Path) -> list[dict[str, object]]:
    with _store(root) as store:
        frame = store.warnings_frame()
    rows = frame[frame["signals"].map(lambda s: "blacklist_match" in s)]
    return [{str(k): v for k, v in row.items()} for row in rows.to_dict("records")]


def test_a_partners_entry_raises_a_fraud_warning_after_crew_run(
    ours: Path, export: Path, cli: CliRunner, target: tuple[str, str, str]
) -> None:
    code, _, err = _crew(cli, ours, "blacklist", "import", str(export), "--source", "bank-x")
    assert code == 0, err
    code, _, err = _crew(cli, ours, "run", "--as-of", "2024-10-01", "--json")
    assert code == 0, err
    (warning,) = _blacklist_warnings(ours)
    assert (warning["customer_id"], warning["risk_type"], warning["level"]) == (
        target[0], "fraud", "high",
    )  # fmt: skip
    reasons = warning["reasons"]
    assert isinstance(reasons, list)
    assert reasons[0]["en"] == (
        "Listed by partner bank-x on 2024-08-15 for chargeback fraud (matched on phone number)."
    )
    assert reasons[0]["zh"].startswith("行业黑名单：bank-x于2024-08-15列入，原因：chargeback fraud")
    evidence = warning["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["blacklist_match"]["entries"][0]["evidence"] == "case 7"
    assert target[1] not in json.dumps(warning, default=str)
    # The next run finds it again: the same warning is updated, not a second one opened.
    assert _crew(cli, ours, "run", "--as-of", "2024-10-08", "--json")[0] == 0
    assert [w["id"] for w in _blacklist_warnings(ours)] == [warning["id"]]


def test_an_entry_listed_after_as_of_does_not_match(
    ours: Path, export: Path, cli: CliRunner
) -> None:
    _crew(cli, ours, "blacklist", "import", str(export), "--source", "bank-x")
    assert _crew(cli, ours, "run", "--as-of", "2024-08-10", "--json")[0] == 0
    assert _blacklist_warnings(ours) == []


def test_a_device_seen_in_events_matches(
    ours: Path, cli: CliRunner, target: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREW_BLACKLIST_KEY", KEY)
    code, _, err = _crew(cli, ours, "blacklist", "add", "--device", target[2].upper(),
                         "--reason", "device farm", "--listed-on", "2024-01-01")  # fmt: skip
    assert code == 0, err
    assert _crew(cli, ours, "run", "--as-of", "2024-10-01", "--json")[0] == 0
    matched = _blacklist_warnings(ours)
    assert len(matched) >= 1 and all(w["customer_id"] != target[0] for w in matched)


def test_with_another_key_the_import_is_refused_and_entries_match_nobody(
    ours: Path, export: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREW_BLACKLIST_KEY", "our-own-different-key")
    code, _, err = _crew(cli, ours, "blacklist", "import", str(export), "--source", "bank-x")
    assert code == 5 and "does not match this workspace's key" in err
    with _store(ours) as store:
        assert store.blacklist.entries() == []
    # Even let in under our fingerprint, hashes made with the partner's key match nobody.
    ours_now = _crew(cli, ours, "blacklist", "fingerprint")[1].strip()
    header, *rows = export.read_text(encoding="utf-8").splitlines()
    theirs = header.split("key_fingerprint=")[1].split()[0]
    forced = export.with_name("forced.csv")
    forced.write_text("\n".join([header.replace(theirs, ours_now), *rows]) + "\n", encoding="utf-8")
    assert _crew(cli, ours, "blacklist", "import", str(forced), "--source", "bank-x")[0] == 0
    assert _crew(cli, ours, "run", "--as-of", "2024-10-01", "--json")[0] == 0
    assert _blacklist_warnings(ours) == []


def test_without_a_key_the_run_says_so_in_one_line(
    ours: Path, export: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crew(cli, ours, "blacklist", "import", str(export), "--source", "bank-x")
    monkeypatch.delenv("CREW_BLACKLIST_KEY")
    code, _, err = _crew(cli, ours, "run", "--as-of", "2024-10-01")
    assert code == 0
    assert "Shared blacklist not matched: CREW_BLACKLIST_KEY is not set." in err.splitlines()
    assert _blacklist_warnings(ours) == []
