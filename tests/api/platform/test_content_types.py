"""Every text answer names its charset once: pages, CSV exports, calendar feeds, the API
documentation and its assets, routed and from the response cache; and the front door keeps one
charset whatever a route sets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar, Response, get
from litestar.testing import TestClient

from cpd.bootstrap import build_container
from cpd.entrypoints.http.app import CpdApp, create_app
from cpd.entrypoints.http.front import single_charset
from tests.api.conftest import Api
from tests.support.settings import make_settings


@pytest.fixture
def api() -> Iterator[Api]:
    container = build_container(make_settings(outbox_poll_seconds=0.05))
    with TestClient(create_app(container)) as client:
        yield Api(client, container)


def _text_routes(app: Litestar) -> set[str]:
    """Paths of the routes that declare a text media type."""
    return {
        route.path
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if str(getattr(handler, "media_type", "")).startswith("text/")
    }


def test_every_text_answer_names_one_charset(api: Api) -> None:
    owner, attendee = api.user(), api.user()
    org = api.organization(owner)
    event = api.event(owner, org)
    booked = api.client.post(
        "/api/v1/registrations", json={"event_id": event["id"]}, headers=attendee.headers
    )
    assert booked.status_code == 201, booked.text
    base = f"/api/v1/events/{event['id']}"
    csv = {**owner.headers, "Accept": "text/csv"}
    answers = {
        "/verify/{code:str}": [api.client.get("/verify/NOSUCHCODE")],
        "/api/v1/events/{event_id:uuid}/calendar.ics": [
            api.client.get(f"{base}.ics"),  # built, fills the response cache
            api.client.get(f"{base}.ics"),  # from the response cache
            api.client.get(f"{base}.ics", headers=owner.headers),  # staff: never cached
        ],
        "/api/v1/organizations/{organization_slug:str}/calendar.ics": [
            api.client.get(f"/api/v1/organizations/{org['slug']}/events.ics"),
            api.client.get(f"/api/v1/organizations/{org['slug']}/events.ics"),
        ],
        "/api/v1/events/{event_id:uuid}/attendance": [
            api.client.get(f"{base}/attendance", headers=csv)
        ],
        "/api/v1/events/{event_id:uuid}/registrations": [
            api.client.get(f"{base}/registrations", headers=csv)
        ],
        "/schema": [api.client.get("/schema")],
        "/schema/swagger": [api.client.get("/schema/swagger")],
        "/schema/scalar": [api.client.get("/schema/scalar")],
        "/schema/oauth2-redirect.html": [api.client.get("/schema/oauth2-redirect.html")],
        "/schema/{path:str}": [api.client.get("/schema/nosuchpage")],
        "/schema/assets/{file_path:path}": [
            api.client.get("/schema/assets/swagger-ui/swagger-ui.css"),
            api.client.get("/schema/assets/scalar/standalone.js"),
        ],
    }
    for path, responses in answers.items():
        for response in responses:
            assert response.status_code in (200, 404), (path, response.text)
            content_type = response.headers["content-type"]
            assert content_type.startswith("text/"), (path, content_type)
            assert content_type.lower().count("charset=") == 1, (path, content_type)
    # Every route that declares a text type is above (the unversioned /api/ copies aside).
    declared = {
        path
        for path in _text_routes(api.client.app)
        if not path.startswith("/api/") or path.startswith("/api/v1/")
    }
    assert declared <= set(answers)


def test_the_front_door_keeps_the_first_charset() -> None:
    assert single_charset([(b"content-type", b"text/csv; charset=utf-8; charset=utf-8")]) == [
        (b"content-type", b"text/csv; charset=utf-8")
    ]
    untouched = [(b"content-type", b"text/plain; charset=latin-1"), (b"x-a", b"charset=1")]
    assert single_charset(untouched) == untouched


def test_a_route_that_names_its_charset_sends_it_once() -> None:
    @get("/plain", media_type="text/plain")
    async def plain() -> Response[str]:
        return Response("café", media_type="text/plain; charset=utf-8")

    with TestClient(CpdApp([plain])) as client:
        response = client.get("/plain")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "café"
