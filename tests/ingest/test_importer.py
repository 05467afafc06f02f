"""Import: typed loading, validation with clear messages, all-or-nothing, upsert."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.factories import CUSTOMERS, TRANSACTIONS, dump_store, write_csv

from crew.errors import MappingError, SourceError, ValidationFailed
from crew.ingest import Mapping, SourceSpec, import_sources, load_mapping

DATA = Path(__file__).parents[1] / "data"


def _import_folder(db: duckdb.DuckDBPyConnection, folder: Path, **spec: object) -> list[object]:
    mapping = Mapping(sources=[SourceSpec(path=str(folder), **spec)])  # type: ignore[arg-type]
    return list(import_sources(db, mapping, folder))


def test_imports_customers_and_transactions_with_types(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    write_csv(tmp_path / "customers.csv", CUSTOMERS)
    write_csv(tmp_path / "transactions.csv", TRANSACTIONS)
    _import_folder(db, tmp_path)
    assert db.execute("SELECT count(*) FROM customers").fetchone() == (3,)
    rows = db.execute(
        "SELECT txn_id, ts, amount, type FROM transactions ORDER BY txn_id"
    ).fetchall()
    assert rows[0] == ("t1", datetime(2024, 3, 1, 10, tzinfo=UTC), 12.5, "purchase")
    # An explicit offset is honoured: 10:00 at +08:00 is 02:00 UTC.
    assert rows[1][1] == datetime(2024, 3, 2, 2, tzinfo=UTC)
    assert rows[2][1] == datetime(2024, 3, 4, tzinfo=UTC)
    signup = db.execute("SELECT signup_date FROM customers WHERE customer_id = 'c2'").fetchone()
    assert signup == (date(2024, 2, 10),)


def test_naive_timestamps_are_read_in_the_mapping_time_zone(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    write_csv(tmp_path / "customers.csv", CUSTOMERS)
    write_csv(tmp_path / "transactions.csv", TRANSACTIONS[:1])
    mapping = Mapping(timezone="Asia/Shanghai", sources=[SourceSpec(path=str(tmp_path))])
    import_sources(db, mapping, tmp_path)
    ts = db.execute("SELECT ts FROM transactions").fetchone()
    assert ts == (datetime(2024, 3, 1, 2, tzinfo=UTC),)


def test_bad_file_lists_problems_by_file_row_column_and_changes_nothing(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    good = tmp_path / "good"
    write_csv(good / "customers.csv", CUSTOMERS)
    write_csv(good / "transactions.csv", TRANSACTIONS)
    _import_folder(db, good)
    before = dump_store(db)

    bad = tmp_path / "bad"
    rows = [dict(r) for r in TRANSACTIONS]
    rows[0].update(txn_id="t9", amount="twelve")  # wrong type, line 2
    rows[1].update(txn_id="t10", ts="2024-02-30 10:00")  # broken date, line 3
    rows[2].update(txn_id="t11", customer_id="ghost")  # orphan id, line 4
    rows[3].update(txn_id="t9")  # duplicate id, line 5
    path = write_csv(bad / "transactions.csv", rows)
    with pytest.raises(ValidationFailed) as caught:
        _import_folder(db, bad)
    problems = caught.value.problems
    assert problems == [
        f"{path}:2:amount: 'twelve' is not a number — fix the value, or translate it under "
        "columns.amount.values",
        f"{path}:3:ts: '2024-02-30 10:00' is not a date/time like 2024-03-05 14:03:11 — fix "
        "the value, or give its layout under columns.ts.format (e.g. '%d/%m/%Y %H:%M')",
        f"{path}:4:customer_id: customer 'ghost' is not in customers — import the customers "
        "file in the same or an earlier run, or use 'shape: transaction_log' to derive customers",
        f"{path}:5:txn_id: duplicate id 't9' (first on row 2) — ids must be unique within a "
        "file: remove or renumber the repeated row",
    ]
    assert caught.value.total == 4
    assert str(caught.value) == f"{path}: 4 problems found; nothing was imported."
    assert dump_store(db) == before


def test_failure_half_way_through_a_folder_rolls_back_the_earlier_files(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    write_csv(tmp_path / "customers.csv", CUSTOMERS)  # imported first, and valid
    rows = [dict(r) for r in TRANSACTIONS]
    rows[-1]["amount"] = "-5"
    write_csv(tmp_path / "transactions.csv", rows)
    before = dump_store(db)
    with pytest.raises(ValidationFailed, match="1 problem found"):
        _import_folder(db, tmp_path)
    assert dump_store(db) == before
    assert db.execute("SELECT count(*) FROM customers").fetchone() == (0,)


def test_many_problems_show_the_first_twenty_and_count_the_rest(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    write_csv(tmp_path / "customers.csv", CUSTOMERS)
    rows = [
        {"txn_id": f"t{i}", "customer_id": "c1", "ts": "2024-03-01", "amount": "x"}
        for i in range(35)
    ]
    write_csv(tmp_path / "transactions.csv", rows)
    with pytest.raises(ValidationFailed) as caught:
        _import_folder(db, tmp_path)
    assert len(caught.value.problems) == 20
    assert caught.value.total == 35
    assert caught.value.problems[0].split(":")[1] == "2"


def test_reimport_is_idempotent_and_updates_changed_rows(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    write_csv(tmp_path / "customers.csv", CUSTOMERS)
    write_csv(tmp_path / "transactions.csv", TRANSACTIONS)
    _import_folder(db, tmp_path)
    first = db.execute("SELECT * EXCLUDE (_import_id) FROM transactions ORDER BY 1").fetchall()
    results = _import_folder(db, tmp_path)
    again = db.execute("SELECT * EXCLUDE (_import_id) FROM transactions ORDER BY 1").fetchall()
    assert again == first
    assert [r.replaced for r in results] == [0, 4]  # type: ignore[attr-defined]

    rows = [dict(r) for r in TRANSACTIONS]
    rows[0]["amount"] = "99"
    write_csv(tmp_path / "transactions.csv", rows)
    _import_folder(db, tmp_path)
    assert db.execute("SELECT count(*), sum(amount) FROM transactions").fetchone() == (
        4,
        99 + 3 + 250 + 0.99,
    )


def test_unknown_kind_asks_for_a_value_translation(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    write_csv(tmp_path / "customers.csv", CUSTOMERS)
    rows = [dict(TRANSACTIONS[0], type="gift")]
    path = write_csv(tmp_path / "transactions.csv", rows)
    with pytest.raises(ValidationFailed) as caught:
        _import_folder(db, tmp_path)
    assert caught.value.problems == [
        f"{path}:2:type: 'gift' is not a known type (purchase, refund, deposit, withdrawal, "
        "transfer, chargeback) — translate it under columns.type.values in the mapping file"
    ]


def test_chinese_kinds_and_date_layout_map_onto_canonical_values(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    write_csv(tmp_path / "customers.csv", CUSTOMERS)
    _import_folder(db, tmp_path)
    mapping, _ = load_mapping(DATA / "interactions_zh.yaml")
    import_sources(db, mapping, DATA)
    rows = db.execute(
        "SELECT interaction_id, kind, ts, csat, text FROM interactions ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("i1", "complaint", datetime(2024, 3, 5, 6, 30, tzinfo=UTC), None, "快递太慢了，要求退款"),
        ("i2", "survey", datetime(2024, 3, 20, 1, 0, tzinfo=UTC), 2, None),
        ("i3", "ticket", datetime(2024, 4, 1, 10, 45, tzinfo=UTC), None, "账单有误"),
    ]


def test_snapshot_with_mapping_fills_customers_attributes_and_outcomes(
    db: duckdb.DuckDBPyConnection,
) -> None:
    mapping, sha = load_mapping(DATA / "telco_snapshot.yaml")
    (result,) = import_sources(db, mapping, DATA, mapping_sha256=sha)
    assert result.rows == 10 and result.outcomes == 4
    assert db.execute("SELECT count(*) FROM customers").fetchone() == (10,)
    segments = db.execute("SELECT DISTINCT segment FROM customers ORDER BY 1").fetchall()
    assert segments == [("annual",), ("biennial",), ("monthly",)]
    churned = db.execute("SELECT customer_id, kind, ts FROM outcomes ORDER BY 1").fetchall()
    assert churned[0] == ("3668-QPYBK", "churn", datetime(2024, 6, 30, tzinfo=UTC))
    kinds = dict(db.execute("SELECT attribute, dtype FROM attribute_catalog").fetchall())
    assert kinds == {
        "gender": "categorical",
        "seniorcitizen": "numeric",
        "partner": "categorical",
        "tenure": "numeric",
        "paymentmethod": "categorical",
        "monthlycharges": "numeric",
        "totalcharges": "numeric",
    }
    # A blank TotalCharges is a missing value, not a category.
    blank = db.execute(
        "SELECT count(*) FROM customer_attributes WHERE customer_id = '4190-MFLUW' "
        "AND attribute = 'totalcharges'"
    ).fetchone()
    assert blank == (0,)
    assert ("customers", "phone") in db.execute("SELECT * FROM pii_columns").fetchall()
    assert db.execute("SELECT mapping_sha256, shape FROM imports").fetchone() == (sha, "snapshot")


def test_snapshot_reimport_with_a_changed_label_clears_the_outcome(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    shutil.copy(DATA / "telco_snapshot.yaml", tmp_path)
    text = (
        (DATA / "telco_snapshot.csv")
        .read_text()
        .replace("151.65,555-0105,Yes", "151.65,555-0105,No")
    )
    (tmp_path / "telco_snapshot.csv").write_text((DATA / "telco_snapshot.csv").read_text())
    mapping, _ = load_mapping(tmp_path / "telco_snapshot.yaml")
    import_sources(db, mapping, tmp_path)
    (tmp_path / "telco_snapshot.csv").write_text(text)
    import_sources(db, mapping, tmp_path)
    assert db.execute("SELECT count(*) FROM outcomes").fetchone() == (3,)


def test_snapshot_label_outside_yes_and_no_is_reported(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    shutil.copy(DATA / "telco_snapshot.yaml", tmp_path)
    text = (
        (DATA / "telco_snapshot.csv")
        .read_text()
        .replace("29.85,555-0101,No", "29.85,555-0101,Maybe")
    )
    path = tmp_path / "telco_snapshot.csv"
    path.write_text(text)
    mapping, _ = load_mapping(tmp_path / "telco_snapshot.yaml")
    with pytest.raises(ValidationFailed) as caught:
        import_sources(db, mapping, tmp_path)
    assert caught.value.problems == [
        f"{path}:2:Churn: 'Maybe' is neither yes nor no — list it under label.yes or label.no "
        "(yes: Yes)"
    ]


def test_transaction_log_alone_derives_customers_and_refunds(
    db: duckdb.DuckDBPyConnection,
) -> None:
    mapping, _ = load_mapping(DATA / "online_retail.yaml")
    (result,) = import_sources(db, mapping, DATA)
    assert result.derived_customers == 4
    first = db.execute("SELECT signup_date FROM customers WHERE customer_id = '17850'").fetchone()
    assert first == (date(2010, 12, 1),)
    rows = db.execute(
        "SELECT txn_id, amount, type, quantity, ts FROM transactions ORDER BY txn_id"
    ).fetchall()
    assert rows[0] == (
        "online_retail:2",
        pytest.approx(15.3),
        "purchase",
        6.0,
        datetime(2010, 12, 1, 8, 26, tzinfo=UTC),
    )  # London in winter is UTC
    refund = [r for r in rows if r[2] == "refund"]
    assert refund == [("online_retail:6", 27.5, "refund", 1.0, refund[0][4])]
    # Importing the same log again changes nothing.
    import_sources(db, mapping, DATA)
    assert db.execute("SELECT count(*) FROM transactions").fetchone() == (6,)


def test_parquet_rows_are_numbered_from_one(db: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    write_csv(tmp_path / "customers.csv", CUSTOMERS)
    table = pa.table(
        {
            "txn_id": ["p1", "p2", "p3"],
            "customer_id": ["c1", "c2", "c3"],
            "ts": pa.array([datetime(2024, 5, 1, tzinfo=UTC)] * 3, pa.timestamp("us", tz="UTC")),
            "amount": [1.0, -2.0, 3.0],
        }
    )
    path = tmp_path / "transactions.parquet"
    pq.write_table(table, path)
    with pytest.raises(ValidationFailed) as caught:
        _import_folder(db, tmp_path)
    assert caught.value.problems[0].startswith(f"{path}:2:amount: -2.0 is below 0")
    pq.write_table(table.set_column(3, "amount", pa.array([1.0, 2.0, 3.0])), path)
    _import_folder(db, tmp_path)
    assert db.execute("SELECT sum(amount) FROM transactions").fetchone() == (6.0,)


def test_mapping_naming_a_missing_source_column_suggests_the_closest(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    write_csv(tmp_path / "customers.csv", CUSTOMERS)
    mapping = Mapping(sources=[SourceSpec(path=str(tmp_path), columns={"segment": "segmnt"})])
    with pytest.raises(
        MappingError,
        match="names 'segmnt', which is not in the file "
        r"\(did you mean 'segment'\?\)",
    ):
        import_sources(db, mapping, tmp_path)


def test_missing_required_column_says_how_to_map_it(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [
        {k: v for k, v in r.items() if k != "customer_id"} | {"id": r["customer_id"]}
        for r in CUSTOMERS
    ]
    path = write_csv(tmp_path / "customers.csv", rows)
    with pytest.raises(ValidationFailed) as caught:
        _import_folder(db, tmp_path)
    assert caught.value.problems[0] == (
        f"{path}:2:customer_id: missing value — the file has no customer_id column: "
        "map one under columns.customer_id"
    )


def test_unreadable_sources_get_a_source_error(
    db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        _import_folder(db, tmp_path / "nope.csv")
    (tmp_path / "customers.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(SourceError, match="cannot read as Parquet"):
        _import_folder(db, tmp_path / "customers.parquet")
    (tmp_path / "mystery.csv").write_text("a,b\n1,2\n")
    with pytest.raises(MappingError, match="Cannot tell which table"):
        _import_folder(db, tmp_path / "mystery.csv")
