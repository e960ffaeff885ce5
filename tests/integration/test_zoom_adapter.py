"""ZoomMeetings against a local fake Zoom (never the internet): OAuth, token reuse and refresh,
what is sent, and how failures are reported."""

from __future__ import annotations

import base64
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from tests.support.fake_zoom import (
    ACCOUNT_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    WEBHOOK_SECRET,
    FakeZoom,
    running_fake_zoom,
)

from cpd.adapters.meetings.zoom import VideoProviderUnavailable, ZoomMeetings
from cpd.domain.errors import DomainError, InvalidInput, NotFound
from cpd.domain.meetings import MeetingSpec, RegistrantSpec

SPEC = MeetingSpec("Ethics", datetime(2026, 6, 1, 8, 30, tzinfo=UTC), 90, "Europe/London")


class Ticker:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeZoom]:
    with running_fake_zoom() as server:
        yield server


def make(fake: FakeZoom, ticker: Ticker | None = None, **overrides: str | float) -> ZoomMeetings:
    options: dict[str, str | float] = {
        "account_id": ACCOUNT_ID,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
        "api_base": fake.api_base,
        "oauth_base": fake.url,
        "timeout_seconds": 2,
    } | overrides
    if ticker is not None:
        return ZoomMeetings(monotonic=ticker, **options)  # type: ignore[arg-type]
    return ZoomMeetings(**options)  # type: ignore[arg-type]


@pytest.fixture
async def zoom(fake: FakeZoom) -> AsyncIterator[ZoomMeetings]:
    adapter = make(fake)
    yield adapter
    await adapter.aclose()


async def test_oauth_uses_the_account_credentials_grant_with_basic_auth(
    zoom: ZoomMeetings, fake: FakeZoom
) -> None:
    await zoom.create_meeting(SPEC)

    [token_call] = fake.calls("/oauth/token")
    assert token_call.query == {"grant_type": "account_credentials", "account_id": ACCOUNT_ID}
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_call.headers["authorization"] == f"Basic {basic}"
    [create] = fake.calls("/v2/users/me/meetings")
    assert create.headers["authorization"].startswith("Bearer ")
    assert create.body == {
        "topic": "Ethics",
        "type": 2,
        "start_time": "2026-06-01T08:30:00Z",
        "duration": 90,
        "timezone": "Europe/London",
        "settings": {"approval_type": 0, "registration_type": 1},
    }


async def test_the_token_is_reused_until_shortly_before_it_expires(fake: FakeZoom) -> None:
    ticker = Ticker()
    zoom = make(fake, ticker)
    try:
        meeting = await zoom.create_meeting(SPEC)
        await zoom.update_meeting(meeting.id, SPEC)
        await zoom.add_registrant(meeting.id, RegistrantSpec("a@example.org", "A"))
        assert len(fake.calls("/oauth/token")) == 1
        ticker.now += 3600 - 61  # still more than a minute left
        await zoom.participants(meeting.id)
        assert len(fake.calls("/oauth/token")) == 1
        ticker.now += 2  # within the last minute: fetch a new one first
        await zoom.participants(meeting.id)
        assert len(fake.calls("/oauth/token")) == 2
    finally:
        await zoom.aclose()


async def test_a_401_fetches_a_new_token_and_retries_once(
    zoom: ZoomMeetings, fake: FakeZoom
) -> None:
    meeting = await zoom.create_meeting(SPEC)
    fake.expire_tokens()  # revoked early; the cache still thinks it is good

    await zoom.update_meeting(meeting.id, MeetingSpec("Renamed", SPEC.starts_at, 90, "UTC"))

    assert fake.meetings[meeting.id]["topic"] == "Renamed"
    assert len(fake.calls("/oauth/token")) == 2
    patches = fake.calls(f"/v2/meetings/{meeting.id}")
    assert len(patches) == 2  # the refused one, then the retry


