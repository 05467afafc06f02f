"""The canonical data model: the only module that writes DDL.

Fact tables (transactions, interactions, events) declare no DuckDB primary key: an ART
index on tens of millions of string ids makes bulk loads about four times slower and
does not help analytical scans, which use DuckDB's zone maps. Their ids are kept unique
by the importer inside the import transaction instead (see `crew.ingest.importer`).
Small tables (customers, outcomes, attributes) carry real primary keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from crew.types import InteractionKind, Table, TxnType

SCHEMA_VERSION = 1
IMPORT_ID = "_import_id"


@dataclass(frozen=True)
class Column:
    """One column of a canonical table, with the rules the importer enforces."""

    name: str
    sql_type: str
    description: str
    required: bool = False
    pii: bool = False
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableSpec:
    """A canonical table: its columns, its id columns and what it refers to."""

    name: Table
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str
    refers_to_customers: bool = True

    def column(self, name: str) -> Column:
        """The column called `name`; KeyError if there is none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in table order."""
        return tuple(c.name for c in self.columns)


_TXN_TYPES = tuple(t.value for t in TxnType)
_INTERACTION_KINDS = tuple(k.value for k in InteractionKind)

CUSTOMERS = TableSpec(
    Table.CUSTOMERS,
    (
        Column("customer_id", "VARCHAR", "Customer identifier.", required=True),
        Column("segment", "VARCHAR", "Business segment, e.g. mass, affluent, smb."),
        Column("tier", "VARCHAR", "Value tier (客户分级), e.g. key, important, regular."),
        Column("industry", "VARCHAR", "Industry profile of the relationship."),
        Column("region", "VARCHAR", "Region or province."),
        Column("signup_date", "DATE", "Start of the relationship."),
        Column("name", "VARCHAR", "Full name.", pii=True),
        Column("phone", "VARCHAR", "Phone number.", pii=True),
        Column("email", "VARCHAR", "E-mail address.", pii=True),
        Column("id_number", "VARCHAR", "National ID or passport number.", pii=True),
    ),
    key=("customer_id",),
    description="One row per customer; extra attributes live in customer_attributes.",
    refers_to_customers=False,
)

TRANSACTIONS = TableSpec(
    Table.TRANSACTIONS,
    (
        Column("txn_id", "VARCHAR", "Transaction identifier.", required=True),
        Column("customer_id", "VARCHAR", "Customer identifier.", required=True),
        Column("ts", "TIMESTAMPTZ", "When it happened (UTC).", required=True),
        Column("amount", "DOUBLE", "Money amount, never negative.", required=True, minimum=0),
        Column("type", "VARCHAR", "Kind of money movement.", allowed=_TXN_TYPES),
        Column("channel", "VARCHAR", "Channel: app, web, store, branch, call_center."),
        Column("category", "VARCHAR", "Product category."),
        Column("status", "VARCHAR", "Status: completed, failed, reversed."),
        Column("quantity", "DOUBLE", "Units bought, when known.", minimum=0),
    ),
    key=("txn_id",),
    description="Money movements: purchases, refunds, deposits, withdrawals, chargebacks.",
)

INTERACTIONS = TableSpec(
    Table.INTERACTIONS,
    (
        Column("interaction_id", "VARCHAR", "Interaction identifier.", required=True),
        Column("customer_id", "VARCHAR", "Customer identifier.", required=True),
        Column("ts", "TIMESTAMPTZ", "When it happened (UTC).", required=True),
        Column("kind", "VARCHAR", "Kind of contact.", required=True, allowed=_INTERACTION_KINDS),
        Column("severity", "INTEGER", "Severity 1 (minor) to 5 (critical).", minimum=1, maximum=5),
        Column("status", "VARCHAR", "open, resolved, escalated."),
        Column("resolved_ts", "TIMESTAMPTZ", "When it was resolved (UTC)."),
        Column("nps", "INTEGER", "Net Promoter answer 0-10.", minimum=0, maximum=10),
        Column("csat", "INTEGER", "Satisfaction 1-5.", minimum=1, maximum=5),
        Column("rating", "DOUBLE", "Review rating 1-5.", minimum=1, maximum=5),
        Column("text", "VARCHAR", "Free text of the complaint, chat or review."),
    ),
    key=("interaction_id",),
    description="Contacts: complaints, tickets, surveys, calls, chats, reviews, disputes.",
)

EVENTS = TableSpec(
    Table.EVENTS,
    (
        Column("event_id", "VARCHAR", "Event identifier.", required=True),
        Column("customer_id", "VARCHAR", "Customer identifier.", required=True),
        Column("ts", "TIMESTAMPTZ", "When it happened (UTC).", required=True),
        Column(
            "kind", "VARCHAR", "login, login_failed, device_change, data_access, ...", required=True
        ),
        Column("actor", "VARCHAR", "Who did it: the customer, a staff id, a system."),
        Column("attributes", "JSON", "Anything else, as a JSON object."),
    ),
    key=("event_id",),
    description="Account and data events: logins, device changes, staff data access, consent.",
)

OUTCOMES = TableSpec(
    Table.OUTCOMES,
    (
        Column("customer_id", "VARCHAR", "Customer identifier.", required=True),
        Column("kind", "VARCHAR", "churn, fraud_confirmed, regulator_case, ...", required=True),
        Column("ts", "TIMESTAMPTZ", "When it happened (UTC).", required=True),
        Column("value", "DOUBLE", "Money lost or at stake, when known."),
    ),
    key=("customer_id", "kind", "ts"),
    description="What really happened: the labels that models learn and warnings are judged by.",
)

CANONICAL: dict[Table, TableSpec] = {
    t.name: t for t in (CUSTOMERS, TRANSACTIONS, INTERACTIONS, EVENTS, OUTCOMES)
}

# Derived tables are written by CREW itself, never imported; indicators may read them like
# canonical tables (their `ts` is copied from the source row, so `ts < as_of` applies).
INTERACTION_TEXT = TableSpec(
    Table.INTERACTION_TEXT,
    (
        Column("interaction_id", "VARCHAR", "Interaction the text belongs to.", required=True),
        Column("customer_id", "VARCHAR", "Customer identifier (copied).", required=True),
        Column("ts", "TIMESTAMPTZ", "When the interaction happened (copied).", required=True),
        Column("kind", "VARCHAR", "Kind of contact (copied).", required=True),
        Column("lang", "VARCHAR", "Language of the text: en or zh."),
        Column("sentiment", "DOUBLE", "Sentiment -1 (negative) to 1 (positive).", minimum=-1),
        Column("sentiment_label", "VARCHAR", "negative, neutral or positive."),
        Column("topic", "VARCHAR", "Main complaint topic (crew/text/topics.yaml), or other."),
        Column("topic_score", "DOUBLE", "Confidence of the main topic, 0 to 1."),
        Column("topics", "VARCHAR[]", "Every topic the text mentions, main topic first."),
        Column("urgency", "DOUBLE", "Urgency 0 (none) to 1 (act now).", minimum=0, maximum=1),
        Column("urgency_level", "VARCHAR", "low (< 0.4), medium (< 0.7) or high."),
        Column("key_phrases", "VARCHAR[]", "Up to five key phrases, personal data redacted."),
        Column("text_hash", "VARCHAR", "SHA-256 of the text: unchanged texts are not redone."),
        Column("analyzer", "VARCHAR", "Analyzer version and taxonomy digest."),
        Column("analyzed_at", "TIMESTAMPTZ", "When the text was analysed."),
    ),
    key=("interaction_id",),
    description="Derived by 'crew text analyze': language, sentiment, topics, urgency, phrases.",
)

DERIVED: dict[Table, TableSpec] = {INTERACTION_TEXT.name: INTERACTION_TEXT}
TABLES: dict[Table, TableSpec] = {**CANONICAL, **DERIVED}
"""Every table indicators may read: the canonical ones and the derived ones."""

# Bookkeeping tables: attributes of customers (long form), PII flags, import log.
_SUPPORT_DDL = (
    """CREATE TABLE IF NOT EXISTS customer_attributes (
        customer_id VARCHAR NOT NULL,
        attribute VARCHAR NOT NULL,
        value_num DOUBLE,
        value_text VARCHAR,
        _import_id BIGINT,
        PRIMARY KEY (customer_id, attribute))""",
    """CREATE TABLE IF NOT EXISTS attribute_catalog (
        attribute VARCHAR PRIMARY KEY,
        dtype VARCHAR NOT NULL,
        pii BOOLEAN NOT NULL DEFAULT FALSE,
        source VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS pii_columns (
        table_name VARCHAR NOT NULL,
        column_name VARCHAR NOT NULL,
        PRIMARY KEY (table_name, column_name))""",
    """CREATE SEQUENCE IF NOT EXISTS import_seq START 1""",
    """CREATE TABLE IF NOT EXISTS imports (
        import_id BIGINT PRIMARY KEY,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        source VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        shape VARCHAR NOT NULL,
        rows_read BIGINT,
        rows_replaced BIGINT,
        snapshot_date DATE,
        mapping_sha256 VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS weights (
        weight_set VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        item VARCHAR NOT NULL,
        weight DOUBLE NOT NULL,
        method VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        provenance JSON,
        PRIMARY KEY (weight_set, scope, item))""",
    """CREATE TABLE IF NOT EXISTS models (
        version INTEGER PRIMARY KEY,
        kind VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        as_of TIMESTAMPTZ,
        horizon_days INTEGER,
        profile VARCHAR NOT NULL,
        catalog_sha256 VARCHAR NOT NULL,
        artifact VARCHAR NOT NULL,
        artifact_sha256 VARCHAR NOT NULL,
        metadata JSON NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS scores (
        customer_id VARCHAR NOT NULL,
        as_of TIMESTAMPTZ NOT NULL,
        model_version INTEGER NOT NULL,
        state VARCHAR NOT NULL,
        churn_probability DOUBLE,
        risk_index DOUBLE,
        level VARCHAR NOT NULL,
        colour VARCHAR NOT NULL,
        fuzzy_index DOUBLE,
        coverage DOUBLE,
        clv DOUBLE,
        clv_decline DOUBLE,
        dimension_scores JSON,
        reasons JSON,
        evidence_note VARCHAR,
        computed_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (customer_id, as_of, model_version))""",
    """CREATE TABLE IF NOT EXISTS indicator_runs (
        as_of TIMESTAMPTZ NOT NULL,
        profile VARCHAR NOT NULL,
        engine VARCHAR NOT NULL,
        catalog_sha256 VARCHAR NOT NULL,
        customers BIGINT NOT NULL,
        indicators INTEGER NOT NULL,
        seconds DOUBLE NOT NULL,
        computed_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (as_of, profile))""",
)


def table_ddl(spec: TableSpec) -> str:
    """`CREATE TABLE` statement of a canonical table.

    >>> print(table_ddl(OUTCOMES).splitlines()[1].strip())
    customer_id VARCHAR NOT NULL,
    """
    lines = [f"    {c.name} {c.sql_type}{' NOT NULL' if c.required else ''}," for c in spec.columns]
    lines.append(f"    {IMPORT_ID} BIGINT")
    if spec.name in (Table.CUSTOMERS, Table.OUTCOMES):
        lines[-1] += ","
        lines.append(f"    PRIMARY KEY ({', '.join(spec.key)})")
    body = "\n".join(lines)
    return f"CREATE TABLE IF NOT EXISTS {spec.name.value} (\n{body}\n)"


def derived_ddl(spec: TableSpec) -> str:
    """`CREATE TABLE` statement of a derived table (a real primary key, no import id).

    >>> print(derived_ddl(INTERACTION_TEXT).splitlines()[-2].strip())
    PRIMARY KEY (interaction_id)
    """
    lines = [f"    {c.name} {c.sql_type}{' NOT NULL' if c.required else ''}," for c in spec.columns]
    lines.append(f"    PRIMARY KEY ({', '.join(spec.key)})")
    body = "\n".join(lines)
    return f"CREATE TABLE IF NOT EXISTS {spec.name.value} (\n{body}\n)"


def create_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create every table of the workspace that does not exist yet, in one transaction."""
    conn.execute("BEGIN TRANSACTION")
    try:
        for spec in CANONICAL.values():
            conn.execute(table_ddl(spec))
        for spec in DERIVED.values():
            conn.execute(derived_ddl(spec))
        for ddl in _SUPPORT_DDL:
            conn.execute(ddl)
        for spec in CANONICAL.values():
            for col in spec.columns:
                if col.pii:
                    conn.execute(
                        "INSERT INTO pii_columns VALUES (?, ?) ON CONFLICT DO NOTHING",
                        [spec.name.value, col.name],
                    )
        row = conn.execute("SELECT count(*) FROM schema_version").fetchone()
        if row is None or row[0] == 0:
            conn.execute("INSERT INTO schema_version VALUES (?)", [SCHEMA_VERSION])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def schema_version(conn: duckdb.DuckDBPyConnection) -> int | None:
    """Schema version stored in the workspace, or None when it has no schema."""
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()
    if exists is None or exists[0] == 0:
        return None
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return None if row is None else row[0]


def register_attribute(
    conn: duckdb.DuckDBPyConnection, attribute: str, dtype: str, *, pii: bool, source: str
) -> None:
    """Record an extra customer attribute (and whether it is personal data)."""
    conn.execute(
        "INSERT INTO attribute_catalog VALUES (?, ?, ?, ?) ON CONFLICT (attribute) DO UPDATE "
        "SET dtype = excluded.dtype, pii = excluded.pii OR attribute_catalog.pii, "
        "source = excluded.source",
        [attribute, dtype, pii, source],
    )
    if pii:
        conn.execute(
            "INSERT INTO pii_columns VALUES ('customer_attributes', ?) ON CONFLICT DO NOTHING",
            [attribute],
        )


__all__ = [
    "CANONICAL",
    "CUSTOMERS",
    "DERIVED",
    "EVENTS",
    "IMPORT_ID",
    "INTERACTIONS",
    "INTERACTION_TEXT",
    "OUTCOMES",
    "SCHEMA_VERSION",
    "TABLES",
    "TRANSACTIONS",
    "Column",
    "TableSpec",
    "create_schema",
    "derived_ddl",
    "register_attribute",
    "schema_version",
    "table_ddl",
]
