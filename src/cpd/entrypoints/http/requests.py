"""JSON request bodies read strictly: malformed JSON is a 400, and a body's types are JSON's.

Litestar converts a decoded body to the handler's ``data`` type in lax mode (``"1"`` becomes
``1``, ``"true"`` becomes ``True``) and lets a body nested past the recursion limit or holding
invalid UTF-8 escape as an exception it does not map (a 500). This request class decodes the
body itself: anything that is not JSON is refused, and the ``data`` type is applied in strict
mode, so the API accepts exactly what its OpenAPI document describes.

No text anywhere in the API may hold NUL (U+0000): PostgreSQL's text cannot store it (a tag
filter of ``a%00`` was a 500 there), so a body, query or path carrying one is refused first.
"""

from __future__ import annotations

from typing import Any, get_args

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, SerializationException, ValidationException
from litestar.types import Empty

from cpd.adapters.json_payloads import NotJson, decode_json


class BodyRequired(ClientException):
    """The route reads a JSON object and the request sent something else; ``detail`` says what
    (the problem handler names the fields the object needs)."""


class StrictJsonRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        if self._json is Empty:
            if (cached := self._connection_state.json) is not Empty:
                self._json = cached
            else:
                body_type = self._body_type()
                decoded = _strict(decode_json_body(await self.body(), body_type), body_type)
                self._json = self._connection_state.json = decoded
        return self._json

    def _body_type(self) -> Any:
        data = self.route_handler.parsed_fn_signature.parameters.get("data")
        return None if data is None else data.annotation


def decode_json_body(body: bytes, body_type: Any = None) -> Any:
    """Untyped JSON, or SerializationException (which Litestar answers with a 400)."""
    try:
        value = decode_json(body or b"null")
    except NotJson as error:
        raise (BodyRequired if body_type else SerializationException)(
            f"The body is {error}."
        ) from None
    if b"\\u0000" in body and (where := _nul_at(value, "")) is not None:
        # JSON can carry NUL only as this escape, so other bodies are not walked.
        raise ValidationException(
            detail=NUL_REFUSED, extra=[{"message": NUL_REFUSED, "key": where or "body"}]
        )
    return value


NUL_REFUSED = "Text must not contain NUL (U+0000)."


def refuse_nul(request: Request[Any, Any, Any]) -> None:
    """``before_request``: a NUL in the path or the query string is a 400."""
    if "\x00" in request.scope["path"] or b"%00" in request.scope["query_string"].lower():
        raise ClientException(NUL_REFUSED)


def _nul_at(value: Any, path: str) -> str | None:
    """The dotted path of the first string holding NUL (a key counts as its value)."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = list(enumerate(value))
    else:
        return None
    for key, item in pairs:
        inner = f"{path}.{key}" if path else str(key)
        if "\x00" in str(key):
            return inner
        if (found := _nul_at(item, inner)) is not None:
            return found
    return None


def _strict(value: Any, body_type: Any) -> Any:
    if body_type is None:
        return value
    if (
        body_struct(body_type)
        and not isinstance(value, dict)
        and not (value is None and type(None) in get_args(body_type))
    ):
        raise BodyRequired(f"The body is {_JSON_KINDS.get(type(value), 'not an object')}.")
    try:
        return msgspec.convert(value, body_type, strict=True)
    except msgspec.ValidationError as error:
        # The shape Litestar's own validation gives, so one handler names the field.
        raise ValidationException(
            detail="Validation failed", extra=[{"message": str(error), "key": "data"}]
        ) from None
    except RecursionError:
        raise SerializationException("The body is nested too deeply.") from None


_JSON_KINDS = {
    list: "a JSON array",
    str: "a JSON string",
    int: "a JSON number",
    float: "a JSON number",
    bool: "a JSON boolean",
    type(None): "JSON null",
}


def body_struct(body_type: Any) -> type[msgspec.Struct] | None:
    """The object a route's ``data`` reads (``X`` or ``X | None``), if it is one."""
    for candidate in (body_type, *get_args(body_type)):
        if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
            return candidate
    return None


def required_body_fields(request: Request[Any, Any, Any]) -> list[str]:
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    struct = body_struct(data.annotation) if data is not None else None
    if struct is None:
        return []
    return [field.encode_name for field in msgspec.structs.fields(struct) if field.required]
