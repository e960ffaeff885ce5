"""Events as ready-made JSON, for the catalog's list: written when an event is saved, read back
as text, and completed at read time with the two parts that change without the event itself
(its organization's name and slug, and the seats left).

The document is ``EventView`` encoded by msgspec, the same encoder the API uses, so a listed
event reads exactly like a fetched one; the contract tests hold every adapter to that.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from cpd.domain.catalog import EventView, OrganizationRef, seats_available
from cpd.domain.events import Event

SPLICED = ("organization", "seats_available")
_encode = msgspec.json.Encoder().encode
_organizations: dict[tuple[UUID, str, str], bytes] = {}


def event_document(event: Event) -> bytes:
    # Both placeholders are dropped here and spliced in at read time by ``listed_event``.
    view = EventView.of(event, OrganizationRef(event.organization_id, "", ""), seats_taken=0)
    return _encode(
        {name: getattr(view, name) for name in view.__dataclass_fields__ if name not in SPLICED}
    )


def listed_event(
    document: bytes,
    organization: tuple[UUID, str, str],
    capacity: int | None,
    seats_taken: int,
) -> bytes:
    """The stored document with the organization and the seats left put in front."""
    ref = _organizations.get(organization)
    if ref is None:
        if len(_organizations) > 4096:
            _organizations.clear()
        ref = _organizations[organization] = _encode(OrganizationRef(*organization))
    seats = seats_available(capacity, seats_taken)
    return b"".join(
        (
            b'{"organization":',
            ref,
            b',"seats_available":',
            b"null" if seats is None else str(seats).encode(),
            b",",
            document[1:],
        )
    )
