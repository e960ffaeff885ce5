"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State

from cpd.entrypoints.http.dependencies import container_of
from cpd.entrypoints.http.schemas import Health


class HealthController(Controller):
    tags = ["health"]

    @get("/health", summary="Liveness: the process answers")
    async def health(self) -> Health:
        return Health(status="ok")

    @get("/ready", summary="Readiness: the database answers (503 otherwise)")
    async def ready(self, state: State) -> Response[Health]:
        try:
            await container_of(state).health.ping()
        except Exception:  # noqa: BLE001 - any failure means not ready
            return Response(Health(status="database unavailable"), status_code=503)
        return Response(Health(status="ok"))
