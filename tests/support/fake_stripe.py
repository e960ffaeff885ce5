"""A local stand-in for the part of Stripe's API the StripeGateway uses, and a webhook signer.

``FakeStripe`` is a stdlib HTTP server on 127.0.0.1 (a free port, in a thread) speaking
``POST /v1/payment_intents`` and ``POST /v1/refunds`` with form-encoded bodies, checking the
Bearer key, and honouring ``Idempotency-Key`` as Stripe does: the same key with the same body
replays the first response; with a different body it answers 400 ``idempotency_error``.
Never the internet.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from tests.support.fake_http import serving

API_KEY = "sk_test_fake_0123456789"


def sign_webhook(payload: bytes | str, secret: str, *, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header value, computed exactly as Stripe does."""
    text = payload.decode() if isinstance(payload, bytes) else payload
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{text}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``metadata[key]=v``, ``a[b][c]=v``) into nested dicts."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return result


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, Any]


@dataclass
class FakeStripe:
    api_key: str = API_KEY
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    # (status, error body) answered, in order, before normal handling resumes
    injected: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _idempotent: dict[str, tuple[str, str, int, bytes]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    # -- test controls ----------------------------------------------------------------------

    def fail_next(self, status: int, error_type: str = "api_error", **error: Any) -> None:
        self.injected.append((status, {"error": {"type": error_type, **error}}))

    def succeed(self, payment_intent_id: str) -> None:
        """The customer paid: the intent succeeds and can be refunded."""
        intent = self.payment_intents[payment_intent_id]
        intent["status"] = "succeeded"
        intent["amount_received"] = intent["amount"]

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    # -- the API ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: str) -> tuple[int, Any]:
        form = decode_form(body)
        with self._lock:
            self.requests.append(Recorded(method, path, headers, form))
            if headers.get("authorization") != f"Bearer {self.api_key}":
                return 401, _error("invalid_request_error", message="Invalid API Key provided.")
            if self.injected:
                return self.injected.pop(0)
            key = headers.get("idempotency-key")
            if key and key in self._idempotent:
                first_path, first_body, status, response = self._idempotent[key]
                if (first_path, first_body) != (path, body):
                    return 400, _error(
                        "idempotency_error",
                        message="Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.",
                    )
                return status, json.loads(response)
            status, response = self._route(method, path, form)
            if key and status < 500:
                self._idempotent[key] = (path, body, status, json.dumps(response).encode())
            return status, response

    def _route(self, method: str, path: str, form: dict[str, Any]) -> tuple[int, Any]:
        if method == "POST" and path == "/v1/payment_intents":
            return self._create_payment_intent(form)
        if method == "POST" and path == "/v1/refunds":
            return self._create_refund(form)
        return 404, _error("invalid_request_error", message=f"Unrecognized request URL ({path}).")

    def _create_payment_intent(self, form: dict[str, Any]) -> tuple[int, Any]:
        amount = _positive_int(form.get("amount"))
        if amount is None:
            return 400, _error(
                "invalid_request_error",
                code="parameter_invalid_integer",
                param="amount",
                message="Invalid integer: amount",
            )
        currency = form.get("currency", "")
        if len(currency) != 3 or currency != currency.lower():
            return 400, _error(
                "invalid_request_error",
                code="parameter_invalid_string",
                param="currency",
                message=f"Invalid currency: {currency}",
            )
        intent_id = f"pi_{secrets.token_hex(12)}"
        apm = form.get("automatic_payment_methods", {})
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "metadata": form.get("metadata", {}),
            "automatic_payment_methods": {"enabled": apm.get("enabled") == "true"},
            "created": int(time.time()),
            "livemode": False,
        }
        self.payment_intents[intent_id] = intent
        return 200, intent

    def _create_refund(self, form: dict[str, Any]) -> tuple[int, Any]:
        intent = self.payment_intents.get(form.get("payment_intent", ""))
        if intent is None:
            return 404, _error(
                "invalid_request_error",
                code="resource_missing",
                param="payment_intent",
                message=f"No such payment_intent: '{form.get('payment_intent')}'",
            )
        if intent["status"] != "succeeded":
            return 400, _error(
                "invalid_request_error",
                code="payment_intent_unexpected_state",
                message="This PaymentIntent does not have a successful charge to refund.",
            )
        refunded = sum(
            r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"]
        )
        remaining = intent["amount_received"] - refunded
        if remaining <= 0:
            return 400, _error(
                "invalid_request_error",
                code="charge_already_refunded",
                message="Charge has already been refunded.",
            )
        amount = _positive_int(form.get("amount", str(remaining)))
        if amount is None:
            return 400, _error(
                "invalid_request_error",
                code="parameter_invalid_integer",
                param="amount",
                message="Invalid integer: amount",
            )
        if amount > remaining:
            return 400, _error(
                "invalid_request_error",
                code="amount_too_large",
                param="amount",
                message=f"Refund amount ({amount}) exceeds the unrefunded {remaining}.",
            )
        refund = {
            "id": f"re_{secrets.token_hex(12)}",
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "status": "succeeded",
            "metadata": {},
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund


def _error(error_type: str, **fields: Any) -> dict[str, Any]:
    return {"error": {"type": error_type, **fields}}


def _positive_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._answer("POST")

        def do_GET(self) -> None:
            self._answer("GET")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = self.path.split("?", 1)[0]
            status, response = fake.handle(method, path, headers, body)
            data = json.dumps(response).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{secrets.token_hex(8)}")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@contextmanager
def running_fake_stripe() -> Iterator[FakeStripe]:
    """Serve a FakeStripe on 127.0.0.1 (a free port) for the duration of the block."""
    fake = FakeStripe()
    with serving(_handler(fake), "fake-stripe") as url:
        fake.url = url
        yield fake
