"""Security headers, set by the front door on every answer: API JSON (routed and from the
response cache), problems, the verification page, the badge image and the OpenAPI pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yaml
from litestar.testing import TestClient

from cpd.bootstrap import build_container
from cpd.entrypoints.http.app import create_app
from tests.api.conftest import Api
from tests.support.settings import make_settings

PRODUCTION = {
    "environment": "production",
    "secret_key": "a production secret key of enough length",
    "credential_key_secret": "a production credential key of enough length",
    "public_base_url": "https://cpd.example.org",
    # The tests' stand-ins, which production refuses unless each is allowed.
    "allow_test_payments": True,
    "allow_fake_video": True,
    "allow_memory_backends": True,
}
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8"/></svg>'
HSTS = "max-age=31536000; includeSubDomains"
DOCS_PATHS = (
    "/schema",
    "/schema/swagger",
    "/schema/openapi.json",
    "/schema/assets/scalar/standalone.js",
    "/schema/assets/swagger-ui/swagger-ui-bundle.js",
)


@contextmanager
def client_for(**settings: Any) -> Iterator[TestClient[Any]]:
    app = create_app(build_container(make_settings(**settings)), run_relay=False)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def api() -> Iterator[Api]:
    container = build_container(make_settings())
    with TestClient(create_app(container, run_relay=False)) as client:
        yield Api(client, container)


def csp(response: Any) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    policy = response.headers["content-security-policy"]
    return {
        name: rest.strip()
        for name, _, rest in (part.strip().partition(" ") for part in policy.split(";"))
    }


def assert_hardened(response: Any) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert csp(response)["frame-ancestors"] == "'none'"


def test_api_answers_are_hardened_routed_from_cache_and_as_problems(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = api.container.catalog
    events_json = catalog.events_json
    built: list[object] = []

    async def counted(*args: Any) -> bytes:
        built.append(args)
        return await events_json(*args)

    monkeypatch.setattr(catalog, "events_json", counted)
    first = api.client.get("/api/v1/events")  # fills the response cache
    cached = api.client.get("/api/v1/events")  # answered by the front door before routing
    assert len(built) == 1  # the second never reached the router
    problem = api.client.get("/api/v1/users/me")
    for response in (first, cached, problem, api.client.get("/health")):
        assert_hardened(response)
        assert csp(response)["default-src"] == "'none'"
        assert response.headers["strict-transport-security"] == HSTS  # outside development
    assert first.content == cached.content
    assert problem.status_code == 401


def test_the_verification_page_may_not_be_framed_nor_run_script(api: Api) -> None:
    page = api.client.get("/verify/NOSUCHCODE")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert_hardened(page)
    policy = csp(page)
    assert policy["default-src"] == "'none'"  # no script-src: no script at all
    assert "script-src" not in policy
    assert policy["base-uri"] == policy["form-action"] == "'none'"
    assert page.headers["cache-control"] == "no-store"


def test_the_badge_image_keeps_its_own_sandboxing_policy(api: Api) -> None:
    owner = api.user()
    org = api.organization(owner)
    image = {"media_type": "image/svg+xml", "data": base64.b64encode(SVG).decode()}
    badge = api.client.post(
        f"/api/v1/organizations/{org['id']}/badges",
        json={"name": "Ethics", "description": "d", "criteria": "c", "image": image},
        headers=owner.headers,
    )
    assert badge.status_code == 201, badge.text
    served = api.client.get(f"/api/v1/badges/{badge.json()['id']}/image")
    assert served.status_code == 200
    assert served.headers.get_list("content-security-policy") == [
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    ]
    assert served.headers.get_list("x-content-type-options") == ["nosniff"]
    assert served.headers["referrer-policy"] == "no-referrer"


def test_the_openapi_document_and_its_pages(api: Api) -> None:
    document = api.client.get("/schema/openapi.json")
    as_yaml = api.client.get("/schema/openapi.yaml")
    assert as_yaml.status_code == 200
    assert yaml.safe_load(as_yaml.text) == json.loads(document.text)
    for response in (document, as_yaml):
        assert_hardened(response)
        assert csp(response)["default-src"] == "'none'"
    for page in ("/schema", "/schema/swagger"):
        html = api.client.get(page)
        assert html.status_code == 200
        assert html.headers["content-type"].startswith("text/html")
        assert_hardened(html)
        policy = csp(html)
        assert policy["default-src"] == "'self'"  # script, fetches, fonts: this origin only
        assert "script-src" not in policy  # so no inline script and no eval either
        assert policy["style-src"] == "'self' 'unsafe-inline'"  # both inject <style> elements
        assert policy["base-uri"] == policy["object-src"] == "'none'"
        assert "cdn" not in html.text
    for asset in (
        "/schema/assets/scalar/standalone.js",
        "/schema/assets/swagger-ui/swagger-ui-bundle.js",
        "/schema/assets/swagger-ui/swagger-ui.css",
        "/schema/assets/swagger-init.js",
    ):
        served = api.client.get(asset)
        assert served.status_code == 200, asset
        assert served.headers["cache-control"] == "max-age=86400, public"
        assert csp(served)["default-src"] == "'none'"


def test_no_hsts_in_development() -> None:
    with client_for(environment="development") as client:
        response = client.get("/health")
    assert "strict-transport-security" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("setting", "served"),
    [({}, False), ({"openapi_docs": "true"}, True), ({"openapi_docs": "false"}, False)],
)
def test_the_openapi_docs_in_production_follow_the_setting(
    setting: dict[str, str], served: bool
) -> None:
    with client_for(**PRODUCTION, **setting) as client:
        statuses = {client.get(path).status_code for path in DOCS_PATHS}
        health = client.get("/health")
    assert statuses == ({200} if served else {404})
    assert health.headers["strict-transport-security"] == HSTS


def test_the_openapi_docs_can_be_turned_off_outside_production() -> None:
    with client_for(openapi_docs="false") as client:
        assert {client.get(path).status_code for path in DOCS_PATHS} == {404}
