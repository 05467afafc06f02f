"""The catalog: its size and shape, workspace overrides, and errors that name the indicator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crew.errors import CatalogError, UnknownIndicatorError
from crew.indicators.catalog import load_catalog
from crew.indicators.compute import compute_indicators
from crew.indicators.reference import _INTRO, render_catalog_reference
from crew.store import Workspace
from crew.types import Industry

DOCS = Path(__file__).parents[2] / "docs" / "indicators.md"


def test_builtin_catalog_covers_six_dimensions_with_35_or_more_indicators() -> None:
    catalog = load_catalog()
    outputs = catalog.outputs(None)
    assert len(outputs) >= 35
    assert {i.dimension for i in outputs} == {
        "value",
        "trust",
        "complaints",
        "compliance",
        "fraud",
        "external",
    }
    assert all(i.label.en and i.label.zh for i in catalog.indicators)
    assert len({i.id for i in catalog.indicators}) == len(catalog.indicators)


def test_profiles_choose_indicators() -> None:
    catalog = load_catalog()
    finance = {i.id for i in catalog.outputs(Industry.FINANCE)}
    ecommerce = {i.id for i in catalog.outputs(Industry.ECOMMERCE)}
    assert "rapid_in_out_count_30d" in finance and "rapid_in_out_count_30d" not in ecommerce
    assert "review_burst" in ecommerce and "review_burst" not in finance
    # A profile still computes the helpers its formulas need.
    needed = {i.id for i in catalog.needed_for(Industry.ECOMMERCE)}
    assert {"review_count_7d", "review_count_prior_90d"} <= needed


def test_docs_page_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_catalog_reference(load_catalog()), (
        "docs/indicators.md is stale: run 'crew indicators docs --out docs/indicators.md'"
    )


def _write(workspace: Workspace, text: str) -> None:
    path = workspace.root / "catalog" / "indicators.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_documented_example_adds_indicators_without_python(
    sim_workspace: Workspace, tmp_path: Path
) -> None:
    example = re.search(r"```yaml\n(.*?)```", _INTRO, re.S)
    assert example is not None
    import shutil

    shutil.copytree(sim_workspace.root, tmp_path / "ws")
    workspace = Workspace(root=tmp_path / "ws", settings=sim_workspace.settings)
    _write(workspace, example.group(1))
    catalog = load_catalog(workspace.root)
    new = {
        "complaint_count_14d",
        "refund_amount_30d",
        "refund_share_of_spend_30d",
        "complaint_change_14d",
    }
    assert new <= set(catalog.by_id)
    from datetime import UTC, datetime

    run = compute_indicators(workspace, catalog, datetime(2024, 10, 1, tzinfo=UTC), store=False)
    frame = run.values.to_pandas().set_index("customer_id")
    assert new <= set(frame.columns)
    both = frame[frame["spend_30d"] > 0]
    expected = both["refund_amount_30d"] / both["spend_30d"]
    assert both["refund_share_of_spend_30d"].tolist() == pytest.approx(expected.tolist())
    assert (frame["complaint_count_14d"] <= frame["complaint_count_30d"]).all()


def test_workspace_entry_replaces_a_builtin_and_disable_removes_one(workspace: Workspace) -> None:
    _write(
        workspace,
        "disable: [review_burst]\nindicators:\n"
        "  - id: txn_count_30d\n    dimension: value\n"
        "    label: {en: Purchases over 50, zh: 大额购买}\n    description: Purchases over 50.\n"
        "    direction: lower_is_riskier\n    unit: count\n    source: purchases\n"
        "    aggregate: count\n    where: amount > 50\n    window: 30d\n",
    )
    catalog = load_catalog(workspace.root)
    assert catalog.get("txn_count_30d").where == "amount > 50"
    assert "review_burst" not in catalog.by_id
    assert catalog.sha256 != load_catalog().sha256


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "    source: transactions\n    aggregate: count\n"
            "    where: kindd = 'x'\n    window: 30d\n",
            "indicator 'bad': SQL 'kindd = 'x'' uses unknown column 'kindd'",
        ),
        (
            "    source: transactions\n    aggregate: count\n"
            '    where: "type = "\n    window: 30d\n',
            "indicator 'bad': SQL 'type = ' does not parse (incomplete expression at column 6)",
        ),
        (
            "    source: transactions\n    aggregate: sum\n    window: 30d\n",
            "aggregate 'sum' needs 'column'",
        ),
        (
            "    source: transactions\n    aggregate: count\n    window: 30 days\n",
            "'30 days' is not a window like 30d or 4w",
        ),
        (
            "    source: shops\n    aggregate: count\n    window: 30d\n",
            "indicator 'bad': unknown source 'shops'",
        ),
        (
            "    expression: txn_count_30 * 2\n",
            "indicator 'bad': refers to unknown indicator 'txn_count_30'",
        ),
        (
            "    ratio: {numerator: txn_count_30d, denominator: bad}\n",
            "Indicators refer to each other in a circle: bad -> bad",
        ),
        ("    expression: (SELECT 1)\n", "must be an expression, without SELECT or tables"),
        (
            "    source: transactions\n    aggregate: count\n    window: 30d\n    expression: x\n",
            "give exactly one of aggregate, expression, change, ratio",
        ),
    ],
)
def test_bad_definitions_name_the_indicator_and_the_problem(
    workspace: Workspace, entry: str, message: str
) -> None:
    _write(
        workspace,
        "indicators:\n  - id: bad\n    dimension: value\n    label: {en: Bad, zh: 坏}\n"
        "    description: A bad one.\n    direction: neutral\n    unit: count\n" + entry,
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(workspace.root)
    assert message in str(caught.value)


def test_unknown_dimension_lists_the_known_ones(workspace: Workspace) -> None:
    _write(
        workspace,
        "indicators:\n  - id: x\n    dimension: vibes\n    label: {en: X, zh: X}\n"
        "    description: X.\n    direction: neutral\n    unit: count\n    expression: '1'\n",
    )
    with pytest.raises(CatalogError, match="unknown dimension 'vibes'") as caught:
        load_catalog(workspace.root)
    assert caught.value.hint is not None and "complaints" in caught.value.hint


def test_unknown_indicator_suggests_the_closest() -> None:
    with pytest.raises(UnknownIndicatorError) as caught:
        load_catalog().get("complaints_30d")
    assert caught.value.hint == (
        "Did you mean 'complaint_count_30d'? 'crew indicators list' shows all."
    )