async def test_a_token_refused_twice_is_unavailable_not_a_loop(fake: FakeZoom) -> None:
    fake.token_ttl = 0  # every token is already expired when used
    zoom = make(fake)
    try:
        with pytest.raises(VideoProviderUnavailable):
            await zoom.create_meeting(SPEC)
    finally:
        await zoom.aclose()
    assert len(fake.calls("/oauth/token")) == 2
    assert fake.meetings == {}


@pytest.mark.parametrize(
    "override",
    [{"client_secret": "wrong"}, {"client_id": "nobody"}, {"account_id": "acc_other"}],
)
async def test_wrong_credentials_are_unavailable_and_named(
    fake: FakeZoom, override: dict[str, str]
) -> None:
    zoom = make(fake, **override)
    try:
        with pytest.raises(VideoProviderUnavailable, match="CPD_ZOOM_CLIENT_ID"):
            await zoom.create_meeting(SPEC)
    finally:
        await zoom.aclose()
    assert fake.meetings == {}


@pytest.mark.parametrize(("status", "code"), [(500, 0), (503, 0), (429, 429), (403, 200)])
async def test_provider_failures_are_retryable_not_domain_errors(
    zoom: ZoomMeetings, fake: FakeZoom, status: int, code: int
) -> None:
    fake.fail_next(status, code)
    with pytest.raises(VideoProviderUnavailable) as unavailable:
        await zoom.create_meeting(SPEC)
    assert not isinstance(unavailable.value, DomainError)
    assert (await zoom.create_meeting(SPEC)).id in fake.meetings  # later it works


async def test_a_validation_error_names_zooms_field(zoom: ZoomMeetings, fake: FakeZoom) -> None:
    meeting = await zoom.create_meeting(SPEC)
    fake.meetings[meeting.id]["settings"]["approval_type"] = 2  # registration switched off
    with pytest.raises(InvalidInput, match="Registration"):
        await zoom.add_registrant(meeting.id, RegistrantSpec("a@example.org", "A"))
    fake.fail_next(400, 300, "Validation Failed.")
    fake.injected[-1][1]["errors"] = [{"field": "start_time", "message": "Invalid."}]
    with pytest.raises(InvalidInput) as invalid:
        await zoom.update_meeting(meeting.id, SPEC)
    assert invalid.value.field == "start_time"


async def test_instance_uuids_with_slashes_are_double_encoded(
    zoom: ZoomMeetings, fake: FakeZoom
) -> None:
    fake.add_participant(
        "/abc//de==",
        {"name": "A", "user_email": "a@x.org", "join_time": "2026-06-01T08:30:00Z"},
    )
    [only] = await zoom.participants("/abc//de==")
    assert only.email == "a@x.org"
    assert only.left_at is None
    [call] = [r for r in fake.requests if r.path.startswith("/v2/report")]
    assert call.path == "/v2/report/meetings/%252Fabc%252F%252Fde%253D%253D/participants"
    with pytest.raises(NotFound):
        await zoom.participants("unknown")


async def test_a_slow_zoom_times_out_as_unavailable(fake: FakeZoom) -> None:
    zoom = make(fake, timeout_seconds=0.2)
    fake.delay_seconds = 0.5
    try:
        with pytest.raises(VideoProviderUnavailable, match="unreachable"):
            await zoom.create_meeting(SPEC)
    finally:
        await zoom.aclose()


async def test_an_unreachable_zoom_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens once the block ends
    zoom = ZoomMeetings(
        account_id=ACCOUNT_ID,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        webhook_secret=WEBHOOK_SECRET,
        api_base=f"http://127.0.0.1:{port}/v2",
        oauth_base=f"http://127.0.0.1:{port}",
    )
    try:
        with pytest.raises(VideoProviderUnavailable):
            await zoom.delete_meeting("81234567890")
    finally:
        await zoom.aclose()


def test_missing_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="webhook secret"):
        ZoomMeetings(account_id="a", client_id="b", client_secret="c", webhook_secret="")
