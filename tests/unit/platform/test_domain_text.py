"""The domain's text check, and that what it accepts always renders into a calendar and an
email (the confirmation email attaches the event's .ics)."""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import icalendar
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cpd.adapters.documents.calendars import IcalendarWriter
from cpd.adapters.mail.mailers import to_mime
from cpd.domain.catalog import EventView, OrganizationRef
from cpd.domain.errors import InvalidInput
from cpd.domain.events import Event
from cpd.domain.messaging import Attachment, EmailMessage
from cpd.domain.text import checked_text, displayable
from cpd.domain.urls import checked_url

NOW = datetime(2027, 1, 1, 9, tzinfo=UTC)
# Every character class the check must think about, mixed with ordinary text.
HOSTILE = [
    "\x00", "\r", "\n", "\r\n", "\t", "\x1b", "\x7f", "\x85", "\u2028", "\u2029",
    "\u202e", "\u202a", "\u2066", "\u2069", "\u200b", "\u2060", "\ufeff", "\ud800",
]  # fmt: skip
ALLOWED_INVISIBLES = ["\u200c", "\u200d", "\u200e", "\u200f"]  # ZWNJ, ZWJ, LRM, RLM
any_text = st.text(st.characters(exclude_categories=()), max_size=60)
ordinary = st.text(st.characters(exclude_categories=["Cc", "Cs", "Zl", "Zp"]), min_size=1)


def _accepted(*, multiline: bool) -> st.SearchStrategy[str]:
    """Text the check accepts: ordinary characters, the invisibles it allows and, for
    multi-line text, line breaks and tabs (the filter drops the rare blank or hidden)."""
    breaks = ["\r\n", "\n", "\r", "\t"] if multiline else []
    parts = st.one_of(st.sampled_from(ALLOWED_INVISIBLES + breaks), ordinary, ordinary)

    def accepts(text: str) -> bool:
        try:
            checked_text(text, "text", 200, multiline=multiline)
        except InvalidInput:
            return False
        return True

    return st.lists(parts, min_size=1, max_size=5).map("".join).filter(accepts)


@pytest.mark.parametrize("char", HOSTILE)
def test_single_line_text_refuses_control_bidi_and_invisible_characters(char: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        checked_text(f"Ethics{char}in practice", "title", 200)
    assert refused.value.field == "title"


@pytest.mark.parametrize("char", [c for c in HOSTILE if c not in ("\r", "\n", "\r\n", "\t")])
def test_multi_line_text_refuses_the_same_except_line_breaks_and_tabs(char: str) -> None:
    with pytest.raises(InvalidInput):
        checked_text(f"First{char}second", "description", 200, multiline=True)


def test_multi_line_text_keeps_newlines_and_tabs_and_stores_cr_lf_as_lf() -> None:
    text = checked_text("One\r\nTwo\rThree\n\tFour", "description", 200, multiline=True)
    assert text == "One\nTwo\nThree\n\tFour"


@pytest.mark.parametrize(
    "text",
    [
        "Zoë Łukasz",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, with a ZWNJ
        "\U0001f469\u200d\u2695\ufe0f nurse",  # an emoji ZWJ sequence
        "\u200f\u05e9\u05dc\u05d5\u05dd\u200e",  # Hebrew between RLM and LRM
        "研修の日",
    ],
)
def test_real_names_and_scripts_pass(text: str) -> None:
    assert checked_text(f" {text} ", "name", 100) == text


def test_an_event_title_with_a_line_break_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        _event(title="Ethics\r\nBcc: everyone@example.org")
    assert refused.value.field == "title"


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "/relative", "https://",
     "http://exa mple.org", "https://[::1", "http://example.org:99999/", "ftp://example.org"],
)  # fmt: skip
def test_urls_are_absolute_http_or_https(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        checked_url(url, "sessions.join_url")
    assert refused.value.field == "sessions.join_url"


def test_an_https_url_passes() -> None:
    url = "https://zoom.us/j/123?pwd=abc"
    assert checked_url(url, "sessions.join_url") == url


@settings(max_examples=100, deadline=None)
@given(
    title=_accepted(multiline=False),
    summary=_accepted(multiline=False),
    description=_accepted(multiline=True),
    place=_accepted(multiline=False),
)
def test_whatever_the_check_accepts_renders_into_a_calendar_and_an_email(
    title: str, summary: str, description: str, place: str
) -> None:
    venue = {"name": place, "address": description}
    event = _event(title=title, summary=summary, description=description, venue=venue)
    _render(
        EventView.of(event, OrganizationRef(uuid4(), title, "org"), seats_taken=0),
        subject=event.title,
    )


@settings(max_examples=100, deadline=None)
@given(title=any_text, summary=any_text, organization=any_text)
def test_text_stored_before_the_check_still_renders(
    title: str, summary: str, organization: str
) -> None:
    view = EventView.of(_event(), OrganizationRef(uuid4(), organization, "org"), seats_taken=0)
    fields = {f: getattr(view, f) for f in view.__dataclass_fields__}
    _render(EventView(**fields | {"title": title, "summary": summary}), subject=title)


@given(text=any_text)
def test_displayable_text_passes_the_check(text: str) -> None:
    shown = displayable(text)
    assume(shown.strip())
    assert checked_text(shown, "title", 100) == shown.strip()


def _render(view: EventView, *, subject: str) -> None:
    ics = IcalendarWriter().calendar([view], name=view.organization.name, base_url="https://x")
    assert icalendar.Calendar.from_ical(ics).walk("VEVENT")
    message = EmailMessage(
        to="ada@example.org",
        subject=f"Confirmed: {subject}",
        text=f"{view.title}\n{view.description}",
        html=f"<p>{view.summary}</p>",
        attachments=(Attachment(f"{subject}.ics", "text/calendar", ics),),
    )
    mime = to_mime(message, "CPD <noreply@example.org>")
    assert mime.as_bytes(policy=email.policy.SMTP)


def _event(**details: object) -> Event:
    start = NOW + timedelta(days=30)
    return Event.create(
        organization_id=uuid4(),
        slug="event",
        now=NOW,
        details={"title": "Ethics", "format": "in_person", "timezone": "Europe/London"} | details,
        sessions=[{"title": "Morning", "starts_at": start, "ends_at": start + timedelta(hours=3)}],
    )
