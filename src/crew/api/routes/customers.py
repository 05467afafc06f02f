"""`/v1/customers/{id}/risk`: a customer's latest assessment and active warnings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends

from crew.api.auth import require
from crew.api.schemas import CustomerRisk, ErrorOut, ScoreOut, WarningOut, finite
from crew.api.state import ApiState, api_state
from crew.errors import CustomerNotFoundError
from crew.store.scores import customer_scores
from crew.store.tokens import ApiToken, TokenScope

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.get(
    "/{customer_id}/risk",
    response_model=CustomerRisk,
    responses={
        401: {"model": ErrorOut, "description": "No valid API token."},
        403: {"model": ErrorOut, "description": "The token's scope does not allow this."},
        404: {"model": ErrorOut, "description": "No customer has this id."},
        429: {"model": ErrorOut, "description": "Over the token's rate limit."},
        503: {"model": ErrorOut, "description": "The analytical store is busy."},
    },
)
def customer_risk(
    customer_id: str,
    state: Annotated[ApiState, Depends(api_state)],
    _token: Annotated[ApiToken, Depends(require(TokenScope.READ))],
) -> CustomerRisk:
    """The customer's newest score (the scheduled run's, or the stream's refresh when newer)
    and its active warnings."""
    # Opened per request: a long-lived connection would lock `crew run` out of the file.
    with state.workspace.connect() as conn:
        known = conn.execute(
            "SELECT count(*) FROM customers WHERE customer_id = ?", [customer_id]
        ).fetchone()
        if not known or not known[0]:
            raise CustomerNotFoundError(
                f"No customer '{customer_id}' in the workspace.",
                hint="Customer ids are case-sensitive; 'crew status' counts the customers.",
            )
        scores = customer_scores(conn, customer_id)
    warnings = state.store.list_warnings(customer_id=customer_id, limit=1000)
    newest = scores[0] if scores else None
    live = state.store.live_scores.get(customer_id)
    if live is not None and (newest is None or _as_of(live) > _as_of(newest)):
        newest = {**live, "source": "stream"}
    score = ScoreOut.model_validate(finite(newest)) if newest is not None else None
    return CustomerRisk(
        customer_id=customer_id,
        score=score,
        warnings=[WarningOut.of(w) for w in warnings],
    )


def _as_of(score: dict[str, object]) -> datetime:
    value = score["as_of"]
    assert isinstance(value, datetime)
    return value


__all__ = ["router"]
