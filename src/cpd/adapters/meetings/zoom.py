"""The VideoMeetings port on Zoom's REST API (Server-to-Server OAuth), and Zoom's webhooks.

Auth: the account-credentials grant (``POST {oauth}/oauth/token`` with Basic client
id:secret); the token is cached until a minute before it expires and fetched again once when
the API answers 401 (revoked or rotated early). There is no refresh token in this grant.

Errors: 404 is ``NotFound``; a 400 naming a field is ``InvalidInput``; rejected credentials,
429, 5xx, timeouts and network failures are ``VideoProviderUnavailable`` (retry later).

Webhooks: ``x-zm-signature`` is ``v0=`` + hex HMAC-SHA256(secret token,
``v0:{x-zm-request-timestamp}:{raw body}``), compared in constant time, with the timestamp
within five minutes. Every notification is verified *before* anything is answered,
``endpoint.url_validation`` included: answering an unverified challenge would hand anyone an
HMAC of a string of their choosing under the webhook secret (a ``plainToken`` shaped like
``v0:{ts}:{body}`` yields a valid signature for a forged event). Zoom sends no event id, so
one is derived from what identifies the notification (kind, ``event_ts``, meeting instance,
participant, and the join/leave time); a redelivery gets the same id. A verified body that
is not a JSON object is ``InvalidInput(field="payload")`` and an ``event_ts`` that is not
milliseconds within Python's years ``InvalidInput(field="event_ts")`` (both answered 400);
only a verified event of a kind not handled is ``field="event"``, acknowledged and ignored.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn
from urllib.parse import quote

import httpx

from cpd.adapters.json_payloads import NotJson, decode_json_object
from cpd.domain.errors import InvalidInput, NotFound
from cpd.domain.meetings import (
    Meeting,
    MeetingRegistrant,
    MeetingSpec,
    MeetingWebhook,
    MeetingWebhookKind,
    Participant,
    RegistrantSpec,
)

SIGNATURE_HEADER = "x-zm-signature"
TIMESTAMP_HEADER = "x-zm-request-timestamp"
WEBHOOK_TOLERANCE_SECONDS = 300
MAX_EVENT_TS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last time Python holds
TOKEN_MARGIN_SECONDS = 60  # fetch a new token this long before the old one expires
REPORT_PAGE_SIZE = 300  # Zoom's maximum for the participants report
_KINDS = {
    "endpoint.url_validation": MeetingWebhookKind.URL_VALIDATION,
    "meeting.participant_joined": MeetingWebhookKind.PARTICIPANT_JOINED,
    "meeting.participant_left": MeetingWebhookKind.PARTICIPANT_LEFT,
    "meeting.ended": MeetingWebhookKind.MEETING_ENDED,
}


class VideoProviderUnavailable(Exception):
    """The video provider could not be reached, failed on its side, or refused our
    credentials. Not a domain error: the outbox retries the task later."""


# -- webhooks (shared with the fake adapter, which speaks the same format) ----------------------


def zoom_signature(secret: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def url_validation_answer(secret: str, plain_token: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": digest}


def parse_zoom_webhook(
    payload: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    now: float,
    tolerance: int = WEBHOOK_TOLERANCE_SECONDS,
) -> MeetingWebhook:
    """Verify a Zoom notification and read it; raises InvalidInput (see the module doc)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    signature = lowered.get(SIGNATURE_HEADER, "")
    timestamp = lowered.get(TIMESTAMP_HEADER, "")
    if not signature or not timestamp:
        raise InvalidInput(
            "The x-zm-signature or x-zm-request-timestamp header is missing.",
            field=SIGNATURE_HEADER,
        )
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise InvalidInput(
            "The request timestamp is not a number.", field=SIGNATURE_HEADER
        ) from None
    if abs(now - sent_at) > tolerance:
        raise InvalidInput("The webhook timestamp is too old or too new.", field=SIGNATURE_HEADER)
    expected = zoom_signature(secret, timestamp, payload)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise InvalidInput("The webhook signature does not verify.", field=SIGNATURE_HEADER)
    try:
        body = decode_json_object(payload)
    except NotJson as error:
        raise InvalidInput(f"The webhook payload is {error}.", field="payload") from None
    event = body.get("event")
    if not isinstance(event, str):
        raise InvalidInput("The webhook payload is not a Zoom event.", field="payload")
    kind = _KINDS.get(event)
    if kind is None:
        raise InvalidInput(f"Unhandled Zoom event {event}.", field="event")
    try:
        return _read_webhook(body, kind, secret)
    except (KeyError, TypeError, ValueError, OverflowError):
        raise InvalidInput(
            "The webhook event lacks a field this integration reads.", field="payload"
        ) from None


