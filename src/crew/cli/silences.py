"""`crew alerts silence`, `silences` and `unsilence`: hold notifications back for a while.

A silenced warning is still stored, listed and streamed to the dashboard; only webhooks do
not hear of it, and `crew notify list` shows which silence held it back.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import typer
from rich.box import SIMPLE_HEAD
from rich.markup import escape
from rich.table import Table as RichTable

from crew.cli._output import emit_json, out, reports_errors, workspace_option
from crew.cli.alerts import _open_store
from crew.store.silences import Silence
from crew.types import RiskType

_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def silence_end(text: str, now: datetime) -> datetime:
    """When a silence given `--until text` ends: a date (its midnight, UTC), a time, or 12h.

    >>> now = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    >>> silence_end("2024-05-08", now), silence_end("36h", now)
    (datetime.datetime(2024, 5, 8, 0, 0, tzinfo=datetime.timezone.utc), \
datetime.datetime(2024, 5, 2, 21, 30, tzinfo=datetime.timezone.utc))
    """
    match = _DURATION.match(text.strip())
    if match:
        return now + timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        if len(text.strip()) == 10:
            return datetime.combine(date.fromisoformat(text.strip()), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"'{text}' is neither a date (2024-06-30), a time (2024-06-30T18:00) nor a length "
            "(90m, 12h, 7d, 2w).",
            param_hint="--until",
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@reports_errors
def silence_command(
    ctx: typer.Context,
    until: str = typer.Option(
        ...,
        "--until",
        help="When it ends: a date (its midnight, UTC), a time such as 2024-06-30T18:00 "
        "(UTC unless an offset is given), or a length from now (90m, 12h, 7d, 2w).",
    ),
    reason: str = typer.Option(..., "--reason", help="Why, for whoever wonders later."),
    customer: str = typer.Option(
        None, "--customer", help="Only this customer's warnings.", show_default=False
    ),
    risk_type: RiskType = typer.Option(
        None, "--type", help="Only warnings of this risk type.", show_default=False
    ),
    segment: str = typer.Option(
        None,
        "--segment",
        help="Only this segment's own warnings (segment-wide shocks; customers' warnings "
        "are grouped under them).",
        show_default=False,
    ),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the silence as JSON."),
) -> None:
    """Hold back webhook notifications of matching warnings until a set time.

    Every option given must match: --customer C042 --type churn silences only C042's churn
    warnings. The warnings are still stored and shown; only notifications are held back,
    each with the silence that held it.
    """
    now = datetime.now(UTC)
    ends = silence_end(until, now)
    if customer is None and risk_type is None and segment is None:
        raise typer.BadParameter(
            "say what to silence with --customer, --type and/or --segment.",
            param_hint="--customer/--type/--segment",
        )
    if ends <= now:
        raise typer.BadParameter(
            f"{ends:%Y-%m-%d %H:%M} UTC has passed; give a later time.", param_hint="--until"
        )
    if not reason.strip():
        raise typer.BadParameter("give a reason, for whoever wonders later.", param_hint="--reason")
    with _open_store(ctx, workspace_dir) as store:
        silence = store.silences.add(
            customer_id=customer,
            risk_type=risk_type,
            segment=segment,
            until=ends,
            reason=reason,
            actor=os.environ.get("USER") or "cli",
            at=now,
        )
    if as_json:
        emit_json(_payload(silence, now))
        return
    out.print(
        f"Silence {silence.id}: {silence.matcher} until {silence.ends_at:%Y-%m-%d %H:%M} UTC.",
        markup=False,
    )


@reports_errors
def silences_command(
    ctx: typer.Context,
    include_ended: bool = typer.Option(False, "--all", help="Include silences that ended."),
    workspace_dir: Path = workspace_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the silences as JSON."),
) -> None:
    """List silences that have not ended (with --all, every one)."""
    now = datetime.now(UTC)
    with _open_store(ctx, workspace_dir) as store:
        silences = store.silences.listing(now, include_ended=include_ended)
    if as_json:
        emit_json({"silences": [_payload(s, now) for s in silences]})
        return
    if not silences:
        out.print("No silences. 'crew alerts silence --help' shows how to set one.")
        return
    table = RichTable(title="Silences", title_justify="left", box=SIMPLE_HEAD)
    for column in ("id", "matches", "from", "until", "state", "by", "reason"):
        table.add_column(column, overflow="fold")
    for s in silences:
        state = "active" if s.is_active(now) else ("ended" if s.ends_at <= now else "future")
        table.add_row(
            str(s.id),
            escape(s.matcher),
            f"{s.starts_at:%Y-%m-%d %H:%M}",
            f"{s.ends_at:%Y-%m-%d %H:%M}",
            state,
            escape(s.created_by),
            escape(s.reason),
        )
    out.print(table)


@reports_errors
def unsilence_command(
    ctx: typer.Context,
    silence_id: int = typer.Argument(..., help="Silence id (see 'crew alerts silences')."),
    workspace_dir: Path = workspace_option(),
) -> None:
    """End a silence now: later changes of its warnings are notified again."""
    with _open_store(ctx, workspace_dir) as store:
        silence = store.silences.end(silence_id, datetime.now(UTC))
    out.print(
        f"Silence {silence.id} ({silence.matcher}) ended at {silence.ends_at:%Y-%m-%d %H:%M} UTC.",
        markup=False,
    )


def _payload(silence: Silence, now: datetime) -> dict[str, object]:
    return {
        "id": silence.id,
        "customer_id": silence.customer_id,
        "risk_type": silence.risk_type.value if silence.risk_type else None,
        "segment": silence.segment,
        "starts_at": silence.starts_at,
        "ends_at": silence.ends_at,
        "active": silence.is_active(now),
        "reason": silence.reason,
        "created_by": silence.created_by,
    }


__all__ = ["silence_command", "silence_end", "silences_command", "unsilence_command"]
