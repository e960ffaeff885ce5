"""The Litestar application factory."""

from __future__ import annotations

import logging
from typing import cast

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import LifeSpanReceive, LifeSpanScope, LifeSpanSend, Receive, Scope, Send

from cpd.bootstrap import Container, build_container
from cpd.entrypoints.http.controllers.auth import AuthController
from cpd.entrypoints.http.controllers.courses import CoursesController
from cpd.entrypoints.http.controllers.events import EventsController
from cpd.entrypoints.http.controllers.health import HealthController
from cpd.entrypoints.http.controllers.organization_catalog import OrganizationCatalogController
from cpd.entrypoints.http.controllers.organizations import OrganizationsController
from cpd.entrypoints.http.controllers.users import UsersController
from cpd.entrypoints.http.dependencies import DEPENDENCIES
from cpd.entrypoints.http.middleware import request_context_middleware, rewrite_calendar_alias
from cpd.entrypoints.http.problems import EXCEPTION_HANDLERS
from cpd.entrypoints.observability import configure_logging
from cpd.settings import Settings

API_CONTROLLERS = [
    AuthController,
    UsersController,
    OrganizationsController,
    OrganizationCatalogController,
    EventsController,
    CoursesController,
    HealthController,
]
log = logging.getLogger(__name__)


class CpdApp(Litestar):
    """Litestar, with the calendar aliases mapped before routing (middleware runs after)."""

    async def __call__(
        self,
        scope: Scope | LifeSpanScope,
        receive: Receive | LifeSpanReceive,
        send: Send | LifeSpanSend,
    ) -> None:
        if scope["type"] == ScopeType.HTTP:
            rewrite_calendar_alias(cast(Scope, scope))
        await super().__call__(scope, receive, send)


def create_app(container: Container, *, run_relay: bool = True) -> Litestar:
    """Build the app around an already-wired container (tests pass their own)."""

    async def on_startup() -> None:
        await container.startup(run_relay=run_relay)

    async def on_shutdown() -> None:
        await container.shutdown()

    return CpdApp(
        route_handlers=[
            HealthController,  # also at the root, where orchestrators look
            Router("/api/v1", route_handlers=API_CONTROLLERS),
            # The unversioned prefix serves the current version for clients written against it.
            Router("/api", route_handlers=API_CONTROLLERS, include_in_schema=False),
        ],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[request_context_middleware],
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        state=State({"container": container}),
        openapi_config=OpenAPIConfig(
            title="CPD Events API",
            version="1.0.0",
            description="Events, registrations, payments, attendance and verifiable certificates.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
        ),
        logging_config=None,
        debug=False,
    )


def create_app_from_env() -> Litestar:
    """Entry for ASGI servers (``uvicorn --factory``): settings from the environment."""
    settings = Settings.from_env()
    configure_logging(settings)
    return create_app(build_container(settings))
