"""docs/indicators.md, generated from the catalog (`crew indicators docs`)."""

from __future__ import annotations

from crew.indicators.catalog import Catalog, IndicatorDef

_INTRO = """\
# Indicator catalog (风险识别指标体系)

Generated from the catalog by `crew indicators docs --out docs/indicators.md`; a test fails
when this page and the catalog disagree.

Every indicator is computed per customer at an instant `as_of`, from rows with
`ts < as_of` only. A window `30d` covers `[as_of - 30 days, as_of)`; with an offset `30d` it
ends 30 days earlier (`[as_of - 60 days, as_of - 30 days)`), which is how a customer's own
baseline is taken. The population at `as_of` is every customer who signed up before it.

Point in time, beyond the `ts` filter: a contact's `resolved_ts` is only seen when it is
before `as_of`, and its `status` is derived from that (`open` or `resolved`), because the
stored status is today's, not the one at `as_of`.

## Change indicators and zero baselines

A change compares a recent value `r` with a baseline `b`. With *per day*, the baseline is
first scaled to the recent window's length (`b × recent days / baseline days`: the value
expected in the recent window at the baseline's pace).

| method | formula | zero baseline |
|---|---|---|
| relative | `(r - b) / abs(b)` | `0` when `r` is 0 too; empty otherwise (no usual rate to compare with) |
| symmetric | `(r - b) / ((abs(r) + abs(b)) / 2)`, in [-2, 2] | `0` when both are 0; `+2` for anything new |
| difference | `r - b` | no special case |
| smoothed | `(r + k) / (b + k) - 1`, `k` = 1 by default | defined everywhere: 3 complaints after none give `+3` |

Counts of rare events (complaints, staff accesses, reviews) use *smoothed*: a jump from
zero is exactly the signal, and `k` keeps one event from looking like an infinite rise.
An indicator is empty (missing) when its inputs are: models impute, fuzzy grading skips.

## Aggregates

`count`, `sum`, `avg`, `min`, `max`, `count_distinct`, `stddev` (sample), `slope` (least
squares per 30 days; needs 3 values over at least 30 days), `last` (value at the latest
timestamp, mean of ties) and `days_since_last`. A customer without rows gets 0 for
`count`, `count_distinct` and `sum`, the indicator's `default` when it has one, else empty.

## Adding or overriding indicators

Write `catalog/indicators.yaml` in the workspace, with the same fields as below; an entry
with an existing id replaces it, `disable: [id, ...]` removes built-ins:

```yaml
indicators:
  - id: complaint_count_14d
    dimension: complaints
    label: {en: Complaints in the last 14 days, zh: 近14天投诉次数}
    description: Complaints in the 14 days before as_of.
    direction: higher_is_riskier
    unit: count
    source: interactions
    aggregate: count
    where: "kind = 'complaint' AND severity >= 3"
    window: 14d
  - id: refund_amount_30d
    dimension: trust
    label: {en: "Refunded amount, last 30 days", zh: 近30天退款金额}
    description: Sum of refunds in the 30 days before as_of.
    direction: higher_is_riskier
    unit: currency
    source: transactions
    aggregate: sum
    column: amount
    where: "type = 'refund'"
    window: 30d
  - id: refund_share_of_spend_30d
    dimension: trust
    label: {en: Refunds as a share of spend, zh: 退款金额占比}
    description: Refunded amount over purchased amount in the last 30 days.
    direction: higher_is_riskier
    unit: share
    ratio: {numerator: refund_amount_30d, denominator: spend_30d}
  - id: complaint_change_14d
    dimension: complaints
    label: {en: "Complaint change, 14 days", zh: 近14天投诉变化}
    description: Complaints of the last 14 days against the 30 days before as_of.
    direction: higher_is_riskier
    unit: share
    change: {recent: complaint_count_14d, baseline: complaint_count_30d, method: smoothed, per_day: true}
```

Snippets (`where`, `column`, `expression`) are SQL expressions in DuckDB's syntax over the
source's columns (and `as_of`); formulas see other indicators and the customer's
`segment`, `tier`, `industry`, `region`, `signup_date`. The same definition runs on DuckDB
and on Spark.
"""


def render_catalog_reference(catalog: Catalog) -> str:
    """Markdown describing every dimension, source and indicator of `catalog`."""
    parts = [
        _INTRO,
        "## Sources\n",
        "| source | table | rows kept | extra columns |",
        "|---|---|---|---|",
    ]
    for name, src in catalog.sources.items():
        extra = ", ".join(f"`{c}`" for c in src.columns) or "-"
        parts.append(f"| `{name}` | {src.table.value} | `{src.where or 'all'}` | {extra} |")
    parts.append("")
    outputs = [i for i in catalog.indicators if i.output]
    parts.append(
        f"## Indicators\n\n{len(outputs)} indicators in {len(catalog.dimensions)} dimensions, "
        f"plus {len(catalog.indicators) - len(outputs)} helpers used by formulas (marked "
        "*helper*).\n"
    )
    for dim, label in catalog.dimensions.items():
        members = [i for i in catalog.indicators if i.dimension == dim]
        parts.append(f"### {label.en} ({label.zh}) — `{dim}`\n")
        parts.append("| indicator | label | direction | unit | window | formula | profiles |")
        parts.append("|---|---|---|---|---|---|---|")
        parts.extend(_row(i) for i in members)
        parts.append("")
        for ind in members:
            parts.append(f"- **`{ind.id}`** — {ind.description}")
        parts.append("")
    return "\n".join(parts)


def _row(ind: IndicatorDef) -> str:
    name = f"`{ind.id}`" + ("" if ind.output else " *helper*")
    window = ind.window or "-"
    if ind.offset:
        window += f" (ends {ind.offset} before)"
    profiles = ", ".join(p.value for p in ind.profiles) if ind.profiles else "all"
    formula = ind.formula().replace("|", "\\|")
    return (
        f"| {name} | {ind.label.en} / {ind.label.zh} | {ind.direction.value.replace('_', ' ')} "
        f"| {ind.unit} | {window} | `{formula}` | {profiles} |"
    )


__all__ = ["render_catalog_reference"]
