"""`/v1/health`: is the service up, and can it reach its stores and its event bus?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from crew import __version__
from crew.api.schemas import Check, Health
from crew.api.state import ApiState, api_state
from crew.ingest.bus import InProcessBus

router = APIRouter(prefix="/v1", tags=["service"])


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "A store or the bus is unreachable."}},
)
def health(state: Annotated[ApiState, Depends(api_state)]) -> JSONResponse:
    """200 when the operational store, the analytical store and the bus answer; else 503.

    Open to everyone: it names the kinds of store, never their addresses.
    """

    def analytical() -> None:
        with state.workspace.connect() as conn:
            conn.execute("SELECT 1").fetchone()

    checks = {
        "operational": _check(state.store.url.split(":", 1)[0].split("+")[0], _runs(state)),
        "analytical": _check("duckdb", analytical),
        "bus": _check(
            "in-process" if isinstance(state.bus, InProcessBus) else "redis", state.bus.ping
        ),
    }
    ok = all(c.ok for c in checks.values())
    body = Health(status="ok" if ok else "degraded", version=__version__, checks=checks)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ok else 503)


def _runs(state: ApiState) -> Callable[[], None]:
    def probe() -> None:
        state.store.runs(limit=1)

    return probe


def _check(kind: str, probe: Callable[[], None]) -> Check:
    try:
        probe()
    except Exception as exc:  # any failure means "not reachable"; the type says which
        return Check(ok=False, kind=kind, detail=type(exc).__name__)
    return Check(ok=True, kind=kind)


__all__ = ["router"]
