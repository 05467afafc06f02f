"""`crew run` end to end on a simulated workspace: warnings, replay, dry run, point in time."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crew.cli import app
from crew.store import Workspace, open_workspace
from crew.store.operational import OperationalStore
from crew.types import CaseState, RiskType

pytestmark = pytest.mark.slow


def _copy(workspace: Workspace, target: Path) -> Path:
    shutil.copytree(workspace.root, target)
    return target


def _run(cli: CliRunner, root: Path, *args: str) -> dict[str, object]:
    result = cli.invoke(app, ["--workspace", str(root), "run", *args, "--json"])
    assert result.exit_code == 0, result.output
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def _warnings(root: Path) -> list[tuple[str, str, float]]:
    with OperationalStore.open(f"sqlite:///{root / 'operational.sqlite'}") as store:
        frame = store.warnings_frame()
    return sorted(
        (str(i), str(lv), round(float(s), 9))
        for i, lv, s in zip(frame["id"], frame["level"], frame["score"], strict=True)
    )


def test_run_stores_warnings_with_reasons(
    sim_workspace: Workspace, tmp_path: Path, cli: CliRunner
) -> None:
    root = _copy(sim_workspace, tmp_path / "ws")
    payload = _run(cli, root, "--as-of", "2024-10-01")
    runs = payload["runs"]
    assert isinstance(runs, list) and len(runs) == 1
    counts = runs[0]["counts"]
    assert counts["customers"] > 300
    assert counts["opened"] == payload["open_warnings"] > 0
    listed = cli.invoke(app, ["--workspace", str(root), "alerts", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    warnings = json.loads(listed.stdout)["warnings"]
    first = warnings[0]
    assert first["reasons"], "every warning says why"
    assert {"en", "zh", "signal"} <= set(first["reasons"][0])
    assert first["recommended_action"]
    assert first["signals"][0] in first["evidence"]


def test_replay_keeps_one_active_warning_per_customer_and_type(
    sim_workspace: Workspace, tmp_path: Path, cli: CliRunner
) -> None:
    root = _copy(sim_workspace, tmp_path / "ws")
    payload = _run(cli, root, "--from", "2024-08-01", "--to", "2024-10-31", "--every", "14d")
    runs = payload["runs"]
    assert isinstance(runs, list)
    assert [r["as_of"][:10] for r in runs] == [
        "2024-08-01", "2024-08-15", "2024-08-29", "2024-09-12", "2024-09-26", "2024-10-10",
        "2024-10-24",
    ]  # fmt: skip
    with OperationalStore.open(f"sqlite:///{root / 'operational.sqlite'}") as store:
        active = store.active_warnings()
        assert len(store.runs(limit=100)) == len(runs)
    keys = list(zip(active["customer_id"], active["segment"], active["risk_type"], strict=True))
    assert len(keys) == len(set(keys))
    # Later runs update or resolve what earlier runs opened: not everything is new each time.
    later = runs[1:]
    assert sum(r["counts"]["updated"] + r["counts"]["resolved"] for r in later) > 0


def test_dry_run_keeps_nothing(sim_workspace: Workspace, tmp_path: Path, cli: CliRunner) -> None:
    root = _copy(sim_workspace, tmp_path / "ws")
    _run(cli, root, "--as-of", "2024-09-01")
    before = _warnings(root)
    payload = _run(cli, root, "--as-of", "2024-10-01", "--dry-run")
    assert payload["dry_run"] is True
    assert _warnings(root) == before


def test_a_run_reads_nothing_at_or_after_as_of(
    sim_workspace: Workspace, tmp_path: Path, cli: CliRunner
) -> None:
    clean = _copy(sim_workspace, tmp_path / "clean")
    noisy = _copy(sim_workspace, tmp_path / "noisy")
    as_of = datetime(2024, 10, 1, tzinfo=UTC)
    with open_workspace(noisy).connect() as conn:
        # Wild rows from as_of on: huge purchases, complaint storms, logins, exposures.
        conn.execute(
            "INSERT INTO transactions (txn_id, customer_id, ts, amount, type) "
            "SELECT 'future-' || customer_id || '-' || i, customer_id, "
            "? + INTERVAL (i) HOUR, 99999, 'purchase' FROM customers, range(0, 40) r(i)",
            [as_of],
        )
        conn.execute(
            "INSERT INTO interactions (interaction_id, customer_id, ts, kind, nps) "
            "SELECT 'future-' || customer_id || '-' || i, customer_id, ? + INTERVAL (i) DAY, "
            "'complaint', 0 FROM customers, range(0, 10) r(i)",
            [as_of],
        )
        conn.execute(
            "INSERT INTO events (event_id, customer_id, ts, kind) "
            "SELECT 'future-' || customer_id, customer_id, ?, 'data_exposure' FROM customers",
            [as_of],
        )
        conn.execute(
            "INSERT INTO outcomes (customer_id, kind, ts) SELECT customer_id, 'churn', ? "
            "FROM customers",
            [as_of],
        )
    _run(cli, clean, "--as-of", "2024-10-01")
    _run(cli, noisy, "--as-of", "2024-10-01")
    assert _warnings(clean) == _warnings(noisy)
    assert _warnings(clean)


def test_run_needs_an_instant(sim_workspace: Workspace, cli: CliRunner) -> None:
    result = cli.invoke(app, ["--workspace", str(sim_workspace.root), "run"])
    assert result.exit_code == 1
    assert "Say when to run: --as-of DATE, or --from D1 --to D2" in result.stderr
    result = cli.invoke(
        app,
        ["--workspace", str(sim_workspace.root), "run", "--from", "2024-09-01", "--to",
         "2024-08-01"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "--to (2024-08-01) is before --from (2024-09-01)" in result.stderr


def test_a_bad_thresholds_file_is_named(
    sim_workspace: Workspace, tmp_path: Path, cli: CliRunner
) -> None:
    bad = tmp_path / "new.yaml"
    bad.write_text("rules:\n  - {signal: activity_drop, low_at: 5, high_at: 2}\n")
    result = cli.invoke(
        app,
        ["--workspace", str(sim_workspace.root), "run", "--as-of", "2024-10-01", "--dry-run",
         "--config", str(bad)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"{bad}: rules.0: limits must rise from low to high" in result.stderr
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("rules:\n  - {signal: activity_dorp, low_at: 5}\n")
    result = cli.invoke(
        app,
        ["--workspace", str(sim_workspace.root), "run", "--as-of", "2024-10-01", "--dry-run",
         "--config", str(unknown)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "unknown signal 'activity_dorp'" in result.stderr


def test_a_review_ring_raises_one_warning_per_account_with_the_ring_as_evidence(
    sim_workspace: Workspace, tmp_path: Path, cli: CliRunner
) -> None:
    root = _copy(sim_workspace, tmp_path / "ws")
    with open_workspace(root).connect() as conn:
        conn.execute(
            "INSERT INTO customers (customer_id, segment, signup_date) "
            "SELECT 'RING' || i, 'new', DATE '2024-09-20' FROM range(0, 5) r(i)"
        )
        conn.execute(
            "INSERT INTO interactions (interaction_id, customer_id, ts, kind, rating, text) "
            "SELECT 'rv' || i, 'RING' || i, TIMESTAMPTZ '2024-09-28 10:00:00+00' "
            "+ INTERVAL (i * 7) HOUR, 'review', 5, "
            "'Amazing product!!! Best seller ever, fast delivery, five stars, buy now ' || i "
            "FROM range(0, 5) r(i)"
        )
    _run(cli, root, "--as-of", "2024-10-01")
    with OperationalStore.open(f"sqlite:///{root / 'operational.sqlite'}") as store:
        rings = store.list_warnings(risk_types=[RiskType.FAKE_REVIEW], limit=50)
    ring = [w for w in rings if w.customer_id and w.customer_id.startswith("RING")]
    assert sorted(w.customer_id or "" for w in ring) == [f"RING{i}" for i in range(5)]
    evidence = ring[0].evidence["review_ring"]
    assert isinstance(evidence, dict)
    assert sorted(evidence["accounts"]) == [f"RING{i}" for i in range(5)]
    assert "5 accounts posted near-identical" in str(ring[0].reasons[0]["en"])


def test_reasons_quote_what_the_customer_wrote_with_personal_data_redacted(
    sim_workspace: Workspace, tmp_path: Path, cli: CliRunner
) -> None:
    root = _copy(sim_workspace, tmp_path / "ws")
    with open_workspace(root).connect() as conn:
        ((customer,),) = conn.execute(
            "SELECT customer_id FROM customers ORDER BY customer_id LIMIT 1"
        ).fetchall()
        conn.execute(
            "INSERT INTO events (event_id, customer_id, ts, kind) "
            "VALUES ('exposed-1', ?, TIMESTAMPTZ '2024-09-25 08:00:00+00', 'data_exposure')",
            [customer],
        )
        conn.execute(
            "INSERT INTO interactions (interaction_id, customer_id, ts, kind, severity, text) "
            "VALUES ('leak-1', ?, TIMESTAMPTZ '2024-09-26 09:00:00+00', 'complaint', 4, "
            "'Someone leaked my personal data: my phone 13812345678 is being sold online')",
            [customer],
        )
    analysed = cli.invoke(app, ["--workspace", str(root), "text", "analyze", "--json"])
    assert analysed.exit_code == 0, analysed.output
    _run(cli, root, "--as-of", "2024-10-01")
    with OperationalStore.open(f"sqlite:///{root / 'operational.sqlite'}") as store:
        leak = store.list_warnings(customer_id=customer, risk_types=[RiskType.DATA_LEAKAGE])
    assert leak, "the exposure raises a data-leakage warning"
    quoted = [r for r in leak[0].reasons if str(r["signal"]) == "text:privacy_data"]
    assert quoted, leak[0].reasons
    sentence = str(quoted[0]["en"])
    assert "personal data" in sentence and "涉及个人信息" in sentence
    assert "13812345678" not in sentence and "[PHONE]" in sentence


def test_a_run_opens_a_case_per_warning_by_playbook_and_a_dry_run_none(
    sim_workspace: Workspace, tmp_path: Path, cli: CliRunner
) -> None:
    dry = _copy(sim_workspace, tmp_path / "dry")
    _run(cli, dry, "--as-of", "2024-10-01", "--dry-run")
    root = _copy(sim_workspace, tmp_path / "ws")
    payload = _run(cli, root, "--as-of", "2024-10-01")
    counts = payload["runs"][0]["counts"]  # type: ignore[index]
    with OperationalStore.open(f"sqlite:///{root / 'operational.sqlite'}") as store:
        active = store.active_warnings()
        cases = store.cases.find(states=list(CaseState), limit=10_000)
    with OperationalStore.open(f"sqlite:///{dry / 'operational.sqlite'}") as store:
        assert store.cases.find(states=list(CaseState)) == []
    assert counts["cases_opened"] == len(cases) == len(active) > 0
    assert {c.warning_id for c in cases} == set(active["id"])
    control = [c for c in cases if c.control]
    assert counts["cases_control"] == len(control)
    assert all(c.state == CaseState.CONTROL and not c.steps for c in control)
    worked = next(c for c in cases if not c.control and c.customer_id)
    shown = cli.invoke(app, ["-w", str(root), "cases", "show", worked.id])
    assert shown.exit_code == 0 and worked.playbook in shown.stdout
    done = cli.invoke(app, ["-w", str(root), "cases", "done", worked.id, "--step", "1"])
    assert done.exit_code == 0, done.output
    closed = cli.invoke(
        app, ["-w", str(root), "cases", "close", worked.id, "--outcome", "retained"]
    )
    assert closed.exit_code == 0, closed.output
    history = json.loads(cli.invoke(app, ["-w", str(root), "cases", "show", worked.id,
                                          "--json"]).stdout)["history"]  # fmt: skip
    assert [h["new"] for h in history][-2:] == ["closed", "retained"]
    with OperationalStore.open(f"sqlite:///{root / 'operational.sqlite'}") as store:
        actions = [(r.actor, r.action) for r in store.audit.records(subject=worked.id)]
        opened = store.audit.records(action="case.open", limit=10_000)
        assert store.audit.verify().ok
    assert [a for _, a in actions] == ["case.close", "case.step", "case.open"]  # newest first
    assert actions[-1][0] == "system", "the run opened it"
    assert {(r.actor, r.subject) for r in opened} == {("system", c.id) for c in cases}
    missing = cli.invoke(app, ["-w", str(root), "cases", "show", "case-nope"])
    assert missing.exit_code == 1 and "No case 'case-nope'" in missing.stderr


def test_a_warning_resolved_by_hand_and_raised_again_the_same_day_gets_a_new_id(
    sim_workspace: Workspace, tmp_path: Path, cli: CliRunner
) -> None:
    root = _copy(sim_workspace, tmp_path / "ws")
    _run(cli, root, "--as-of", "2024-10-01")
    with OperationalStore.open(f"sqlite:///{root / 'operational.sqlite'}") as store:
        first = store.active_warnings()
        target = str(first[first["customer_id"].notna()]["id"].iloc[0])
    resolved = cli.invoke(
        app, ["--workspace", str(root), "alerts", "resolve", target, "--cooldown", "0d"]
    )
    assert resolved.exit_code == 0, resolved.output
    again = _run(cli, root, "--as-of", "2024-10-01T06:00")
    assert again["runs"][0]["counts"]["opened"] >= 1  # type: ignore[index]
    with OperationalStore.open(f"sqlite:///{root / 'operational.sqlite'}") as store:
        assert store.get_warning(target).state.value == "resolved"
        assert store.get_warning(f"{target}-2").state.value == "open"
