"""Dependencies handed to controllers: the services from the container, and the caller."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import Parameter

from cpd.bootstrap import Container
from cpd.domain.accounts import Actor
from cpd.domain.errors import NotAuthenticated
from cpd.domain.pages import MAX_OFFSET, MAX_PAGE_SIZE, PageRequest
from cpd.entrypoints.http.client_address import client_address
from cpd.ports.platform import Cache
from cpd.services.accounts.users import AccountService


def container_of(state: State) -> Container:
    container: Container = state.container
    return container


def bearer_token(request: Request[Any, Any, Any]) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Send an access token: 'Authorization: Bearer <token>'.")
    return token.strip()


async def provide_actor(request: Request[Any, Any, Any], accounts: AccountService) -> Actor:
    return await accounts.authenticate(bearer_token(request))


async def provide_optional_actor(
    request: Request[Any, Any, Any], accounts: AccountService
) -> Actor | None:
    """Public routes: anonymous is fine, but credentials that are sent must be valid."""
    if "authorization" not in request.headers:
        return None
    return await accounts.authenticate(bearer_token(request))


def provide_client_ip(request: Request[Any, Any, Any], state: State) -> str:
    return client_address(request, container_of(state).settings.trusted_proxy_networks)


# Every list's paging parameters: bounded as the domain's PageRequest bounds them.
Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE, description="Page size")]
Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="Items to skip")]


def provide_page(limit: Limit = 20, offset: Offset = 0) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)


def response_cache_of(container: Container) -> Cache | None:
    return container.catalog_cache if container.settings.http_cache else None


def provide_response_cache(state: State) -> Cache | None:
    return response_cache_of(container_of(state))


def _service(name: str) -> Provide:
    def provide(state: State) -> Any:
        return getattr(container_of(state), name)

    return Provide(provide, sync_to_thread=False)


# Controllers ask for a service by its name in the container (every field typed as a service),
# and for the two adapters they call themselves (calendar files, QR codes).
HANDED_TO_CONTROLLERS = [
    name
    for name, spec in Container.__dataclass_fields__.items()
    if str(spec.type).endswith("Service") or name in ("calendars", "qr_codes")
]

DEPENDENCIES = {
    **{name: _service(name) for name in HANDED_TO_CONTROLLERS},
    "response_cache": Provide(provide_response_cache, sync_to_thread=False),
    "actor": Provide(provide_actor),
    "optional_actor": Provide(provide_optional_actor),
    "page": Provide(provide_page, sync_to_thread=False),
    "client_ip": Provide(provide_client_ip, sync_to_thread=False),
}
