"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import structlog
from litestar import Controller, Response, get
from litestar.datastructures import State

from cpd.entrypoints.http.common import Health
from cpd.entrypoints.http.dependencies import container_of
from cpd.ports.platform import SchemaBehind

log = structlog.get_logger("cpd.http")


class HealthController(Controller):
    tags = ["health"]

    @get("/health", summary="Liveness: the process answers")
    async def health(self) -> Health:
        return Health(status="ok")

    @get(
        "/ready",
        summary="Readiness: the database answers with the schema this code needs (and Redis "
        "and the S3 bucket, if used, answer); 503 otherwise",
    )
    async def ready(self, state: State) -> Response[Health]:
        for name, ping in container_of(state).health_probes.items():
            try:
                await ping()
            except SchemaBehind as behind:
                log.warning("readiness: schema behind the code", detail=str(behind))
                return Response(Health(status=f"unavailable: {behind}"), status_code=503)
            except Exception:
                log.warning("readiness probe failed", probe=name, exc_info=True)
                return Response(Health(status=f"unavailable: {name}"), status_code=503)
        return Response(Health(status="ok"))
