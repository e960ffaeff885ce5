"""Every route that reads a body, from the app's route table, refuses a missing body and a body
that is not a JSON object with one 400 problem that says a JSON object is required and names
the fields it needs; never a 500."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from cpd.bootstrap import build_container
from cpd.entrypoints.http.app import create_app
from tests.api.conftest import Api, Caller, assert_problem
from tests.support.settings import make_settings

_PARAMETER = re.compile(r"\{(\w+):(\w+)\}")
BAD_BODIES = {
    "none": None,
    "empty": b"",
    "not JSON": b"reason=duplicate",
    "truncated JSON": b'{"reason": ',
    "an array": b"[]",
    "a string": b'"reason"',
    "null": b"null",
}


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    container = build_container(make_settings(account_mail_per_address=1_000))
    with TestClient(create_app(container, run_relay=False)) as client:
        yield Api(client, container)


@pytest.fixture(scope="module")
def admin(api: Api) -> Caller:
    return api.superadmin()


def _concrete(path: str) -> str:
    return _PARAMETER.sub(lambda m: str(uuid.uuid4()) if m[2] == "uuid" else "x", path)


def _body_routes(api: Api) -> list[tuple[str, str, Any]]:
    found = []
    for route in api.client.app.routes:
        if not route.path.startswith("/api/v1/"):
            continue
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None:
                found.extend(
                    (method, route.path, data.annotation) for method in handler.http_methods
                )
    return sorted(found, key=lambda item: (item[1], item[0]))


def test_the_route_table_has_the_body_routes(api: Api) -> None:
    routes = {(method, path) for method, path, _ in _body_routes(api)}
    assert ("POST", "/api/v1/certificates/{certificate_id:uuid}/revoke") in routes
    assert ("POST", "/api/v1/auth/login") in routes
    assert len(routes) >= 25


@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_every_body_route_asks_for_a_json_object(api: Api, admin: Caller, kind: str) -> None:
    body = BAD_BODIES[kind]
    for method, path, annotation in _body_routes(api):
        if body in (None, b"", b"null") and type(None) in getattr(annotation, "__args__", ()):
            continue  # an optional body (reissue): none is a valid request
        headers = {**admin.headers, "Content-Type": "application/json"}
        response = api.client.request(method, _concrete(path), content=body, headers=headers)
        assert response.status_code == 400, (method, path, kind, response.text)
        problem = assert_problem(response, 400, "body")
        assert problem["type"] == "/problems/body-required", (method, path, problem)
        assert problem["detail"].startswith("A JSON object body is required"), problem
        fields = [error["field"] for error in problem["errors"] if error["field"] != "body"]
        for name in fields:
            assert f'"{name}"' in problem["detail"], (path, problem)
        if path.endswith("/revoke"):
            assert fields == ["reason"]
            assert 'with the field "reason"' in problem["detail"]
        if path == "/api/v1/auth/login":
            assert fields == ["email", "password"]
