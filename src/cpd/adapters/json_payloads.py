"""JSON from outside (request bodies, provider webhooks) decoded with its failures named.

``json.loads`` turns ``1e400`` into ``inf`` (and ``int(inf)`` then raises OverflowError) and
recurses until RecursionError on deep nesting; msgspec refuses the number and both errors
here become one ``ValueError`` subclass a caller maps to its own 400.
"""

from __future__ import annotations

from typing import Any

import msgspec


class NotJson(ValueError):
    """The payload is not JSON this service reads; ``str()`` says why."""


def decode_json(payload: bytes) -> Any:
    try:
        return msgspec.json.decode(payload)
    except msgspec.DecodeError as error:  # ValidationError too: "Number out of range" (1e400)
        raise NotJson(f"not valid JSON: {error}") from None
    except UnicodeDecodeError:
        raise NotJson("not valid UTF-8") from None
    except RecursionError:
        raise NotJson("nested too deeply") from None


def decode_json_object(payload: bytes) -> dict[str, Any]:
    body = decode_json(payload)
    if not isinstance(body, dict):
        raise NotJson("not a JSON object")
    return body
