"""Certificates, templates, badges, signing keys and jobs: one contract for every adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from cpd.adapters.memory.certificates import ALREADY_CERTIFIED
from cpd.adapters.sql import tables
from cpd.adapters.sql.conflicts import conflict_from
from cpd.adapters.sql.database import SqlDatabase, create_engine
from cpd.domain.accounts import Organization, User
from cpd.domain.certificate_design import Badge, BadgeImage, CertificateTemplate
from cpd.domain.certificates import (
    Activity,
    Certificate,
    CertificateSource,
    CertificateStatus,
    Holder,
    Logo,
)
from cpd.domain.courses import Course
from cpd.domain.credentials import SigningKey
from cpd.domain.errors import Conflict
from cpd.domain.events import Event
from cpd.domain.jobs import Job, JobStatus
from cpd.domain.pages import PageRequest
from cpd.domain.registrations import Registration
from tests.contract.builders import (
    T0,
    Backend,
    FrozenClock,
    given,
    make_course,
    make_enrollment,
    make_event,
    make_organization,
    make_registration,
    make_user,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))  # not a real image: bytes must survive as they are
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'


@dataclass
class World:
    """An organization with an event and a course, and people registered and enrolled."""

    organization: Organization
    event: Event
    course: Course
    people: list[User]
    registrations: list[Registration]


async def a_world(backend: Backend, people: int = 3) -> World:
    organization = make_organization(name="Royal Society", slug=f"rs-{uuid4().hex[:8]}")
    event = make_event(organization, cpd_credits=Decimal("12.25"), credit_category="Category 1")
    course = make_course(organization, cpd_credits=Decimal("3"))
    users = [make_user(first_name=f"Person{n}") for n in range(people)]
    registrations = [make_registration(event, user) for user in users]
    await given(backend, organization, *users, event, course, *registrations)
    return World(organization, event, course, users, registrations)


def event_activity(event: Event, **fields: object) -> Activity:
    activity = Activity(
        source=CertificateSource.EVENT,
        source_id=event.id,
        title=event.title,
        cpd_credits=event.cpd_credits,
        credit_category=event.credit_category,
        starts_on=date(2026, 3, 30),
        ends_on=date(2026, 4, 2),
    )
    return replace(activity, **fields)  # type: ignore[arg-type]


def course_activity(course: Course) -> Activity:
    return Activity(
        source=CertificateSource.COURSE,
        source_id=course.id,
        title=course.title,
        cpd_credits=course.cpd_credits,
        completed_on=date(2026, 2, 28),
    )


def a_certificate(
    world: World,
    person: int,
    sequence: int,
    *,
    activity: Activity | None = None,
    minutes: int = 0,
    **fields: object,
) -> Certificate:
    user = world.people[person]
    certificate = Certificate.issue(
        organization_id=world.organization.id,
        organization_slug=world.organization.slug,
        holder=Holder(user.id, f"{user.first_name} {user.last_name}"),
        activity=activity or event_activity(world.event),
        sequence=sequence,
        now=T0 + timedelta(minutes=minutes),
    )
    return replace(certificate, **fields)  # type: ignore[arg-type]


async def add(backend: Backend, *certificates: Certificate) -> None:
    async with backend.uow() as uow:
        await uow.certificates.add(*certificates)
        await uow.commit()


async def save(backend: Backend, certificate: Certificate) -> None:
    async with backend.uow() as uow:
        await uow.certificates.save(certificate)
        await uow.commit()


async def get(backend: Backend, certificate_id: UUID) -> Certificate | None:
    async with backend.uow() as uow:
        return await uow.certificates.get(certificate_id)


def a_template(
    organization: Organization, name: str = "Classic", *, is_default: bool = False
) -> CertificateTemplate:
    return CertificateTemplate(
        id=uuid4(),
        organization_id=organization.id,
        name=name,
        source=b"#let certificate(c) = [#c.holder_name]\n",
        created_at=T0,
        updated_at=T0,
        is_default=is_default,
    )


def a_badge(
    organization: Organization, name: str = "Life Support", *, awarded_for: tuple[UUID, ...] = ()
) -> Badge:
    return Badge(
        id=uuid4(),
        organization_id=organization.id,
        name=name,
        description="Completed advanced life support training.",
        criteria="Attend every session; pass the assessment.",
        created_at=T0,
        updated_at=T0,
        awarded_for=awarded_for,
    )


def a_signing_key(*, minutes: int = 0) -> SigningKey:
    return SigningKey(
        kid=f"kid-{uuid4().hex}",
        algorithm="EdDSA",
        public_jwk={
            "kty": "OKP",
            "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        },
        private_material=b"\x00wrapped\xff" + uuid4().bytes,
        created_at=T0 + timedelta(minutes=minutes),
    )


# -- Certificates ---------------------------------------------------------------------------


async def test_a_certificate_is_stored_as_issued(backend: Backend) -> None:
    world = await a_world(backend, people=2)
    staff = make_user(first_name="Staff")
    enrollment = make_enrollment(world.course, world.people[1])
    template, badge = a_template(world.organization), a_badge(world.organization)
    await given(backend, staff, enrollment)
    async with backend.uow() as uow:
        await uow.certificate_templates.add(template)
        await uow.badges.add(badge)
        await uow.commit()
    for_event = a_certificate(
        world,
        0,
        1,
        holder=Holder(world.people[0].id, "Zoë Łukasz-Ñúñez O'Brien", "GMC 7654321"),
        registration_id=world.registrations[0].id,
        template_id=template.id,
        badge_ids=(badge.id, uuid4()),
        issued_by=staff.id,
        override_reason="Attended the make-up session.",
        pdf_key="certificates/x/y-v1.pdf",
    )
    for_course = a_certificate(
        world, 1, 2, activity=course_activity(world.course), enrollment_id=enrollment.id
    )
    await add(backend, for_event, for_course)

    async with backend.uow() as uow:
        assert await uow.certificates.get(for_event.id) == for_event
        assert await uow.certificates.get_for_update(for_event.id) == for_event
        assert await uow.certificates.get(for_course.id) == for_course
        assert await uow.certificates.by_code(for_course.verification_code) == for_course
        assert await uow.certificates.by_code("0000-0000-0000-0000-00") is None
        got = await uow.certificates.for_activity(world.event.id, world.people[0].id)
        assert await uow.certificates.for_activity(world.event.id, world.people[1].id) is None
        assert await uow.certificates.get(uuid4()) is None
        assert await uow.certificates.get_for_update(uuid4()) is None
    assert got == for_event
    # Exactly as the domain spells them, not merely equal: 12.25 and 3, never 3.00.
    assert str(got.activity.cpd_credits) == "12.25"
    assert (got.activity.starts_on, got.activity.ends_on) == (date(2026, 3, 30), date(2026, 4, 2))
    assert type(got.activity.starts_on) is date
    assert isinstance(got.badge_ids, tuple)
    course_copy = await get(backend, for_course.id)
    assert course_copy is not None
    assert str(course_copy.activity.cpd_credits) == "3"
    assert course_copy.activity.completed_on == date(2026, 2, 28)
    assert course_copy.badge_ids == ()
    assert course_copy.issued_by is None


async def test_credits_keep_their_value_and_spelling(backend: Backend) -> None:
    world = await a_world(backend, people=3)
    credits = [Decimal("0.25"), Decimal("1.5"), Decimal("9999.99")]
    certificates = [
        a_certificate(world, n, n + 1, activity=event_activity(world.event, cpd_credits=value))
        for n, value in enumerate(credits)
    ]
    await add(backend, *certificates)

    for certificate, value in zip(certificates, credits, strict=True):
        stored = await get(backend, certificate.id)
        assert stored is not None
        assert str(stored.activity.cpd_credits) == str(value)


async def test_one_certificate_per_person_and_activity(backend: Backend) -> None:
    world = await a_world(backend, people=3)
    first = a_certificate(world, 0, 1)
    first.revoke("Issued in error.", now=T0)
    await add(backend, first)

    async with backend.uow() as uow:
        newcomer = a_certificate(world, 1, 2)
        with pytest.raises(Conflict) as raised:  # a revoked one still blocks another
            await uow.certificates.add(newcomer, a_certificate(world, 0, 3))
        assert raised.value.field == "user_id"
        assert str(raised.value) == ALREADY_CERTIFIED
        # The clash stored nothing of its batch and left the transaction usable.
        assert await uow.certificates.get(newcomer.id) is None
        await uow.certificates.add(a_certificate(world, 2, 4))
        await uow.commit()

    with pytest.raises(Conflict) as raised:  # twice in one batch
        await add(backend, a_certificate(world, 1, 5), a_certificate(world, 1, 6))
    assert raised.value.field == "user_id"
    # The same person for another activity, another person for this one: both fine.
    await add(
        backend,
        a_certificate(world, 0, 7, activity=course_activity(world.course)),
        a_certificate(world, 1, 8),
    )
    async with backend.uow() as uow:
        assert await uow.certificates.holders(world.event.id) == {p.id for p in world.people}


async def test_codes_and_an_organizations_sequences_are_unique(backend: Backend) -> None:
    world = await a_world(backend, people=3)
    other = await a_world(backend, people=1)
    first = a_certificate(world, 0, 1)
    await add(backend, first)

    with pytest.raises(Conflict):
        await add(backend, a_certificate(world, 1, 2, verification_code=first.verification_code))
    with pytest.raises(Conflict):
        await add(backend, a_certificate(world, 2, 1))
    await add(backend, a_certificate(other, 0, 1))  # numbering is per organization


async def test_revoking_and_reissuing_are_saved(backend: Backend) -> None:
    world = await a_world(backend, people=2)
    revoked, reissued = a_certificate(world, 0, 1), a_certificate(world, 1, 2, pdf_key="k.pdf")
    await add(backend, revoked, reissued)

    revoked.revoke("Did not attend.", now=T0 + timedelta(days=1))
    await save(backend, revoked)
    reissued.reissue(
        now=T0 + timedelta(days=2),
        holder=Holder(world.people[1].id, "Corrected Name", "NMC 12A3456B"),
        activity=event_activity(world.event, title="Corrected title", cpd_credits=Decimal("2")),
    )
    await save(backend, reissued)

    stored_revoked, stored_reissued = (
        await get(backend, revoked.id),
        await get(backend, reissued.id),
    )
    assert stored_revoked == revoked
    assert stored_revoked is not None
    assert stored_revoked.status is CertificateStatus.REVOKED
    assert stored_revoked.revoked_reason == "Did not attend."
    assert stored_reissued == reissued
    assert stored_reissued is not None
    assert (stored_reissued.version, stored_reissued.pdf_key) == (2, None)
    assert stored_reissued.verification_code == reissued.verification_code


async def test_holders_are_everyone_certified_for_the_activity(backend: Backend) -> None:
    world = await a_world(backend, people=3)
    revoked = a_certificate(world, 1, 2)
    revoked.revoke("Issued in error.", now=T0)
    await add(
        backend,
        a_certificate(world, 0, 1),
        revoked,
        a_certificate(world, 2, 3, activity=course_activity(world.course)),
    )

    async with backend.uow() as uow:
        assert await uow.certificates.holders(world.event.id) == {
            world.people[0].id,
            world.people[1].id,
        }
        assert await uow.certificates.holders(world.course.id) == {world.people[2].id}
        assert await uow.certificates.holders(uuid4()) == set()


async def test_unrendered_certificates_oldest_sequence_first(backend: Backend) -> None:
    world = await a_world(backend, people=6)
    revoked = a_certificate(world, 0, 1)
    revoked.revoke("Issued in error.", now=T0)
    await add(
        backend,
        a_certificate(world, 1, 6),
        revoked,
        a_certificate(world, 2, 3, pdf_key="certificates/rendered.pdf"),
        a_certificate(world, 3, 2),
        a_certificate(world, 4, 5, activity=course_activity(world.course)),
        a_certificate(world, 5, 4),
    )

    async with backend.uow() as uow:
        due = await uow.certificates.unrendered(world.event.id, limit=10)
        assert [c.sequence for c in due] == [2, 4, 6]
        assert [c.sequence for c in await uow.certificates.unrendered(world.event.id, 2)] == [2, 4]
        assert [c.sequence for c in await uow.certificates.unrendered(world.course.id, 10)] == [5]


async def test_a_pdf_is_recorded_for_the_current_version_only(backend: Backend) -> None:
    world = await a_world(backend, people=1)
    certificate = a_certificate(world, 0, 1)
    await add(backend, certificate)
    certificate.reissue(now=T0 + timedelta(hours=1))  # version 2 while version 1 renders
    await save(backend, certificate)

    async with backend.uow() as uow:
        assert await uow.certificates.record_pdf(certificate.id, 1, "v1.pdf") is False
        assert await uow.certificates.record_pdf(uuid4(), 2, "v2.pdf") is False
        stale = await uow.certificates.get(certificate.id)
        assert stale is not None
        assert stale.pdf_key is None
        assert await uow.certificates.record_pdf(certificate.id, 2, certificate.storage_key)
        await uow.commit()

    stored = await get(backend, certificate.id)
    assert stored is not None
    assert (stored.version, stored.pdf_key) == (2, certificate.storage_key)
    async with backend.uow() as uow:
        assert await uow.certificates.unrendered(world.event.id, 10) == []


async def test_a_holders_certificates_newest_first_and_an_activitys_by_sequence(
    backend: Backend,
) -> None:
    world = await a_world(backend, people=3)
    other = await a_world(backend, people=1)
    ada = world.people[0]
    course_one = a_certificate(world, 0, 4, activity=course_activity(world.course), minutes=30)
    event_one = a_certificate(world, 0, 2, minutes=10)
    elsewhere = replace(
        a_certificate(other, 0, 1, minutes=20),
        holder=Holder(ada.id, "Ada Lovelace"),
    )
    await add(
        backend,
        event_one,
        course_one,
        elsewhere,
        a_certificate(world, 1, 3, minutes=40),
        a_certificate(world, 2, 1, minutes=50),
    )

    async with backend.uow() as uow:
        mine = await uow.certificates.list_for_holder(ada.id, PageRequest(limit=2))
        rest = await uow.certificates.list_for_holder(ada.id, PageRequest(limit=2, offset=2))
        assert [c.id for c in mine.items] == [course_one.id, elsewhere.id]
        assert [c.id for c in rest.items] == [event_one.id]
        assert (mine.total, mine.limit, mine.offset) == (3, 2, 0)
        assert rest.total == 3
        nobody = await uow.certificates.list_for_holder(uuid4(), PageRequest())
        assert (nobody.items, nobody.total) == ([], 0)

        first = await uow.certificates.list_for_activity(world.event.id, PageRequest(limit=2))
        second = await uow.certificates.list_for_activity(
            world.event.id, PageRequest(limit=2, offset=2)
        )
        assert [c.sequence for c in first.items] == [1, 2]
        assert [c.sequence for c in second.items] == [3]
        assert (first.total, second.total) == (3, 3)


async def test_sequences_are_consecutive_and_per_organization(backend: Backend) -> None:
    first, second = make_organization(), make_organization()
    await given(backend, first, second)

    async with backend.uow() as uow:
        assert await uow.certificates.last_sequence(first.id) == 0
        assert await uow.certificates.reserve_sequences(first.id, 3) == 1  # 1, 2, 3
        assert await uow.certificates.reserve_sequences(first.id, 1) == 4
        assert await uow.certificates.reserve_sequences(second.id, 2) == 1
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.certificates.reserve_sequences(first.id, 10) == 5  # 5..14
        assert await uow.certificates.reserve_sequences(first.id, 1) == 15
        assert await uow.certificates.reserve_sequences(second.id, 1) == 3
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.certificates.last_sequence(first.id) == 15
        assert await uow.certificates.last_sequence(second.id) == 3
        with pytest.raises(ValueError, match="at least one"):
            await uow.certificates.reserve_sequences(first.id, 0)


async def test_sequences_of_a_rolled_back_transaction_are_reused(backend: Backend) -> None:
    organization = make_organization()
    await given(backend, organization)
    async with backend.uow() as uow:
        assert await uow.certificates.reserve_sequences(organization.id, 2) == 1
        await uow.commit()

    async with backend.uow() as uow:  # never committed
        assert await uow.certificates.reserve_sequences(organization.id, 5) == 3

    async def fail_after_reserving() -> None:
        async with backend.uow() as uow:
            assert await uow.certificates.reserve_sequences(organization.id, 4) == 3
            raise RuntimeError("the issuing failed")

    with pytest.raises(RuntimeError):
        await fail_after_reserving()

    async with backend.uow() as uow:
        assert await uow.certificates.last_sequence(organization.id) == 2  # nothing counted
        assert await uow.certificates.reserve_sequences(organization.id, 1) == 3  # no gap
        await uow.commit()


async def test_revoked_sequences_of_an_organization(backend: Backend) -> None:
    world = await a_world(backend, people=4)
    other = await a_world(backend, people=1)
    certificates = [a_certificate(world, n, sequence) for n, sequence in enumerate((7, 2, 5, 1))]
    elsewhere = a_certificate(other, 0, 3)
    for certificate in (certificates[0], certificates[1], certificates[3], elsewhere):
        certificate.revoke("Withdrawn.", now=T0)
    await add(backend, *certificates, elsewhere)

    async with backend.uow() as uow:
        assert await uow.certificates.revoked_sequences(world.organization.id) == [1, 2, 7]
        assert await uow.certificates.revoked_sequences(other.organization.id) == [3]
        assert await uow.certificates.revoked_sequences(uuid4()) == []


async def test_whether_a_badge_was_awarded_with_an_organization_s_certificates(
    backend: Backend,
) -> None:
    world = await a_world(backend, people=2)
    other = await a_world(backend, people=1)
    carried, unused = uuid4(), uuid4()
    await add(
        backend,
        a_certificate(world, 0, 1, badge_ids=(uuid4(), carried)),
        a_certificate(world, 1, 2),
        a_certificate(other, 0, 1, badge_ids=(unused,)),
    )
    async with backend.uow() as uow:
        assert await uow.certificates.badge_awarded(world.organization.id, carried)
        assert not await uow.certificates.badge_awarded(world.organization.id, unused)
        assert not await uow.certificates.badge_awarded(other.organization.id, carried)
        assert await uow.certificates.badge_awarded(other.organization.id, unused)


async def test_deleted_registrations_and_enrollments_are_forgotten(backend: Backend) -> None:
    """The certificate stays (SQL's ON DELETE SET NULL) when its event or course goes."""
    world = await a_world(backend, people=2)
    enrollment = make_enrollment(world.course, world.people[1])
    await given(backend, enrollment)
    for_event = a_certificate(world, 0, 1, registration_id=world.registrations[0].id)
    for_course = a_certificate(
        world, 1, 2, activity=course_activity(world.course), enrollment_id=enrollment.id
    )
    await add(backend, for_event, for_course)

    async with backend.uow() as uow:
        await uow.events.delete(world.event.id)
        await uow.courses.delete(world.course.id)
        await uow.commit()

    assert await get(backend, for_event.id) == replace(for_event, registration_id=None)
    assert await get(backend, for_course.id) == replace(for_course, enrollment_id=None)


# -- Templates ------------------------------------------------------------------------------


async def test_a_template_is_stored_with_its_logo(backend: Backend) -> None:
    organization = make_organization()
    await given(backend, organization)
    plain = a_template(organization, "plain")
    branded = replace(
        a_template(organization, "Branded"),
        logo=Logo(PNG, "image/png"),
        signatory_name="Dr Αλέξανδρος Smith",
        signatory_title="Director of Education",
    )
    async with backend.uow() as uow:
        await uow.certificate_templates.add(plain)
        await uow.certificate_templates.add(branded)
        await uow.commit()

    branded.update({"logo": Logo(SVG, "image/svg+xml"), "name": "Zebra"}, now=T0 + timedelta(1))
    async with backend.uow() as uow:
        assert await uow.certificate_templates.get(plain.id) == plain
        assert await uow.certificate_templates.get(branded.id) != branded
        await uow.certificate_templates.save(branded)
        await uow.commit()

    async with backend.uow() as uow:
        stored = await uow.certificate_templates.get(branded.id)
        assert stored == branded
        assert stored is not None
        assert stored.logo == Logo(SVG, "image/svg+xml")
        assert await uow.certificate_templates.get(uuid4()) is None
        listed = await uow.certificate_templates.list_for_organization(
            organization.id, PageRequest()
        )
        assert [t.name for t in listed.items] == ["plain", "Zebra"]  # by name, any case
        assert (
            await uow.certificate_templates.list_for_organization(uuid4(), PageRequest())
        ).items == []
        assert await uow.certificate_templates.default_for(organization.id) is None


async def test_one_default_template_per_organization(backend: Backend) -> None:
    organization, other = make_organization(), make_organization()
    await given(backend, organization, other)
    first = a_template(organization, "First", is_default=True)
    second = a_template(organization, "Second", is_default=True)
    plain = a_template(organization, "Plain")
    elsewhere = a_template(other, "Elsewhere", is_default=True)

    async with backend.uow() as uow:
        await uow.certificate_templates.add(elsewhere)
        await uow.certificate_templates.add(first)
        await uow.certificate_templates.add(second)  # takes over
        await uow.certificate_templates.add(plain)  # not a default: changes nothing
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.certificate_templates.default_for(organization.id) == second
        stored_first = await uow.certificate_templates.get(first.id)
        assert stored_first is not None
        assert stored_first.is_default is False
        assert await uow.certificate_templates.default_for(other.id) == elsewhere

        first.update({"is_default": True}, now=T0 + timedelta(hours=1))
        await uow.certificate_templates.save(first)  # takes it back
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.certificate_templates.default_for(organization.id) == first
        templates = await uow.certificate_templates.list_for_organization(
            organization.id, PageRequest()
        )
        assert [(t.name, t.is_default) for t in templates.items] == [
            ("First", True),
            ("Plain", False),
            ("Second", False),
        ]
        assert await uow.certificate_templates.default_for(other.id) == elsewhere


async def test_the_schema_itself_allows_one_default_template(backend: Backend) -> None:
    """Should two transactions race past ``save``'s clearing, the index answers Conflict."""
    if not isinstance(backend.database, SqlDatabase):
        pytest.skip("the partial unique index of the SQL schema")
    organization = make_organization()
    await given(backend, organization)
    async with backend.uow() as uow:
        await uow.certificate_templates.add(a_template(organization, is_default=True))
        await uow.commit()

    second = a_template(organization, "Second", is_default=True)
    row = {
        "id": second.id,
        "organization_id": organization.id,
        "name": second.name,
        "source": second.source,
        "is_default": True,
        "created_at": T0,
        "updated_at": T0,
    }
    async with backend.database.engine.connect() as connection:
        with pytest.raises(IntegrityError) as raised:
            await connection.execute(insert(tables.certificate_templates).values(row))
    conflict = conflict_from(raised.value)
    assert conflict.field == "is_default"


async def test_deleting_a_template_leaves_its_certificates_without_one(backend: Backend) -> None:
    world = await a_world(backend, people=1)
    template = a_template(world.organization, is_default=True)
    async with backend.uow() as uow:
        await uow.certificate_templates.add(template)
        await uow.commit()
    certificate = a_certificate(world, 0, 1, template_id=template.id)
    await add(backend, certificate)

    async with backend.uow() as uow:
        await uow.certificate_templates.delete(template.id)
        await uow.certificate_templates.delete(uuid4())  # unknown: nothing happens
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.certificate_templates.get(template.id) is None
        assert await uow.certificate_templates.default_for(world.organization.id) is None
        assert await uow.certificates.get(certificate.id) == replace(certificate, template_id=None)


# -- Badges ---------------------------------------------------------------------------------


async def test_a_badge_is_stored_with_its_image_and_activities(backend: Backend) -> None:
    organization = make_organization()
    await given(backend, organization)
    event_id, course_id = uuid4(), uuid4()
    badge = replace(
        a_badge(organization, awarded_for=(event_id, course_id)),
        image=BadgeImage(PNG, "image/png"),
    )
    bare = a_badge(organization, "Bare")
    async with backend.uow() as uow:
        await uow.badges.add(badge)
        await uow.badges.add(bare)
        await uow.commit()

    async with backend.uow() as uow:
        stored = await uow.badges.get(badge.id)
        assert stored == badge
        assert stored is not None
        assert stored.awarded_for == (event_id, course_id)
        assert isinstance(stored.awarded_for, tuple)
        assert await uow.badges.get(bare.id) == bare
        assert await uow.badges.get(uuid4()) is None

    badge.update(
        {"image": BadgeImage(SVG, "image/svg+xml"), "awarded_for": [course_id], "name": "Renamed"},
        now=T0 + timedelta(days=1),
    )
    async with backend.uow() as uow:
        await uow.badges.save(badge)
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.badges.get(badge.id) == badge
        await uow.badges.delete(bare.id)
        await uow.badges.delete(uuid4())
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.badges.get(bare.id) is None


async def test_badges_by_id_by_name_and_by_activity(backend: Backend) -> None:
    organization, other = make_organization(), make_organization()
    await given(backend, organization, other)
    event_id, course_id = uuid4(), uuid4()
    zeta = a_badge(organization, "zeta", awarded_for=(event_id,))
    alpha = a_badge(organization, "Alpha", awarded_for=(course_id, event_id))
    mid = a_badge(organization, "Mid", awarded_for=(course_id,))
    theirs = a_badge(other, "Theirs", awarded_for=(event_id,))
    async with backend.uow() as uow:
        for badge in (zeta, alpha, mid, theirs):
            await uow.badges.add(badge)
        await uow.commit()

    async with backend.uow() as uow:
        many = await uow.badges.get_many([mid.id, uuid4(), zeta.id, mid.id])
        assert [b.id for b in many] == [mid.id, zeta.id]  # as asked, each once
        assert await uow.badges.get_many([]) == []

        first = await uow.badges.list_for_organization(organization.id, PageRequest(limit=2))
        rest = await uow.badges.list_for_organization(
            organization.id, PageRequest(limit=2, offset=2)
        )
        assert [b.name for b in first.items] == ["Alpha", "Mid"]
        assert [b.name for b in rest.items] == ["zeta"]
        assert (first.total, rest.total) == (3, 3)

        for_event = await uow.badges.awarded_for(organization.id, event_id)
        assert [b.name for b in for_event] == ["Alpha", "zeta"]
        for_course = await uow.badges.awarded_for(organization.id, course_id)
        assert [b.name for b in for_course] == ["Alpha", "Mid"]
        assert [b.name for b in await uow.badges.awarded_for(other.id, event_id)] == ["Theirs"]
        assert await uow.badges.awarded_for(organization.id, uuid4()) == []


# -- Signing keys and jobs ------------------------------------------------------------------


async def test_signing_keys_newest_first_per_organization(backend: Backend) -> None:
    organization, other = make_organization(), make_organization()
    await given(backend, organization, other)
    old, new, newest = a_signing_key(minutes=0), a_signing_key(minutes=5), a_signing_key(minutes=9)
    theirs = a_signing_key(minutes=1)
    async with backend.uow() as uow:
        await uow.signing_keys.add(organization.id, new)
        await uow.signing_keys.add(organization.id, old)
        await uow.signing_keys.add(other.id, theirs)
        await uow.signing_keys.add(organization.id, newest)
        await uow.commit()

    async with backend.uow() as uow:
        keys = await uow.signing_keys.for_organization(organization.id)
        assert keys == [newest, new, old]
        assert dict(keys[0].public_jwk) == dict(newest.public_jwk)
        assert keys[0].private_material == newest.private_material
        assert await uow.signing_keys.for_organization(other.id) == [theirs]
        assert await uow.signing_keys.for_organization(uuid4()) == []

    async def add_again() -> None:
        async with backend.uow() as uow:
            await uow.signing_keys.add(other.id, replace(old, created_at=T0 + timedelta(hours=1)))
            await uow.commit()

    with pytest.raises(Conflict):  # a key id names one key
        await add_again()


async def test_a_job_is_stored_and_saved_with_its_progress(backend: Backend) -> None:
    organization, staff = make_organization(), make_user()
    await given(backend, organization, staff)
    job = Job.queue(
        "issue_certificates",
        organization_id=organization.id,
        subject_id=uuid4(),
        now=T0,
        created_by=staff.id,
    )
    automatic = Job.queue(
        "issue_certificates",
        organization_id=organization.id,
        subject_id=uuid4(),
        now=T0,
        created_by=None,
    )
    async with backend.uow() as uow:
        await uow.jobs.add(job)
        await uow.jobs.add(automatic)
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.jobs.get(job.id) == job
        assert await uow.jobs.get(automatic.id) == automatic
        assert await uow.jobs.get(uuid4()) is None

    job.start(5, now=T0 + timedelta(seconds=1))
    job.progress(done=3, failed=2, errors=("Zoë: no attendance", "Bob: no name"))
    job.finish(now=T0 + timedelta(seconds=9))
    async with backend.uow() as uow:
        await uow.jobs.save(job)
        await uow.commit()

    async with backend.uow() as uow:
        stored = await uow.jobs.get(job.id)
    assert stored == job
    assert stored is not None
    assert stored.status is JobStatus.FAILED
    assert stored.errors == ("Zoë: no attendance", "Bob: no name")
    assert (stored.total, stored.done, stored.failed) == (5, 3, 2)


# -- PostgreSQL: reservations racing over separate connections ----------------------------

RACERS = 20


@pytest.fixture
async def pg_database(postgres_database: str) -> AsyncIterator[SqlDatabase]:
    database = SqlDatabase(create_engine(postgres_database, pool_size=RACERS), FrozenClock(T0).now)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.mark.postgres
async def test_concurrent_reservations_get_disjoint_gapless_ranges(
    pg_database: SqlDatabase,
) -> None:
    """Every transaction has begun before any reserves, so all of them race for the row; some
    roll back, and their numbers go to those that commit."""
    organization = make_organization()
    async with pg_database.unit_of_work() as uow:
        await uow.organizations.add(organization)
        await uow.commit()
    all_in = asyncio.Barrier(RACERS)

    async def reserve(n: int) -> range | None:
        count = n % 4 + 1
        async with pg_database.unit_of_work() as uow:
            await uow.organizations.get(organization.id)  # the transaction is under way
            await all_in.wait()
            first = await uow.certificates.reserve_sequences(organization.id, count)
            await asyncio.sleep(0.005)  # hold the row a moment: the others queue behind it
            if n % 5 == 4:
                return None  # rolled back
            await uow.commit()
        return range(first, first + count)

    ranges = await asyncio.gather(*(reserve(n) for n in range(RACERS)))

    taken = sorted(number for numbers in ranges if numbers is not None for number in numbers)
    assert taken == list(range(1, len(taken) + 1)), ranges  # disjoint, and no gaps
    assert len(taken) == sum(n % 4 + 1 for n in range(RACERS) if n % 5 != 4)
    async with pg_database.unit_of_work() as uow:
        assert await uow.certificates.reserve_sequences(organization.id, 1) == len(taken) + 1
