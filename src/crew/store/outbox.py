"""The notification outbox: warning changes waiting to be told, and their deliveries.

A row is written with its warning change (see `_outbox_tables`); a dispatcher then settles
it once, routing it to receivers (one delivery each) or suppressing it with a reason, and
works through the deliveries until each is sent or dead. Several dispatchers may run at once:
every step claims its rows with a conditional UPDATE, so a delivery is attempted by one only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from crew.store._outbox_tables import deliveries_table, outbox_table
from crew.store.notifications import (
    Delivery,
    DeliveryState,
    Notification,
    Routing,
    delivery_id,
    delivery_of,
    notification_of,
)
from crew.types import Level, NotificationEvent, NotificationStatus

_LEASE = timedelta(minutes=5)
"""How long a claimed delivery is left to its dispatcher before another may try it."""


class Outbox:
    """Notifications and deliveries behind one SQLAlchemy engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def pending(self, limit: int = 500) -> list[Notification]:
        """Notifications nobody has routed yet, oldest first."""
        o = outbox_table.c
        query = sa.select(outbox_table).where(o.status == NotificationStatus.PENDING.value)
        return self._notifications(query.order_by(o.id).limit(limit))

    def after(self, last_id: int, limit: int = 100) -> list[Notification]:
        """Warning changes (not held ones) with an id above `last_id`, oldest first."""
        o = outbox_table.c
        query = sa.select(outbox_table).where(
            o.id > last_id, o.event != NotificationEvent.HELD.value
        )
        return self._notifications(query.order_by(o.id).limit(limit))

    def last_id(self) -> int:
        """The newest notification's id (0 when there is none)."""
        with self._engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(outbox_table.c.id))).scalar() or 0)

    def of_warning(self, warning_id: str) -> list[Notification]:
        """Every notification of one warning, oldest first."""
        o = outbox_table.c
        return self._notifications(
            sa.select(outbox_table).where(o.warning_id == warning_id).order_by(o.id)
        )

    def listing(
        self, *, status: NotificationStatus | None = None, limit: int = 50
    ) -> list[Notification]:
        """The newest notifications (optionally of one status), newest first."""
        o = outbox_table.c
        query = sa.select(outbox_table)
        if status is not None:
            query = query.where(o.status == status.value)
        return self._notifications(query.order_by(o.id.desc()).limit(limit))

    def notified_levels(self, warning_ids: Sequence[str]) -> dict[str, Level]:
        """The highest level receivers were told of, per warning (routed notifications)."""
        o = outbox_table.c
        query = sa.select(o.warning_id, o.level).where(
            o.status == NotificationStatus.ROUTED.value, o.warning_id.in_(list(warning_ids))
        )
        best: dict[str, Level] = {}
        order = list(Level)
        with self._engine.connect() as conn:
            for warning, level in conn.execute(query):
                if warning not in best or order.index(Level(level)) > order.index(best[warning]):
                    best[warning] = Level(level)
        return best

    def settle(self, decisions: Sequence[Routing], at: datetime) -> int:
        """Route or suppress pending notifications in one transaction; returns how many.

        A notification another dispatcher settled meanwhile is left alone (no deliveries).
        """
        o, settled = outbox_table.c, 0
        with self._engine.begin() as conn:
            for d in decisions:
                routed = d.reason is None
                status = NotificationStatus.ROUTED if routed else NotificationStatus.SUPPRESSED
                claimed = conn.execute(
                    outbox_table.update()
                    .where(o.id == d.outbox_id, o.status == NotificationStatus.PENDING.value)
                    .values(
                        status=status.value,
                        reason=None if d.reason is None else d.reason.value,
                        reason_detail=d.detail,
                        routed_at=at,
                    )
                ).rowcount
                if not claimed:
                    continue
                settled += 1
                for webhook in d.webhooks if d.reason is None else ():
                    conn.execute(deliveries_table.insert().values(_new_delivery(d, webhook, at)))
        return settled

    def claim_due(self, at: datetime, limit: int = 100) -> list[tuple[Delivery, Notification]]:
        """Pending deliveries due at `at`, each leased to the caller for a few minutes."""
        d, o = deliveries_table.c, outbox_table.c
        query = (
            sa.select(deliveries_table, outbox_table)
            .join(outbox_table, o.id == d.outbox_id)
            .where(d.state == DeliveryState.PENDING.value, d.next_attempt_at <= at)
            .order_by(d.next_attempt_at, d.id)
            .limit(limit)
        )
        claimed: list[tuple[Delivery, Notification]] = []
        with self._engine.begin() as conn:
            for row in conn.execute(query).all():
                values = row._mapping
                delivery = delivery_of({c.name: values[d[c.name]] for c in deliveries_table.c})
                won = conn.execute(
                    deliveries_table.update()
                    .where(
                        d.id == delivery.id,
                        d.state == DeliveryState.PENDING.value,
                        d.next_attempt_at == delivery.next_attempt_at,
                    )
                    .values(next_attempt_at=at + _LEASE)
                ).rowcount
                if won:
                    notice = notification_of({c.name: values[o[c.name]] for c in outbox_table.c})
                    claimed.append((delivery, notice))
        return claimed

    def record_attempt(
        self,
        delivery: str,
        *,
        at: datetime,
        ok: bool,
        status: int | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> Delivery:
        """Count one attempt: sent when `ok`, else pending until `retry_at`, or dead without."""
        d = deliveries_table.c
        values: dict[str, object] = {"attempts": d.attempts + 1, "last_status": status}
        if ok:
            values |= {"state": DeliveryState.SENT.value, "sent_at": at, "last_error": None}
        elif retry_at is not None:
            values |= {"next_attempt_at": retry_at, "last_error": error}
        else:
            values |= {"state": DeliveryState.DEAD.value, "last_error": error}
        with self._engine.begin() as conn:
            conn.execute(deliveries_table.update().where(d.id == delivery).values(values))
            row = conn.execute(sa.select(deliveries_table).where(d.id == delivery)).mappings()
            return delivery_of(dict(row.one()))

    def deliveries(self, *, outbox_id: int | None = None, limit: int = 100) -> list[Delivery]:
        """Deliveries (of one notification, or the newest), newest first."""
        d = deliveries_table.c
        query = sa.select(deliveries_table)
        if outbox_id is not None:
            query = query.where(d.outbox_id == outbox_id)
        query = query.order_by(d.created_at.desc(), d.id.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [delivery_of(dict(row)) for row in conn.execute(query).mappings()]

    def counts(self) -> dict[str, dict[str, int]]:
        """Notifications by status and reason, deliveries by webhook and state."""
        o, d = outbox_table.c, deliveries_table.c
        result: dict[str, dict[str, int]] = {"notifications": {}, "suppressed": {}}
        with self._engine.connect() as conn:
            for status, n in conn.execute(sa.select(o.status, sa.func.count()).group_by(o.status)):
                result["notifications"][str(status)] = int(n)
            by_reason = sa.select(o.reason, sa.func.count()).where(o.reason.is_not(None))
            for reason, n in conn.execute(by_reason.group_by(o.reason)):
                result["suppressed"][str(reason)] = int(n)
            by_hook = sa.select(d.webhook, d.state, sa.func.count()).group_by(d.webhook, d.state)
            for webhook, state, n in conn.execute(by_hook):
                result.setdefault(f"webhook:{webhook}", {})[str(state)] = int(n)
        return result

    def _notifications(self, query: sa.Select[tuple[object, ...]]) -> list[Notification]:
        with self._engine.connect() as conn:
            return [notification_of(dict(row)) for row in conn.execute(query).mappings()]


def _new_delivery(decision: Routing, webhook: str, at: datetime) -> dict[str, object]:
    return {
        "id": delivery_id(decision.outbox_id, webhook),
        "outbox_id": decision.outbox_id,
        "webhook": webhook,
        "state": DeliveryState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
    }


__all__ = [
    "Delivery",
    "DeliveryState",
    "Notification",
    "Outbox",
    "Routing",
    "delivery_id",
]
