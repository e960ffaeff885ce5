"""iCalendar documents with the ``icalendar`` package: one VEVENT per session, in the event's
own time zone. Served by the calendar routes and attached to confirmation emails.

Text goes through ``displayable``: icalendar refuses a raw line break in an ``X-`` property
and cannot encode a lone surrogate, and a feed must not fail on what the domain stored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, vText
from icalendar import Event as CalendarEvent

from cpd.domain.text import displayable
from cpd.ports.events import ScheduledEvent


class IcalendarWriter:
    def calendar(self, events: Iterable[ScheduledEvent], *, name: str, base_url: str) -> bytes:
        calendar = Calendar()
        calendar.add("prodid", "-//CPD Events//cpd//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("x-wr-calname", vText(displayable(name)))
        for event in events:
            zone = ZoneInfo(event.timezone)
            location = (
                ", ".join(filter(None, [event.venue.name, event.venue.address]))
                if event.venue
                else None
            )
            url = f"{base_url.rstrip('/')}/events/{event.id}"
            for session in event.sessions:
                entry = CalendarEvent()
                entry.add("uid", f"{session.id}@cpd")
                entry.add("dtstamp", datetime.now(zone))
                entry.add("dtstart", session.starts_at.astimezone(zone))
                entry.add("dtend", session.ends_at.astimezone(zone))
                title = (
                    event.title
                    if session.title == event.title
                    else f"{event.title}: {session.title}"
                )
                entry.add("summary", displayable(title))
                if event.summary:
                    entry.add("description", displayable(event.summary, multiline=True))
                if location:
                    entry.add("location", displayable(location))
                entry.add("url", url)
                entry.add("status", "CANCELLED" if event.status == "cancelled" else "CONFIRMED")
                calendar.add_component(entry)
        calendar.add_missing_timezones()
        return bytes(calendar.to_ical())
