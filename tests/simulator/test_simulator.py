"""The simulator: schema, determinism, value ranges and the planted risk signals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from pydantic import ValidationError

from crew.simulator import SimulationConfig, SimulationSummary, simulate
from crew.store.schema import CANONICAL
from crew.types import EventKind, Industry, InteractionKind, RiskType, Table, TxnType

STEMS = ("customers", "transactions", "interactions", "events", "outcomes", "episodes")
CONFIG = SimulationConfig(customers=4000, months=12, seed=11, start=date(2024, 1, 1))


@pytest.fixture(scope="module")
def parquet_run(tmp_path_factory: pytest.TempPathFactory) -> SimulationSummary:
    return simulate(CONFIG, tmp_path_factory.mktemp("parquet"))


@pytest.fixture(scope="module")
def db(parquet_run: SimulationSummary) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for stem, path in parquet_run.files.items():
        con.execute(f"CREATE VIEW {stem} AS SELECT * FROM read_parquet('{path}')")
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    row = con.execute(sql).fetchone()
    assert row is not None
    return float(row[0]) if row[0] is not None else float("nan")


def test_config_is_validated() -> None:
    with pytest.raises(ValidationError):
        SimulationConfig(customers=0)
    with pytest.raises(ValidationError):
        SimulationConfig(months=121)
    with pytest.raises(ValidationError):
        SimulationConfig(months=0)
    with pytest.raises(ValidationError):
        SimulationConfig(customer=10)  # type: ignore[call-arg]


def test_every_config_field_is_described() -> None:
    for name, field in SimulationConfig.model_fields.items():
        assert field.description, name


def test_summary(parquet_run: SimulationSummary) -> None:
    assert set(parquet_run.rows) == set(STEMS)
    assert parquet_run.rows["customers"] == CONFIG.customers
    assert all(parquet_run.files[s].exists() for s in STEMS)
    assert parquet_run.start.isoformat() == "2024-01-01T00:00:00+00:00"
    assert parquet_run.end.isoformat() == "2025-01-01T00:00:00+00:00"


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    simulate(
        SimulationConfig(customers=50, months=2, seed=1),
        tmp_path,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[-1] == (50, 50)


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    cfg = SimulationConfig(customers=300, months=6, seed=3)
    a = simulate(cfg, tmp_path / "a")
    b = simulate(cfg, tmp_path / "b")
    for stem in STEMS:
        assert a.files[stem].read_bytes() == b.files[stem].read_bytes(), stem


def test_different_seeds_differ(tmp_path: Path) -> None:
    a = simulate(SimulationConfig(customers=300, months=6, seed=3), tmp_path / "a")
    b = simulate(SimulationConfig(customers=300, months=6, seed=4), tmp_path / "b")
    assert a.files["transactions"].read_bytes() != b.files["transactions"].read_bytes()


_SQL_TYPES = {
    "VARCHAR": {"VARCHAR"},
    "JSON": {"VARCHAR", "JSON"},
    "DOUBLE": {"DOUBLE", "BIGINT"},  # CSV sniffing may see whole numbers
    "INTEGER": {"INTEGER", "BIGINT"},
    "TIMESTAMPTZ": {"TIMESTAMP WITH TIME ZONE"},
    "DATE": {"DATE"},
}


# An 18-digit id number without a trailing X looks like a number to CSV type sniffing.
_CSV_TYPES = "types={'id_number': 'VARCHAR'}"


def _check_columns(con: duckdb.DuckDBPyConnection, files: dict[str, Path], reader: str) -> None:
    for table in CANONICAL:
        options = f", {_CSV_TYPES}" if reader == "read_csv" and table == Table.CUSTOMERS else ""
        rel = con.sql(f"SELECT * FROM {reader}('{files[table.value]}'{options})")
        spec = CANONICAL[table]
        assert tuple(rel.columns) == spec.names, table
        for col, typ in zip(spec.columns, rel.types, strict=True):
            assert str(typ) in _SQL_TYPES[col.sql_type], (table, col.name, typ)


def test_parquet_columns_match_the_canonical_schema(parquet_run: SimulationSummary) -> None:
    _check_columns(duckdb.connect(), parquet_run.files, "read_parquet")


def test_csv_matches_schema_and_parquet_content(
    parquet_run: SimulationSummary, tmp_path: Path
) -> None:
    csv_run = simulate(CONFIG.model_copy(update={"file_format": "csv"}), tmp_path)
    con = duckdb.connect()
    _check_columns(con, csv_run.files, "read_csv")
    assert csv_run.rows == parquet_run.rows
    for stem in STEMS:
        a, b = parquet_run.files[stem], csv_run.files[stem]
        diff = _one(
            con,
            f"SELECT count(*) FROM (SELECT * FROM read_parquet('{a}') EXCEPT ALL "
            f"SELECT * FROM read_csv('{b}'{', ' + _CSV_TYPES if stem == 'customers' else ''}))",
        )
        assert diff == 0, stem
    ts = csv_run.files["transactions"].read_text().splitlines()[1].split(",")[2].strip('"')
    assert ts[10] == "T" and ts.endswith("+00:00")


def test_value_ranges(db: duckdb.DuckDBPyConnection) -> None:
    q = lambda sql: _one(db, sql)  # noqa: E731
    assert q("SELECT count(*) FROM interactions WHERE nps NOT BETWEEN 0 AND 10") == 0
    assert q("SELECT count(*) FROM interactions WHERE csat NOT BETWEEN 1 AND 5") == 0
    assert q("SELECT count(*) FROM interactions WHERE rating NOT BETWEEN 1 AND 5") == 0
    assert q("SELECT count(*) FROM interactions WHERE severity NOT BETWEEN 1 AND 5") == 0
    assert q("SELECT count(*) FROM interactions WHERE resolved_ts <= ts") == 0
    assert q("SELECT count(*) FROM transactions WHERE amount < 0 OR quantity < 0") == 0
    assert q("SELECT count(*) FROM interactions WHERE nps IS NOT NULL") > 500
    kinds = {k.value for k in InteractionKind}
    seen = {r[0] for r in db.execute("SELECT DISTINCT kind FROM interactions").fetchall()}
    assert seen <= kinds and InteractionKind.REVIEW.value in seen
    txn_types = {r[0] for r in db.execute("SELECT DISTINCT type FROM transactions").fetchall()}
    assert txn_types <= {t.value for t in TxnType}
    events = {r[0] for r in db.execute("SELECT DISTINCT kind FROM events").fetchall()}
    assert events == {k.value for k in EventKind}
    risks = {r[0] for r in db.execute("SELECT DISTINCT risk_type FROM episodes").fetchall()}
    assert risks <= {r.value for r in RiskType} and len(risks) >= 6
    bad_json = "SELECT count(*) FROM events WHERE NOT json_valid(attributes)"
    assert q(bad_json) == 0
    assert q("SELECT count(DISTINCT txn_id) - count(*) FROM transactions") == 0
    assert q("SELECT count(*) FROM customers WHERE length(id_number) <> 18") == 0


def test_timestamps_inside_period_and_after_signup(db: duckdb.DuckDBPyConnection) -> None:
    for table in ("transactions", "interactions", "events", "outcomes", "episodes"):
        ts = "onset_ts" if table == "episodes" else "ts"
        out = _one(
            db,
            f"SELECT count(*) FROM {table} WHERE {ts} < TIMESTAMPTZ '2024-01-01 00:00:00+00' "
            f"OR {ts} >= TIMESTAMPTZ '2025-01-01 00:00:00+00'",
        )
        assert out == 0, table
    for table in ("transactions", "interactions", "events"):
        early = _one(
            db,
            f"SELECT count(*) FROM {table} t JOIN customers c USING (customer_id) "
            "WHERE t.ts < c.signup_date::TIMESTAMPTZ",
        )
        assert early == 0, table


def test_nothing_happens_after_churn(db: duckdb.DuckDBPyConnection) -> None:
    for table in ("transactions", "interactions", "events"):
        after = _one(
            db,
            f"SELECT count(*) FROM {table} t JOIN outcomes o USING (customer_id) "
            "WHERE o.kind = 'churn' AND t.ts >= o.ts",
        )
        assert after == 0, table


def test_episode_onset_precedes_outcome(db: duckdb.DuckDBPyConnection) -> None:
    assert _one(db, "SELECT count(*) FROM episodes WHERE outcome_ts <= onset_ts") == 0
    share = _one(db, "SELECT count(DISTINCT customer_id) / 4000 FROM episodes")
    assert 0.05 < share < 0.25
    # Labels exist without any episode: a perfect score is impossible.
    noise = _one(
        db,
        "SELECT count(*) FROM outcomes WHERE kind = 'churn' AND customer_id NOT IN "
        "(SELECT customer_id FROM episodes WHERE customer_id IS NOT NULL)",
    )
    assert noise > 10


def test_canonical_tables_do_not_leak_episodes(parquet_run: SimulationSummary) -> None:
    con = duckdb.connect()
    for table in CANONICAL:
        path = parquet_run.files[table.value]
        rel = con.sql(f"SELECT * FROM read_parquet('{path}')")
        assert not any("episode" in c for c in rel.columns)
        text_cols = [c for c, t in zip(rel.columns, rel.types, strict=True) if str(t) == "VARCHAR"]
        for col in text_cols:
            hits = _one(
                con,
                f"SELECT count(*) FROM read_parquet('{path}') "
                f"WHERE {col} ILIKE '%episode%' OR {col} LIKE 'EP0%'",
            )
            assert hits == 0, (table, col)


def test_churners_fade_before_churn(db: duckdb.DuckDBPyConnection) -> None:
    ratio = _one(
        db,
        """
        WITH ch AS (
          SELECT o.customer_id, o.ts AS churn,
            greatest(c.signup_date::TIMESTAMPTZ, TIMESTAMPTZ '2024-01-01 00:00:00+00') AS since
          FROM outcomes o JOIN customers c USING (customer_id) WHERE o.kind = 'churn'),
        x AS (
          SELECT customer_id, churn, since,
            count(*) FILTER (WHERE t.ts >= churn - INTERVAL 90 DAY) / 3.0 AS last_rate,
            count(*) FILTER (WHERE t.ts < churn - INTERVAL 90 DAY) AS earlier
          FROM ch JOIN transactions t USING (customer_id)
          WHERE churn >= since + INTERVAL 150 DAY GROUP BY ALL)
        SELECT sum(last_rate)
          / sum(earlier / (date_diff('day', since, churn - INTERVAL 90 DAY) / 30.4)) FROM x
        """,
    )
    assert ratio < 0.7


def test_complaint_surges_grow(db: duckdb.DuckDBPyConnection) -> None:
    weekly = db.execute(
        """
        SELECT floor(epoch(i.ts - e.onset_ts) / (168 * 3600)) AS week, count(*)
        FROM episodes e JOIN interactions i USING (customer_id)
        WHERE e.risk_type = 'complaint_surge' AND i.kind = 'complaint'
          AND i.ts >= e.onset_ts AND i.ts < e.onset_ts + INTERVAL 21 DAY
        GROUP BY ALL ORDER BY week
        """
    ).fetchall()
    counts = [n for _, n in weekly]
    assert len(counts) == 3 and counts[0] < counts[1] < counts[2]
    assert counts[2] > 2.5 * counts[0]


def test_fraud_amounts_stand_out(db: duckdb.DuckDBPyConnection) -> None:
    z = _one(
        db,
        """
        WITH h AS (
          SELECT customer_id,
            avg(amount) FILTER (WHERE t.ts < e.onset_ts) AS mu,
            stddev(amount) FILTER (WHERE t.ts < e.onset_ts) AS sd,
            max(amount) FILTER (WHERE t.ts >= e.onset_ts AND t.ts < e.onset_ts + INTERVAL 4 DAY)
              AS top
          FROM episodes e JOIN transactions t USING (customer_id)
          WHERE e.risk_type = 'fraud' AND t.type = 'purchase' GROUP BY ALL)
        SELECT median((top - mu) / sd) FROM h WHERE sd > 0
        """,
    )
    assert z > 5
    new_devices = _one(
        db,
        """
        SELECT avg((SELECT count(*) FROM events v WHERE v.customer_id = e.customer_id
                    AND v.kind = 'device_change' AND v.ts >= e.onset_ts
                    AND v.ts < e.onset_ts + INTERVAL 1 DAY))
        FROM episodes e WHERE e.risk_type = 'fraud'
        """,
    )
    assert new_devices > 0.8


def test_external_shock_hits_one_segment(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(
        """
        WITH s AS (SELECT segment, onset_ts FROM episodes WHERE risk_type = 'external_shock')
        SELECT c.segment = s.segment AS shocked,
          count(*) FILTER (WHERE t.ts >= s.onset_ts) / count(*) FILTER (WHERE t.ts < s.onset_ts
            AND t.ts >= s.onset_ts - INTERVAL 45 DAY) AS ratio
        FROM transactions t JOIN customers c USING (customer_id), s
        WHERE t.ts >= s.onset_ts - INTERVAL 45 DAY AND t.ts < s.onset_ts + INTERVAL 45 DAY
        GROUP BY ALL
        """
    ).fetchall()
    ratio = dict(rows)
    assert ratio[True] < 0.8 * ratio[False]
    assert _one(db, "SELECT count(*) FROM episodes WHERE risk_type = 'external_shock'") == 1
    assert (
        _one(db, "SELECT count(customer_id) FROM episodes WHERE risk_type = 'external_shock'") == 0
    )


def test_staff_over_access_precedes_exposure(db: duckdb.DuckDBPyConnection) -> None:
    top, normal = db.execute(
        """
        WITH per AS (SELECT customer_id, actor, count(*) AS n FROM events
                     WHERE kind = 'data_access' GROUP BY ALL)
        SELECT
          (SELECT median(m) FROM (SELECT max(n) AS m FROM per WHERE customer_id IN
             (SELECT customer_id FROM episodes WHERE risk_type = 'data_leakage')
             GROUP BY customer_id)),
          (SELECT quantile_cont(n, 0.99) FROM per)
        """
    ).fetchone() or (0, 0)
    assert top > 3 * normal


def test_fake_review_rings_post_near_duplicates(db: duckdb.DuckDBPyConnection) -> None:
    dup = _one(
        db,
        """
        SELECT avg(CASE WHEN n >= 3 THEN 1 ELSE 0 END) FROM (
          SELECT i.customer_id, (SELECT count(DISTINCT j.customer_id) FROM interactions j
             WHERE j.kind = 'review' AND rtrim(j.text, '!～。 👍10/') = rtrim(i.text, '!～。 👍10/')
             AND abs(date_diff('day', j.ts, i.ts)) <= 5) AS n
          FROM episodes e JOIN interactions i USING (customer_id)
          WHERE e.risk_type = 'fake_review' AND i.kind = 'review' AND i.ts >= e.onset_ts
            AND i.ts < e.onset_ts + INTERVAL 5 DAY)
        """,
    )
    assert dup > 0.8


@pytest.mark.parametrize("industry", list(Industry))
def test_every_industry_runs(industry: Industry, tmp_path: Path) -> None:
    summary = simulate(
        SimulationConfig(customers=400, months=6, industry=industry, seed=2), tmp_path
    )
    assert summary.rows["customers"] == 400
    assert summary.rows["transactions"] > 400
    con = duckdb.connect()
    path = summary.files["customers"]
    assert _one(con, f"SELECT count(DISTINCT industry) FROM '{path}'") == 1
    assert _one(con, f"SELECT count(DISTINCT segment) FROM '{path}'") >= 3


def test_finance_fraud_moves_money_in_and_out(tmp_path: Path) -> None:
    cfg = SimulationConfig(customers=3000, months=12, industry=Industry.FINANCE, seed=5)
    summary = simulate(cfg, tmp_path)
    con = duckdb.connect()
    ep, tx = summary.files["episodes"], summary.files["transactions"]
    share = _one(
        con,
        f"""
        SELECT avg(CASE WHEN (SELECT count(*) FROM '{tx}' d JOIN '{tx}' w USING (customer_id)
            WHERE d.customer_id = e.customer_id AND d.type = 'deposit'
              AND w.type IN ('withdrawal', 'transfer') AND w.ts > d.ts
              AND w.ts < d.ts + INTERVAL 1 DAY AND w.amount >= 0.9 * d.amount
              AND d.ts >= e.onset_ts AND d.ts < e.onset_ts + INTERVAL 4 DAY) > 0 THEN 1 ELSE 0 END)
        FROM '{ep}' e WHERE e.risk_type = 'fraud'
        """,
    )
    assert share > 0.8


def test_texts_actors_and_pii_look_real(db: duckdb.DuckDBPyConnection) -> None:
    q = lambda sql: _one(db, sql)  # noqa: E731
    assert q("SELECT count(*) FROM interactions WHERE regexp_matches(text, '[\u4e00-\u9fff]')") > 0
    assert q("SELECT count(*) FROM interactions WHERE regexp_matches(text, '^[A-Z][a-z]')") > 0
    actors = "regexp_full_match(actor, 'customer|system|S[0-9]{4}')"
    assert q(f"SELECT count(*) FROM events WHERE NOT {actors}") == 0
    staff = "SELECT count(*) FROM events WHERE kind = 'data_access' AND actor NOT LIKE 'S%'"
    assert q(staff) == 0
    phones = "regexp_full_match(phone, '1[0-9]{2}-[0-9]{4}-[0-9]{4}')"
    assert q(f"SELECT count(*) FROM customers WHERE NOT {phones}") == 0
    assert q("SELECT count(*) FROM customers WHERE signup_date >= DATE '2024-01-01'") > 100
