"""Deterministic catalog data: the same 50 organizations and 10,000 events on every run."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cpd.domain.accounts import Organization
from cpd.domain.events import Event
from cpd.ports.unit_of_work import UnitOfWorkFactory

SEED = 20261126
TOPICS = [
    "ethics",
    "law",
    "audit",
    "tax",
    "leadership",
    "safeguarding",
    "finance",
    "risk",
    "compliance",
    "data",
    "health",
    "safety",
    "coaching",
    "governance",
    "marketing",
]
WORDS = [
    "practical",
    "advanced",
    "essential",
    "update",
    "masterclass",
    "workshop",
    "briefing",
    "conference",
    "clinic",
    "seminar",
    "forum",
    "bootcamp",
    "summit",
    "primer",
    "review",
]
CITIES = ["London", "Leeds", "Bristol", "Glasgow", "Cardiff", "Belfast", "Manchester", "York"]
ZONES = ["Europe/London", "Europe/Dublin", "Europe/Paris", "UTC"]
START = datetime(2027, 1, 4, 9, tzinfo=UTC)


async def seed_catalog(
    uow: UnitOfWorkFactory, *, organizations: int = 50, events: int = 10_000
) -> None:
    rng = random.Random(SEED)
    now = datetime(2026, 11, 26, tzinfo=UTC)
    orgs = [
        Organization.create(
            name=f"Institute {n:02d} of {rng.choice(TOPICS).title()}",
            slug=f"institute-{n:02d}",
            now=now,
            approved=True,
        )
        for n in range(organizations)
    ]
    async with uow() as tx:
        for org in orgs:
            await tx.organizations.add(org)
        await tx.commit()
    batch = 500
    for first in range(0, events, batch):
        async with uow() as tx:
            for n in range(first, min(first + batch, events)):
                await tx.events.add(_event(rng, n, orgs[n % organizations], now))
            await tx.commit()


def _event(rng: random.Random, n: int, org: Organization, now: datetime) -> Event:
    topic, other = rng.sample(TOPICS, 2)
    starts = START + timedelta(days=rng.randrange(0, 730), hours=rng.randrange(0, 8))
    sessions = [
        {
            "title": f"Part {i + 1}",
            "starts_at": starts + timedelta(days=i),
            "ends_at": starts + timedelta(days=i, hours=rng.choice([1, 2, 3])),
        }
        for i in range(rng.choice([1, 1, 2, 3]))
    ]
    online = rng.random() < 0.4
    city = rng.choice(CITIES)
    event = Event.create(
        organization_id=org.id,
        slug=f"event-{n:05d}",
        now=now,
        details={
            "title": f"{rng.choice(WORDS).title()} {topic} {rng.choice(WORDS)} {n}",
            "summary": f"A {rng.choice(WORDS)} on {topic} and {other} in {city}.",
            "format": "online" if online else rng.choice(["in_person", "hybrid"]),
            "venue": None
            if online
            else {"name": f"{city} Centre", "address": f"{n} Main St, {city}"},
            "timezone": rng.choice(ZONES),
            "capacity": rng.choice([None, 20, 50, 100, 250]),
            "price": {"amount": rng.choice([0, 0, 2500, 9900, 19900]), "currency": "GBP"},
            "cpd_credits": Decimal(rng.choice(["1", "1.5", "2", "3", "6.5"])),
            "tags": [topic, other],
        },
        sessions=sessions,
    )
    event.publish(now=now)
    return event
