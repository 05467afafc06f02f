"""The API's routes, one module per resource."""

from crew.api.routes.alerts import router as alerts_router
from crew.api.routes.customers import router as customers_router
from crew.api.routes.events import router as events_router
from crew.api.routes.health import router as health_router
from crew.api.routes.metrics import router as metrics_router
from crew.api.routes.quarantine import router as quarantine_router
from crew.api.routes.stream import router as stream_router

ROUTERS = (
    health_router,
    alerts_router,
    customers_router,
    events_router,
    quarantine_router,
    stream_router,
    metrics_router,
)

__all__ = ["ROUTERS"]