def _read_webhook(body: dict[str, Any], kind: MeetingWebhookKind, secret: str) -> MeetingWebhook:
    payload: dict[str, Any] = body["payload"]
    event_ts = _event_ts(body.get("event_ts"))
    occurred_at = datetime.fromtimestamp(event_ts / 1000, UTC)
    if kind is MeetingWebhookKind.URL_VALIDATION:
        plain = str(payload["plainToken"])
        return MeetingWebhook(
            id=_derived_id("url_validation", plain),
            kind=kind,
            occurred_at=occurred_at,
            challenge_response=url_validation_answer(secret, plain),
        )
    obj: dict[str, Any] = payload["object"]
    meeting_id = str(obj["id"])
    instance = str(obj.get("uuid") or meeting_id)
    participant = None
    identity: list[str] = []
    if kind in (MeetingWebhookKind.PARTICIPANT_JOINED, MeetingWebhookKind.PARTICIPANT_LEFT):
        raw: dict[str, Any] = obj["participant"]
        participant = Participant(
            joined_at=_time(raw["join_time"]),
            left_at=_time(raw["leave_time"]) if raw.get("leave_time") else None,
            registrant_id=raw.get("registrant_id") or None,
            email=raw.get("email") or None,
            name=str(raw.get("user_name") or ""),
        )
        who = raw.get("participant_uuid") or raw.get("id") or raw.get("user_id") or ""
        identity = [str(who), str(raw.get("join_time")), str(raw.get("leave_time") or "")]
    elif obj.get("end_time"):
        identity = [str(obj["end_time"])]
    return MeetingWebhook(
        id=_derived_id(kind.value, str(event_ts), instance, *identity),
        kind=kind,
        occurred_at=occurred_at,
        meeting_id=meeting_id,
        participant=participant,
    )


def _event_ts(value: Any) -> int:
    """Zoom's ``event_ts``: milliseconds since the epoch, as a JSON integer (0 when absent)."""
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_EVENT_TS:
        raise InvalidInput("event_ts must be milliseconds since 1970.", field="event_ts")
    return value


def _derived_id(*parts: str) -> str:
    return "zm_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _time(value: Any) -> datetime:
    """Zoom's ``2026-05-04T09:00:00Z`` as an aware datetime."""
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("naive time")
    return parsed.astimezone(UTC)


def zoom_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the API -----------------------------------------------------------------------------------


