"""Labels read only the horizon after as_of; examples never read past the training as_of."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from crew.errors import CrewError
from crew.indicators.catalog import load_catalog
from crew.ingest import import_sources, load_mapping
from crew.models.dataset import build_examples, build_snapshot_examples
from crew.models.labels import ChurnDefinition, churn_labels
from crew.store import Workspace, open_workspace

AS_OF = datetime(2024, 6, 1, tzinfo=UTC)
DATA = Path(__file__).parents[1] / "data"


def _people(db: duckdb.DuckDBPyConnection) -> None:
    db.execute(
        "INSERT INTO customers (customer_id, signup_date) VALUES ('stay', '2024-01-01'), "
        "('leave', '2024-01-01'), ('gone', '2024-01-01'), ('late', '2024-08-01'), "
        "('edge', '2024-01-01')"
    )
    db.execute(
        "INSERT INTO outcomes (customer_id, kind, ts) VALUES "
        "('leave', 'churn', '2024-07-15 00:00+00'), ('gone', 'churn', '2024-05-01 00:00+00'), "
        "('edge', 'churn', '2024-08-30 00:00+00'), "
        "('stay', 'fraud_confirmed', '2024-06-10 00:00+00')"
    )


def test_outcome_labels_cover_exactly_the_horizon(db: duckdb.DuckDBPyConnection) -> None:
    _people(db)
    labels = churn_labels(db, AS_OF, 90)["label"].to_dict()
    # 'gone' churned before as_of (not at risk); 'late' had not signed up; 'edge' churned on
    # day 90 (2024-08-30 is as_of + 90 days: outside [as_of, as_of + 90d)).
    assert labels == {"edge": 0, "leave": 1, "stay": 0}


def test_no_purchase_labels_for_transaction_only_data(db: duckdb.DuckDBPyConnection) -> None:
    _people(db)
    db.execute(
        "INSERT INTO transactions (txn_id, customer_id, ts, amount, type) VALUES "
        "('1', 'stay', '2024-05-20 00:00+00', 5, 'purchase'), "
        "('2', 'stay', '2024-06-20 00:00+00', 5, 'purchase'), "
        "('3', 'leave', '2024-05-21 00:00+00', 5, 'purchase'), "
        "('4', 'leave', '2024-06-21 00:00+00', 5, 'refund'), "
        "('5', 'edge', '2023-12-01 00:00+00', 5, 'purchase')"  # not active in the last 90 days
    )
    labels = churn_labels(db, AS_OF, 90, ChurnDefinition.NO_PURCHASE)["label"].to_dict()
    assert labels == {"leave": 1, "stay": 0}


def test_examples_never_read_past_the_training_instant(
    sim_workspace: Workspace, tmp_path: Path
) -> None:
    shutil.copytree(sim_workspace.root, tmp_path / "ws")
    workspace = open_workspace(tmp_path / "ws")
    catalog = load_catalog()
    train_at = datetime(2024, 11, 1, tzinfo=UTC)
    with workspace.connect() as conn:
        before = build_examples(conn, catalog, train_at, 60, snapshots=3, step_days=30)
        conn.execute("DELETE FROM transactions WHERE ts >= ?", [train_at])
        conn.execute("DELETE FROM outcomes WHERE ts >= ?", [train_at])
        conn.execute("DELETE FROM interactions WHERE ts >= ?", [train_at])
        after = build_examples(conn, catalog, train_at, 60, snapshots=3, step_days=30)
    assert [d.date().isoformat() for d in before.snapshots] == [
        "2024-07-04",
        "2024-08-03",
        "2024-09-02",  # the newest: its 60-day label window ends at the training instant
    ]
    pd.testing.assert_series_equal(before.labels, after.labels)
    pd.testing.assert_frame_equal(before.features, after.features, rtol=1e-12)
    assert before.labels.sum() > 0
    assert set(before.categorical) == {"segment", "tier", "region"}


def test_snapshot_examples_use_the_attributes(db: duckdb.DuckDBPyConnection) -> None:
    mapping, _ = load_mapping(DATA / "telco_snapshot.yaml")
    import_sources(db, mapping, DATA)
    examples = build_snapshot_examples(db)
    assert int(examples.labels.sum()) == 4 and len(examples.labels) == 10
    assert "attr_monthlycharges" in examples.numeric
    assert "attr_paymentmethod" in examples.categorical
    assert "segment" in examples.categorical


def test_no_churners_is_a_clear_error(db: duckdb.DuckDBPyConnection) -> None:
    db.execute("INSERT INTO customers (customer_id, signup_date) VALUES ('a', '2024-01-01')")
    with pytest.raises(CrewError, match="No usable training examples"):
        build_examples(db, load_catalog(), AS_OF + timedelta(days=200), 30, snapshots=2)
