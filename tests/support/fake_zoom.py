"""A local stand-in for the part of Zoom's API the ZoomMeetings adapter uses. Never the internet.

``FakeZoom`` is a stdlib HTTP server on 127.0.0.1 (a free port, in a thread) speaking:
``POST /oauth/token?grant_type=account_credentials&account_id=`` (checks Basic client
id:secret, the grant and the account; tokens expire after ``token_ttl`` seconds and are then
answered 401 code 124, as Zoom does), and under ``/v2``: ``POST /users/me/meetings``,
``PATCH``/``DELETE /meetings/{id}`` (404 code 3001 when missing), ``POST
/meetings/{id}/registrants`` (needs registration enabled; one registrant per email), and
``GET /report/meetings/{id}/participants`` paged by ``next_page_token`` (at most
``max_page_size`` a page, to exercise paging).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.fake_http import serving

ACCOUNT_ID = "acc_fake_123"
CLIENT_ID = "client_fake"
CLIENT_SECRET = "client_secret_fake"
WEBHOOK_SECRET = "zoom_webhook_secret_fake"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeZoom:
    account_id: str = ACCOUNT_ID
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    token_ttl: float = 3600
    max_page_size: int = 300
    meetings: dict[str, dict[str, Any]] = field(default_factory=dict)
    registrants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    participants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (time.time)
    requests: list[Recorded] = field(default_factory=list)
    injected: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    delay_seconds: float = 0.0  # every answer waits this long (timeouts)
    _pages: dict[str, tuple[str, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    # -- test controls ----------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"{self.url}/v2"

    def fail_next(self, status: int, code: int = 0, message: str = "boom") -> None:
        self.injected.append((status, {"code": code, "message": message}))

    def expire_tokens(self) -> None:
        """Zoom revoked every token early (the adapter's cache does not know)."""
        self.tokens = dict.fromkeys(self.tokens, 0.0)

    def add_participant(self, meeting_id: str, participant: dict[str, Any]) -> None:
        self.participants.setdefault(meeting_id, []).append(participant)

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    # -- the API ----------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any]:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return 400, {"code": 300, "message": "Request body must be JSON."}
        with self._lock:
            self.requests.append(Recorded(method, path, query, headers, body))
            if path == "/oauth/token" and method == "POST":
                return self._token(query, headers)
            if not path.startswith("/v2/"):
                return 404, {"code": 404, "message": "Not found."}
            token = headers.get("authorization", "").removeprefix("Bearer ")
            if self.tokens.get(token, 0.0) <= time.time():
                return 401, {"code": 124, "message": "Invalid access token."}
            if self.injected:
                return self.injected.pop(0)
            return self._route(method, path[3:], query, body)

    def _token(self, query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            return 401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
        if query.get("grant_type") != "account_credentials":
            return 400, {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}
        if query.get("account_id") != self.account_id:
            return 400, {"reason": "Invalid account_id", "error": "invalid_request"}
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + self.token_ttl
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": int(self.token_ttl),
            "scope": "meeting:write:admin report:read:admin",
        }

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        parts = [unquote(unquote(p)) for p in path.strip("/").split("/")]
        if method == "POST" and parts == ["users", "me", "meetings"]:
            return self._create(body)
        if len(parts) == 2 and parts[0] == "meetings":
            if method == "PATCH":
                return self._patch(parts[1], body)
            if method == "DELETE":
                return self._delete(parts[1])
        if method == "POST" and len(parts) == 3 and parts[::2] == ["meetings", "registrants"]:
            return self._register(parts[1], body)
        if method == "GET" and len(parts) == 4 and parts[:2] == ["report", "meetings"]:
            return self._report(parts[2], query)
        return 404, {"code": 404, "message": f"No route {method} {path}."}

    def _create(self, body: Any) -> tuple[int, Any]:
        problem = _validate(body, partial=False)
        if problem:
            return problem
        meeting_id = str(secrets.randbelow(9 * 10**10) + 10**10)
        password = secrets.token_hex(4)
        meeting = {
            "id": int(meeting_id),
            "uuid": base64.b64encode(secrets.token_bytes(16)).decode(),
            "topic": body["topic"],
            "type": body.get("type", 2),
            "start_time": body["start_time"],
            "duration": body["duration"],
            "timezone": body.get("timezone", "UTC"),
            "settings": {"approval_type": 2, **body.get("settings", {})},
            "password": password,
            "join_url": f"https://us02web.zoom.us/j/{meeting_id}?pwd={secrets.token_urlsafe(16)}",
            "start_url": f"https://us02web.zoom.us/s/{meeting_id}?zak={secrets.token_hex(8)}",
        }
        self.meetings[meeting_id] = meeting
        return 201, meeting

    def _patch(self, meeting_id: str, body: Any) -> tuple[int, Any]:
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return _missing(meeting_id)
        problem = _validate(body, partial=True)
        if problem:
            return problem
        settings = body.pop("settings", {})
        meeting.update(body)
        meeting["settings"].update(settings)
        return 204, None

    def _delete(self, meeting_id: str) -> tuple[int, Any]:
        if self.meetings.pop(meeting_id, None) is None:
            return _missing(meeting_id)
        return 204, None

    def _register(self, meeting_id: str, body: Any) -> tuple[int, Any]:
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return _missing(meeting_id)
        if meeting["settings"].get("approval_type") not in (0, 1):
            return 400, {"code": 3043, "message": "Registration has not been enabled."}
        if not isinstance(body, dict) or "@" not in str(body.get("email", "")):
            return 400, {
                "code": 300,
                "message": "Validation Failed.",
                "errors": [{"field": "email", "message": "Invalid field."}],
            }
        if not body.get("first_name"):
            return 400, {
                "code": 300,
                "message": "Validation Failed.",
                "errors": [{"field": "first_name", "message": "Required."}],
            }
        people = self.registrants.setdefault(meeting_id, [])
        known = next((r for r in people if r["email"].lower() == body["email"].lower()), None)
        if known is None:
            known = {
                "email": body["email"],
                "first_name": body["first_name"],
                "last_name": body.get("last_name", ""),
                "registrant_id": secrets.token_urlsafe(16),
                "join_url": f"https://us02web.zoom.us/w/{meeting_id}?tk={secrets.token_urlsafe(24)}",
            }
            people.append(known)
        return 201, {
            "id": int(meeting_id),
            "registrant_id": known["registrant_id"],
            "join_url": known["join_url"],
            "topic": meeting["topic"],
            "start_time": meeting["start_time"],
        }

    def _report(self, meeting_id: str, query: dict[str, str]) -> tuple[int, Any]:
        if meeting_id not in self.meetings and meeting_id not in self.participants:
            return 404, {"code": 3001, "message": "Meeting does not exist."}
        size = min(int(query.get("page_size", "30")), self.max_page_size)
        start = 0
        token = query.get("next_page_token")
        if token:
            if token not in self._pages or self._pages[token][0] != meeting_id:
                return 400, {"code": 300, "message": "Invalid next_page_token."}
            start = self._pages.pop(token)[1]
        everyone = self.participants.get(meeting_id, [])
        page = everyone[start : start + size]
        following = ""
        if start + size < len(everyone):
            following = secrets.token_urlsafe(12)
            self._pages[following] = (meeting_id, start + size)
        return 200, {
            "page_count": -(-len(everyone) // size) if size else 0,
            "page_size": size,
            "total_records": len(everyone),
            "next_page_token": following,
            "participants": page,
        }


def _missing(meeting_id: str) -> tuple[int, Any]:
    return 404, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."}


def _validate(body: Any, *, partial: bool) -> tuple[int, Any] | None:
    if not isinstance(body, dict):
        return 400, {"code": 300, "message": "Request body must be a JSON object."}
    required = () if partial else ("topic", "start_time", "duration")
    for name in required:
        if name not in body:
            return 400, _invalid(name, "Required.")
    if "duration" in body and (not isinstance(body["duration"], int) or body["duration"] <= 0):
        return 400, _invalid("duration", "Must be a positive integer.")
    start = body.get("start_time")
    if start is not None and not (isinstance(start, str) and start.endswith("Z")):
        return 400, _invalid("start_time", "Use yyyy-MM-ddTHH:mm:ssZ.")
    if "topic" in body and not (isinstance(body["topic"], str) and 0 < len(body["topic"]) <= 200):
        return 400, _invalid("topic", "At most 200 characters.")
    return None


def _invalid(field_name: str, message: str) -> dict[str, Any]:
    return {
        "code": 300,
        "message": "Validation Failed.",
        "errors": [{"field": field_name, "message": message}],
    }


def _handler(fake: FakeZoom) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._answer("POST")

        def do_GET(self) -> None:
            self._answer("GET")

        def do_PATCH(self) -> None:
            self._answer("PATCH")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            split = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(split.query).items()}
            if fake.delay_seconds:
                time.sleep(fake.delay_seconds)
            status, response = fake.handle(method, split.path, query, headers, raw)
            data = b"" if response is None else json.dumps(response).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@contextmanager
def running_fake_zoom() -> Iterator[FakeZoom]:
    """Serve a FakeZoom on 127.0.0.1 (a free port) for the duration of the block."""
    fake = FakeZoom()
    with serving(_handler(fake), "fake-zoom") as url:
        fake.url = url
        yield fake
