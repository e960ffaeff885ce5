"""One place that turns every error into an RFC 9457 problem-details response, and logs it."""

from __future__ import annotations

import re
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from cpd.domain.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unavailable,
)
from cpd.entrypoints.http.common import FieldError, Problem
from cpd.entrypoints.http.requests import BodyRequired, required_body_fields
from cpd.ports.registrations import PaymentProviderUnavailable

log = structlog.get_logger("cpd.http")
PROBLEM_JSON = "application/problem+json"
_STATUS = {
    InvalidInput: (400, "invalid-input"),
    NotAuthenticated: (401, "not-authenticated"),
    PermissionDenied: (403, "permission-denied"),
    NotFound: (404, "not-found"),
    Conflict: (409, "conflict"),
    RateLimited: (429, "rate-limited"),
    Unavailable: (503, "unavailable"),
}
_MSGSPEC_PATH = re.compile(r"\s*-\s*at `\$\.?([^`]*)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    kind: str,
    title: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    return Response(
        Problem(
            type=f"/problems/{kind}",
            title=title,
            status=status,
            detail=detail,
            instance=request.url.path,
            request_id=request.scope.get("state", {}).get("request_id"),
            errors=errors,
        ),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def domain_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    assert isinstance(exc, DomainError)
    status, kind = next(
        ((s, k) for cls, (s, k) in _STATUS.items() if isinstance(exc, cls)), (400, "domain-error")
    )
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited | Unavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="cpd"'
    errors = [FieldError(exc.field, exc.detail)] if exc.field else None
    log.info("request refused", status=status, problem=kind, detail=exc.detail, field=exc.field)
    return problem_response(
        request, status, kind, exc.title, exc.detail, errors=errors, headers=headers
    )


def validation_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    assert isinstance(exc, ValidationException)
    if any(_is_absent_body(item) for item in (exc.extra or []) if isinstance(item, dict)):
        return body_required_response(request, "The request has no body.")
    errors = [_field_error(item) for item in (exc.extra or []) if isinstance(item, dict)]
    detail = f"Invalid value for '{errors[0].field}': {errors[0].message}" if errors else exc.detail
    log.info("request refused", status=400, problem="validation-error", detail=detail)
    return problem_response(
        request, 400, "validation-error", "Invalid request", detail, errors=errors or None
    )


def _is_absent_body(item: dict[str, Any]) -> bool:
    """Litestar passes no ``data`` for an empty body, and reports the KeyError: ``'data'``."""
    return item.get("key") == "data" and item.get("message") == repr("data")


def body_required_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    assert isinstance(exc, BodyRequired)
    return body_required_response(request, exc.detail)


def body_required_response(request: Request[Any, Any, Any], reason: str) -> Response[Problem]:
    """Every route with a body reads one JSON object: say so, and which fields it needs."""
    fields = required_body_fields(request)
    names = ", ".join(f'"{name}"' for name in fields)
    needs = f", with the field{'s' if len(fields) > 1 else ''} {names}" if fields else ""
    detail = f"A JSON object body is required{needs}. {reason}"
    log.info("request refused", status=400, problem="body-required", detail=detail)
    return problem_response(
        request,
        400,
        "body-required",
        "JSON body required",
        detail,
        errors=[FieldError("body", reason), *(FieldError(name, "Required") for name in fields)],
    )


def _field_error(item: dict[str, Any]) -> FieldError:
    message = str(item.get("message", "Invalid value"))
    key = item.get("key")
    match = _MSGSPEC_PATH.search(message)
    if match:  # msgspec: "Expected `str`, got `int` - at `$.profile.timezone`"
        message = message[: match.start()]
        key = match.group(1) or key
    missing = _MISSING_FIELD.search(message)
    if missing:  # "Object missing required field `email`" (at the path above, if any)
        parent = key if key and key != "data" and match else None
        key = f"{parent}.{missing.group(1)}" if parent else missing.group(1)
    field = str(key) if key and key != "data" else "body"
    return FieldError(field=field.replace("[", ".").replace("]", ""), message=message)


def http_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status >= 500:
        return internal_error_handler(request, exc)
    title = _TITLES.get(status, "Request refused")
    log.info("request refused", status=status, detail=exc.detail)
    headers = dict(exc.headers or {})
    return problem_response(
        request, status, title.lower().replace(" ", "-"), title, exc.detail, headers=headers
    )


def provider_unavailable_handler(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[Problem]:
    """The payment provider did not answer: nothing was lost (seats stay held, the payment
    can be started again with ``POST /registrations/{id}/payment``), so 503, not 500."""
    log.warning("payment provider unavailable", error=str(exc), path=request.url.path)
    return problem_response(
        request,
        503,
        "payment-provider-unavailable",
        "Payment provider unavailable",
        "The payment provider did not answer; your seats are held, try paying again shortly.",
        headers={"Retry-After": "5"},
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.error("unhandled error", exc_info=exc, path=request.url.path, method=request.method)
    return problem_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal-error",
        "Internal server error",
        "Something went wrong on our side and it has been logged; quote the request id.",
    )


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Request too large",
    415: "Unsupported media type",
    429: "Too many requests",
}

EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    BodyRequired: body_required_handler,
    HTTPException: http_error_handler,
    PaymentProviderUnavailable: provider_unavailable_handler,
    Exception: internal_error_handler,
}

_DESCRIPTIONS = {
    400: "Invalid input; `errors` names each offending field",
    401: "Missing, invalid, expired or revoked credentials",
    403: "Signed in, but this role may not do this",
    404: "Not found, or in an organization the caller does not belong to",
    409: "Clashes with existing data or a rule about the whole",
    429: "Too many attempts; see Retry-After",
    503: "Cannot be answered now; see Retry-After",
}


def documented(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problem responses a route can give."""
    return {
        status: ResponseSpec(
            Problem,
            description=_DESCRIPTIONS[status],
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in statuses
    }