class ZoomMeetings:
    name = "zoom"

    def __init__(
        self,
        *,
        account_id: str,
        client_id: str,
        client_secret: str,
        webhook_secret: str,
        api_base: str = "https://api.zoom.us/v2",
        oauth_base: str = "https://zoom.us",
        timeout_seconds: float = 15,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (
            ("account id", account_id),
            ("client id", client_id),
            ("client secret", client_secret),
            ("webhook secret token", webhook_secret),
        ):
            if not value:
                raise ValueError(f"A Zoom {name} is required.")
        self._account_id = account_id
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._basic = f"Basic {basic}"
        self._webhook_secret = webhook_secret
        self._api_base = api_base.rstrip("/")
        self._oauth_url = oauth_base.rstrip("/") + "/oauth/token"
        self._http = httpx.AsyncClient(timeout=timeout_seconds)
        self._wall_clock = wall_clock
        self._monotonic = monotonic
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- meetings ---------------------------------------------------------------------------

    async def create_meeting(self, spec: MeetingSpec) -> Meeting:
        response = await self._call("POST", "/users/me/meetings", json=_meeting_body(spec))
        data = response.json()
        return Meeting(id=str(data["id"]), join_url=str(data["join_url"]))

    async def update_meeting(self, meeting_id: str, spec: MeetingSpec) -> None:
        await self._call("PATCH", f"/meetings/{_segment(meeting_id)}", json=_meeting_body(spec))

    async def delete_meeting(self, meeting_id: str) -> None:
        try:
            await self._call("DELETE", f"/meetings/{_segment(meeting_id)}")
        except NotFound:
            return  # already gone: what the caller wanted

    async def add_registrant(
        self, meeting_id: str, registrant: RegistrantSpec
    ) -> MeetingRegistrant:
        response = await self._call(
            "POST",
            f"/meetings/{_segment(meeting_id)}/registrants",
            json={
                "email": registrant.email.strip(),
                "first_name": registrant.first_name.strip(),
                "last_name": registrant.last_name.strip(),
            },
        )
        data = response.json()
        return MeetingRegistrant(id=str(data["registrant_id"]), join_url=str(data["join_url"]))

    async def participants(self, meeting_id: str) -> list[Participant]:
        found: list[Participant] = []
        token = ""
        while True:
            params = {"page_size": str(REPORT_PAGE_SIZE)}
            if token:
                params["next_page_token"] = token
            response = await self._call(
                "GET", f"/report/meetings/{_segment(meeting_id)}/participants", params=params
            )
            data = response.json()
            for item in data.get("participants") or []:
                found.append(
                    Participant(
                        joined_at=_time(item["join_time"]),
                        left_at=_time(item["leave_time"]) if item.get("leave_time") else None,
                        registrant_id=item.get("registrant_id") or None,
                        email=item.get("user_email") or None,
                        name=str(item.get("name") or ""),
                    )
                )
            token = str(data.get("next_page_token") or "")
            if not token:
                return found

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> MeetingWebhook:
        return parse_zoom_webhook(payload, headers, self._webhook_secret, now=self._wall_clock())

    # -- plumbing ---------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One API call with a bearer token; a 401 fetches a new token and tries once more."""
        for attempt in (1, 2):
            token = await self._access_token(renew=attempt == 2)
            try:
                response = await self._http.request(
                    method,
                    self._api_base + path,
                    json=json,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as error:
                raise VideoProviderUnavailable(f"Zoom is unreachable: {error!r}") from error
            if response.status_code == 401 and attempt == 1:
                continue
            if response.is_success:
                return response
            _raise_mapped(response)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _access_token(self, *, renew: bool) -> str:
        async with self._token_lock:
            stale = self._token is None or self._monotonic() >= self._token_expires
            if renew or stale:
                await self._fetch_token()
            assert self._token is not None
            return self._token

    async def _fetch_token(self) -> None:
        try:
            response = await self._http.post(
                self._oauth_url,
                params={"grant_type": "account_credentials", "account_id": self._account_id},
                headers={"Authorization": self._basic},
            )
        except httpx.HTTPError as error:
            raise VideoProviderUnavailable(f"Zoom OAuth is unreachable: {error!r}") from error
        if response.status_code in (400, 401, 403):
            raise VideoProviderUnavailable(
                f"Zoom refused the Server-to-Server OAuth credentials ({response.status_code}); "
                "check CPD_ZOOM_ACCOUNT_ID, CPD_ZOOM_CLIENT_ID and CPD_ZOOM_CLIENT_SECRET."
            )
        if not response.is_success:
            raise VideoProviderUnavailable(f"Zoom OAuth failed with {response.status_code}.")
        data = response.json()
        self._token = str(data["access_token"])
        lifetime = float(data.get("expires_in") or 3600)
        self._token_expires = self._monotonic() + max(0.0, lifetime - TOKEN_MARGIN_SECONDS)


def _meeting_body(spec: MeetingSpec) -> dict[str, Any]:
    return {
        "topic": spec.topic,
        "type": 2,  # scheduled
        "start_time": zoom_time(spec.starts_at),
        "duration": spec.duration_minutes,
        "timezone": spec.timezone,
        # Registration on, auto-approved: every registrant gets a personal join link, and the
        # participants report then names them by registrant id.
        "settings": {"approval_type": 0, "registration_type": 1},
    }


def _segment(meeting_id: str) -> str:
    """A meeting id or instance UUID as one path segment (Zoom wants a UUID that holds a
    ``/`` double-encoded)."""
    meeting_id = meeting_id.strip()
    if not meeting_id:
        raise InvalidInput("Must not be blank.", field="meeting_id")
    quoted = quote(meeting_id, safe="")
    return quote(quoted, safe="") if "/" in meeting_id else quoted


def _raise_mapped(response: httpx.Response) -> NoReturn:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = str(body.get("message") or response.reason_phrase or status)
    if status == 404:
        raise NotFound(f"Zoom does not know this meeting: {message}", field="meeting_id")
    if status in (400, 409, 422) and body.get("code") not in (124, 200):  # 124/200: auth, scope
        errors = body.get("errors") or []
        field = errors[0].get("field") if errors and isinstance(errors[0], dict) else None
        raise InvalidInput(f"Zoom refused the request: {message}", field=field)
    if status in (401, 403) or body.get("code") in (124, 200):
        raise VideoProviderUnavailable(
            f"Zoom rejected our access ({status}: {message}); check the app's scopes."
        )
    raise VideoProviderUnavailable(f"Zoom is unavailable ({status}: {message}).")
