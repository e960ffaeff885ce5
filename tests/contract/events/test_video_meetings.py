"""The VideoMeetings contract, run against the fake adapter and against ZoomMeetings talking to
a local fake Zoom server (never the internet)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cpd.adapters.meetings.fake import FakeVideoMeetings
from cpd.adapters.meetings.zoom import (
    ZoomMeetings,
    url_validation_answer,
    zoom_signature,
    zoom_time,
)
from cpd.domain.errors import InvalidInput, NotFound
from cpd.domain.meetings import MeetingSpec, MeetingWebhookKind, Participant, RegistrantSpec
from cpd.ports.events import VideoMeetings
from tests.support.fake_zoom import (
    ACCOUNT_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    WEBHOOK_SECRET,
    running_fake_zoom,
)

START = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)
SPEC = MeetingSpec("Ethics update: Part 1", START, 90, "Europe/London")


@dataclass
class Harness:
    meetings: VideoMeetings
    stored: Callable[[str], tuple[str, str, int, str] | None]  # topic, start, minutes, tz
    tell: Callable[[str, Participant], None]


@pytest.fixture(params=["fake", "zoom"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "fake":
        fake = FakeVideoMeetings(WEBHOOK_SECRET)

        def stored_fake(meeting_id: str) -> tuple[str, str, int, str] | None:
            try:
                spec = fake.meeting(meeting_id).spec
            except NotFound:
                return None
            return spec.topic, zoom_time(spec.starts_at), spec.duration_minutes, spec.timezone

        yield Harness(fake, stored_fake, fake.record_participant)
        return
    with running_fake_zoom() as server:
        server.max_page_size = 7  # the adapter must follow next_page_token
        zoom = ZoomMeetings(
            account_id=ACCOUNT_ID,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            webhook_secret=WEBHOOK_SECRET,
            api_base=server.api_base,
            oauth_base=server.url,
            timeout_seconds=5,
        )

        def stored_zoom(meeting_id: str) -> tuple[str, str, int, str] | None:
            m = server.meetings.get(meeting_id)
            return (
                None if m is None else (m["topic"], m["start_time"], m["duration"], m["timezone"])
            )

        def tell_zoom(meeting_id: str, p: Participant) -> None:
            server.add_participant(
                meeting_id,
                {
                    "id": "p-" + (p.registrant_id or p.email or p.name),
                    "name": p.name,
                    "user_email": p.email or "",
                    "registrant_id": p.registrant_id or "",
                    "join_time": zoom_time(p.joined_at),
                    "leave_time": zoom_time(p.left_at) if p.left_at else "",
                    "duration": int((p.left_at - p.joined_at).total_seconds()) if p.left_at else 0,
                },
            )

        try:
            yield Harness(zoom, stored_zoom, tell_zoom)
        finally:
            await zoom.aclose()


async def test_a_meeting_is_created_with_an_id_and_a_join_link(harness: Harness) -> None:
    meeting = await harness.meetings.create_meeting(SPEC)

    assert meeting.id.isdigit()
    assert len(meeting.id) == 11
    assert meeting.join_url.startswith("https://")
    assert f"/j/{meeting.id}?pwd=" in meeting.join_url
    assert harness.stored(meeting.id) == (SPEC.topic, "2026-06-01T08:30:00Z", 90, "Europe/London")
    other = await harness.meetings.create_meeting(SPEC)
    assert other.id != meeting.id


async def test_update_reschedules_and_a_missing_meeting_is_not_found(harness: Harness) -> None:
    meeting = await harness.meetings.create_meeting(SPEC)
    later = MeetingSpec("Ethics update (moved)", START + timedelta(days=1), 60, "UTC")

    await harness.meetings.update_meeting(meeting.id, later)

    assert harness.stored(meeting.id) == (
        "Ethics update (moved)",
        "2026-06-02T08:30:00Z",
        60,
        "UTC",
    )
    with pytest.raises(NotFound) as missing:
        await harness.meetings.update_meeting("99999999999", later)
    assert missing.value.field == "meeting_id"


async def test_deleting_is_idempotent_and_final(harness: Harness) -> None:
    meeting = await harness.meetings.create_meeting(SPEC)

    await harness.meetings.delete_meeting(meeting.id)
    await harness.meetings.delete_meeting(meeting.id)  # a retry: fine
    await harness.meetings.delete_meeting("99999999999")

    assert harness.stored(meeting.id) is None
    with pytest.raises(NotFound):
        await harness.meetings.update_meeting(meeting.id, SPEC)
    with pytest.raises(NotFound):
        await harness.meetings.add_registrant(meeting.id, RegistrantSpec("a@example.org", "A"))


async def test_registrants_get_personal_links_once_per_email(harness: Harness) -> None:
    meeting = await harness.meetings.create_meeting(SPEC)

    ada = await harness.meetings.add_registrant(
        meeting.id, RegistrantSpec("ada@example.org", "Ada", "Lovelace")
    )
    again = await harness.meetings.add_registrant(
        meeting.id, RegistrantSpec("ADA@example.org", "Ada", "Lovelace")
    )
    bob = await harness.meetings.add_registrant(
        meeting.id, RegistrantSpec("bob@example.org", "Bob")
    )

    assert ada == again
    assert ada.id
    assert bob.id
    assert ada.id != bob.id
    assert meeting.id in ada.join_url
    assert ada.join_url != meeting.join_url
    assert ada.join_url != bob.join_url


async def test_participants_of_a_past_meeting_are_all_returned(harness: Harness) -> None:
    meeting = await harness.meetings.create_meeting(SPEC)
    told = [
        Participant(
            joined_at=START + timedelta(minutes=i),
            left_at=START + timedelta(minutes=30 + i),
            registrant_id=f"reg{i}" if i % 2 else None,
            email=f"p{i}@example.org" if i % 3 else None,
            name=f"Person {i}",
        )
        for i in range(23)
    ]
    for participant in told:
        harness.tell(meeting.id, participant)

    found = await harness.meetings.participants(meeting.id)

    assert sorted(found, key=lambda p: p.name) == sorted(told, key=lambda p: p.name)
    assert (
        await harness.meetings.participants((await harness.meetings.create_meeting(SPEC)).id) == []
    )
    with pytest.raises(NotFound):
        await harness.meetings.participants("99999999999")


# -- webhooks -------------------------------------------------------------------------------------


def signed(
    body: dict[str, Any], *, secret: str = WEBHOOK_SECRET, age: int = 0
) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    ts = str(int(time.time()) - age)
    return raw, {"x-zm-signature": zoom_signature(secret, ts, raw), "x-zm-request-timestamp": ts}


def joined(**participant: Any) -> dict[str, Any]:
    return {
        "event": "meeting.participant_joined",
        "event_ts": 1_780_302_700_000,
        "payload": {
            "account_id": "acc",
            "object": {
                "id": "81234567890",
                "uuid": "4444AAAiAAAAAiAiAiiAii==",
                "topic": "Ethics",
                "participant": {
                    "user_id": "16778240",
                    "user_name": "Ada L",
                    "id": "iFxeBPYun6SAiWUzBcEkX",
                    "participant_uuid": "u-1",
                    "join_time": "2026-06-01T08:31:00Z",
                    "email": "ada@example.org",
                    "registrant_id": "reg-ada",
                }
                | participant,
            },
        },
    }


async def test_a_signed_participant_event_is_read(harness: Harness) -> None:
    event = harness.meetings.parse_webhook(*signed(joined()))

    assert event.kind is MeetingWebhookKind.PARTICIPANT_JOINED
    assert event.meeting_id == "81234567890"
    assert event.participant == Participant(
        joined_at=datetime(2026, 6, 1, 8, 31, tzinfo=UTC),
        registrant_id="reg-ada",
        email="ada@example.org",
        name="Ada L",
    )
    assert event.occurred_at == datetime.fromtimestamp(1_780_302_700, UTC)
    # A redelivery (signed again, later) has the same id; another stay does not.
    assert harness.meetings.parse_webhook(*signed(joined(), age=60)).id == event.id
    rejoin = harness.meetings.parse_webhook(*signed(joined(join_time="2026-06-01T08:50:00Z")))
    assert rejoin.id != event.id


async def test_left_and_ended_events_are_read(harness: Harness) -> None:
    body = joined(leave_time="2026-06-01T09:10:00Z")
    body["event"] = "meeting.participant_left"
    left = harness.meetings.parse_webhook(*signed(body))
    assert left.kind is MeetingWebhookKind.PARTICIPANT_LEFT
    assert left.participant is not None
    assert left.participant.left_at == datetime(2026, 6, 1, 9, 10, tzinfo=UTC)

    ended = harness.meetings.parse_webhook(
        *signed(
            {
                "event": "meeting.ended",
                "event_ts": 1_780_306_000_000,
                "payload": {
                    "object": {"id": 81234567890, "uuid": "x==", "end_time": "2026-06-01T10:00:00Z"}
                },
            }
        )
    )
    assert ended.kind is MeetingWebhookKind.MEETING_ENDED
    assert ended.meeting_id == "81234567890"
    assert ended.participant is None


async def test_the_url_validation_challenge_is_answered(harness: Harness) -> None:
    body = {
        "event": "endpoint.url_validation",
        "event_ts": 1,
        "payload": {"plainToken": "qgg8vlvZ"},
    }
    event = harness.meetings.parse_webhook(*signed(body))
    assert event.kind is MeetingWebhookKind.URL_VALIDATION
    assert event.challenge_response == url_validation_answer(WEBHOOK_SECRET, "qgg8vlvZ")
    assert (
        event.challenge_response["encryptedToken"]
        != url_validation_answer("other", "qgg8vlvZ")["encryptedToken"]
    )


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda raw, h: (raw, signed(joined(), secret="wrong")[1]), id="wrong-secret"),
        pytest.param(lambda raw, h: (raw.replace(b"ada@", b"eve@"), h), id="tampered"),
        pytest.param(lambda raw, h: signed(joined(), age=301), id="stale"),
        pytest.param(lambda raw, h: signed(joined(), age=-301), id="future"),
        pytest.param(lambda raw, h: (raw, {}), id="missing"),
        pytest.param(lambda raw, h: (raw, h | {"x-zm-request-timestamp": "soon"}), id="bad-ts"),
        pytest.param(
            lambda raw, h: (raw, h | {"x-zm-signature": h["x-zm-signature"].replace("v0=", "v1=")}),
            id="scheme",
        ),
    ],
)
async def test_an_unverifiable_webhook_is_refused(harness: Harness, tamper: Any) -> None:
    raw, headers = tamper(*signed(joined()))
    with pytest.raises(InvalidInput) as refused:
        harness.meetings.parse_webhook(raw, headers)
    assert refused.value.field == "x-zm-signature"


async def test_an_unverified_challenge_is_not_answered(harness: Harness) -> None:
    """Answering it would sign attacker-chosen text with the webhook secret."""
    body = {"event": "endpoint.url_validation", "payload": {"plainToken": "v0:1:{}"}}
    raw, _ = signed(body)
    with pytest.raises(InvalidInput):
        harness.meetings.parse_webhook(raw, {})


async def test_unhandled_or_malformed_events_name_the_field(harness: Harness) -> None:
    with pytest.raises(InvalidInput) as other:
        harness.meetings.parse_webhook(*signed({"event": "recording.completed", "payload": {}}))
    assert other.value.field == "event"
    with pytest.raises(InvalidInput) as malformed:
        harness.meetings.parse_webhook(*signed({"event": "meeting.ended", "payload": {}}))
    assert malformed.value.field == "payload"
