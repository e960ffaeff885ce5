"""End to end through the Zoom adapter against the local fake Zoom server (never the internet):
publish an online event, a meeting is created at "Zoom" per session; a registrant confirms and
is registered there; a signed ``meeting.ended`` arrives; attendance is recorded from the
participants report, matched by registrant id, with source zoom."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from uuid import UUID

from litestar.testing import TestClient
from tests.api.conftest import Api, eventually
from tests.api.events.test_zoom_meetings import join_urls
from tests.support.clock import FakeClock
from tests.support.fake_zoom import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, running_fake_zoom
from tests.support.settings import make_settings

from cpd.adapters.meetings.zoom import ZoomMeetings, zoom_signature
from cpd.bootstrap import build_container
from cpd.domain.attendance import AttendanceRecord
from cpd.entrypoints.http.app import create_app

SECRET = "zoom-flow-webhook-secret"


def test_publish_register_meeting_ended_attendance_through_zoom() -> None:
    clock = FakeClock()  # moved past the morning session once Ada has booked
    with running_fake_zoom() as zoom:
        container = build_container(
            make_settings(
                video_provider="zoom",
                zoom_account_id=ACCOUNT_ID,
                zoom_client_id=CLIENT_ID,
                zoom_client_secret=CLIENT_SECRET,
                zoom_webhook_secret=SECRET,
                zoom_api_base=zoom.api_base,
                zoom_oauth_base=zoom.url,
                outbox_poll_seconds=0.05,
            ),
            clock=clock,
        )
        adapter = container.video_meetings
        assert isinstance(adapter, ZoomMeetings)
        with TestClient(create_app(container)) as client:
            api = Api(client, container)
            owner = api.user()
            org = api.organization(owner, "Zoom Flow College")
            event = api.event(owner, org, format="online", venue=None)

            assert eventually(lambda: len(zoom.meetings) == 2)
            assert eventually(
                lambda: all(
                    s["join_url"]
                    for s in client.get(
                        f"/api/v1/events/{event['id']}/sessions", headers=owner.headers
                    ).json()["items"]
                )
            )
            sessions = client.get(
                f"/api/v1/events/{event['id']}/sessions", headers=owner.headers
            ).json()["items"]
            by_url = {m["join_url"]: meeting_id for meeting_id, m in zoom.meetings.items()}
            morning_id = by_url[sessions[0]["join_url"]]
            assert zoom.meetings[morning_id]["topic"] == "Ethics in practice: Morning"
            assert zoom.meetings[morning_id]["settings"]["approval_type"] == 0

            ada = api.user()
            booked = client.post(
                "/api/v1/registrations", json={"event_id": event["id"]}, headers=ada.headers
            ).json()
            assert booked["status"] == "confirmed"
            links = eventually(
                lambda: join_urls(api, f"/api/v1/registrations/{booked['id']}", ada, count=2)
            )
            [registrant] = zoom.registrants[morning_id]
            assert registrant["email"] == ada.email
            assert links[0] == {"session_id": sessions[0]["id"], "join_url": registrant["join_url"]}

            morning_over = datetime(2027, 3, 1, 12, 5, tzinfo=UTC)
            clock.advance(seconds=(morning_over - clock.now()).total_seconds())
            zoom.add_participant(
                morning_id,
                {
                    "name": "Ada on a borrowed laptop",
                    "user_email": "",
                    "registrant_id": registrant["registrant_id"],
                    "join_time": "2027-03-01T09:05:00Z",
                    "leave_time": "2027-03-01T11:05:00Z",
                },
            )
            body = json.dumps(
                {
                    "event": "meeting.ended",
                    "event_ts": int(time.time() * 1000),
                    "payload": {
                        "account_id": ACCOUNT_ID,
                        "object": {
                            "id": morning_id,
                            "uuid": zoom.meetings[morning_id]["uuid"],
                            "end_time": "2027-03-01T12:00:00Z",
                        },
                    },
                }
            ).encode()
            ts = str(int(time.time()))
            answer = client.post(
                "/api/v1/webhooks/zoom",
                content=body,
                headers={
                    "content-type": "application/json",
                    "x-zm-request-timestamp": ts,
                    "x-zm-signature": zoom_signature(SECRET, ts, body),
                },
            )
            assert answer.status_code == 200, answer.text

            async def attendance() -> list[AttendanceRecord]:
                async with container.uow() as uow:
                    return await uow.attendance.for_event(UUID(event["id"]))

            records = eventually(lambda: client.blocking_portal.call(attendance))
            assert [
                (str(r.session_id), str(r.registration_id), r.minutes_attended, r.source)
                for r in records
            ] == [(sessions[0]["id"], booked["id"], 120, "zoom")]
            client.blocking_portal.call(adapter.aclose)
