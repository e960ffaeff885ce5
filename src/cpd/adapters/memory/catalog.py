"""The catalog read side over the in-memory state (embedded demos and tests)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from cpd.adapters.catalog_search import search_words, text_matches
from cpd.adapters.memory.database import MemoryDatabase
from cpd.domain.catalog import (
    CourseFilters,
    CourseView,
    EventFilters,
    EventView,
    OrganizationRef,
)
from cpd.domain.courses import Course
from cpd.domain.events import Event
from cpd.domain.pages import PageRequest


class MemoryCatalogReader:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def _view(self, event: Event) -> EventView:
        taken = self._db.state.seats_taken.get(event.id, 0)
        return EventView.of(event, self._organization(event.organization_id), seats_taken=taken)

    def _organization(self, organization_id: UUID) -> OrganizationRef:
        return OrganizationRef.of(self._db.state.organizations[organization_id])

    def _matching_events(self, filters: EventFilters) -> list[Event]:
        state = self._db.state
        org_ids = _organization_ids(self._db, filters.organization_id, filters.organization_slug)
        words = search_words(filters.q)
        found = []
        for event in state.events.values():
            if event.status not in filters.statuses:
                continue
            if org_ids is not None and event.organization_id not in org_ids:
                continue
            if filters.format and event.format is not filters.format:
                continue
            if filters.tag is not None and filters.tag.lower() not in event.tags:
                continue
            if words and not text_matches(words, event.title, event.summary, *event.tags):
                continue
            if filters.starts_after and not (
                event.starts_at and event.starts_at >= filters.starts_after
            ):
                continue
            if filters.starts_before and not (
                event.starts_at and event.starts_at < filters.starts_before
            ):
                continue
            if filters.free is not None and event.price.is_free is not filters.free:
                continue
            if filters.has_capacity is not None:
                taken = self._db.state.seats_taken.get(event.id, 0)
                has_room = event.capacity is None or taken < event.capacity
                if has_room is not filters.has_capacity:
                    continue
            found.append(event)
        found.sort(key=lambda e: (e.starts_at is None, e.starts_at or datetime.min, str(e.id)))
        return found

    async def events(self, filters: EventFilters, page: PageRequest) -> list[EventView]:
        chosen = self._matching_events(filters)[page.offset : page.offset + page.limit]
        return [self._view(e) for e in chosen]

    async def events_json(self, filters: EventFilters, page: PageRequest) -> bytes:
        return _encode(await self.events(filters, page))

    async def count_events(self, filters: EventFilters) -> int:
        return len(self._matching_events(filters))

    async def event(self, event_id: UUID) -> EventView | None:
        event = self._db.state.events.get(event_id)
        return self._view(event) if event else None

    async def event_by_slug(self, organization_slug: str, event_slug: str) -> EventView | None:
        org_id = _org_id_by_slug(self._db, organization_slug)
        for event in self._db.state.events.values():
            if event.organization_id == org_id and event.slug == event_slug:
                return self._view(event)
        return None

    def _matching_courses(self, filters: CourseFilters) -> list[Course]:
        org_ids = _organization_ids(self._db, filters.organization_id, filters.organization_slug)
        words = search_words(filters.q)
        found = [
            c
            for c in self._db.state.courses.values()
            if c.status in filters.statuses
            and (org_ids is None or c.organization_id in org_ids)
            and (filters.mode is None or c.mode is filters.mode)
            and (filters.free is None or c.price.is_free is filters.free)
            and (not words or text_matches(words, c.title, c.description))
        ]
        found.sort(key=lambda c: (c.title.lower(), str(c.id)))
        return found

    async def courses(self, filters: CourseFilters, page: PageRequest) -> list[CourseView]:
        chosen = self._matching_courses(filters)[page.offset : page.offset + page.limit]
        return [CourseView.of(c, self._organization(c.organization_id)) for c in chosen]

    async def count_courses(self, filters: CourseFilters) -> int:
        return len(self._matching_courses(filters))

    async def course(self, course_id: UUID) -> CourseView | None:
        course = self._db.state.courses.get(course_id)
        return CourseView.of(course, self._organization(course.organization_id)) if course else None


_encode = msgspec.json.Encoder().encode


def _org_id_by_slug(db: MemoryDatabase, slug: str | None) -> UUID | None:
    if slug is None:
        return None
    return next((o.id for o in db.state.organizations.values() if o.slug == slug), None)


def _organization_ids(
    db: MemoryDatabase, organization_id: UUID | None, slug: str | None
) -> set[UUID] | None:
    """The organizations both filters allow (None: no organization filter)."""
    if organization_id is None and slug is None:
        return None
    allowed = set(db.state.organizations)
    if organization_id is not None:
        allowed &= {organization_id}
    if slug is not None:
        allowed &= {o.id for o in db.state.organizations.values() if o.slug == slug}
    return allowed
