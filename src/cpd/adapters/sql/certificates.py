"""Certificates, their templates and badges, and signing keys over SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Select, Text, cast, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from cpd.adapters.repository_slots import RepositorySlot
from cpd.adapters.sql import tables as t
from cpd.adapters.sql.base import _dialect_insert, _Repository
from cpd.adapters.sql.conflicts import conflict_from
from cpd.domain.certificate_design import Badge, BadgeImage, CertificateTemplate
from cpd.domain.certificates import (
    Activity,
    Certificate,
    CertificateSource,
    CertificateStatus,
    Holder,
    Logo,
)
from cpd.domain.credentials import SigningKey
from cpd.domain.money import canonical_credits
from cpd.domain.pages import Page, PageRequest


def _ids(values: Collection[UUID]) -> list[str]:
    """A tuple of ids as a JSON column holds it."""
    return [str(value) for value in values]


def _certificate_values(certificate: Certificate) -> dict[str, Any]:
    holder, activity = certificate.holder, certificate.activity
    return {
        "id": certificate.id,
        "organization_id": certificate.organization_id,
        "holder_id": holder.user_id,
        "holder_name": holder.name,
        "registration_number": holder.registration_number,
        "source": activity.source.value,
        "source_id": activity.source_id,
        "title": activity.title,
        "cpd_credits": activity.cpd_credits,
        "credit_category": activity.credit_category,
        "starts_on": activity.starts_on,
        "ends_on": activity.ends_on,
        "completed_on": activity.completed_on,
        "sequence": certificate.sequence,
        "serial_number": certificate.serial_number,
        "verification_code": certificate.verification_code,
        "issued_at": certificate.issued_at,
        "registration_id": certificate.registration_id,
        "enrollment_id": certificate.enrollment_id,
        "template_id": certificate.template_id,
        "badge_ids": _ids(certificate.badge_ids),
        "issued_by": certificate.issued_by,
        "override_reason": certificate.override_reason,
        "version": certificate.version,
        "status": certificate.status.value,
        "revoked_at": certificate.revoked_at,
        "revoked_reason": certificate.revoked_reason,
        "pdf_key": certificate.pdf_key,
        "updated_at": certificate.updated_at,
    }


def _certificate(row: Row[Any]) -> Certificate:
    return Certificate(
        id=row.id,
        organization_id=row.organization_id,
        holder=Holder(row.holder_id, row.holder_name, row.registration_number),
        activity=Activity(
            source=CertificateSource(row.source),
            source_id=row.source_id,
            title=row.title,
            # NUMERIC(6, 2) reads back as 1.50; the domain spells it 1.5.
            cpd_credits=canonical_credits(row.cpd_credits),
            credit_category=row.credit_category,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            completed_on=row.completed_on,
        ),
        sequence=row.sequence,
        serial_number=row.serial_number,
        verification_code=row.verification_code,
        issued_at=row.issued_at,
        registration_id=row.registration_id,
        enrollment_id=row.enrollment_id,
        template_id=row.template_id,
        badge_ids=tuple(UUID(badge_id) for badge_id in row.badge_ids),
        issued_by=row.issued_by,
        override_reason=row.override_reason,
        version=row.version,
        status=CertificateStatus(row.status),
        revoked_at=row.revoked_at,
        revoked_reason=row.revoked_reason,
        pdf_key=row.pdf_key,
        updated_at=row.updated_at,
    )


class SqlCertificateRepository(_Repository):
    _c = t.certificates.c

    async def add(self, *certificates: Certificate) -> None:
        """One statement for the lot, in a savepoint: a clash raises Conflict here, stores none
        of them and leaves the surrounding transaction usable (as the memory adapter does)."""
        if not certificates:
            return
        try:
            async with self._db.begin_nested():
                await self._db.execute(
                    insert(t.certificates), [_certificate_values(c) for c in certificates]
                )
        except IntegrityError as error:
            raise conflict_from(error) from None

    async def get(self, certificate_id: UUID) -> Certificate | None:
        return await self._one(select(t.certificates).where(self._c.id == certificate_id))

    async def get_for_update(self, certificate_id: UUID) -> Certificate | None:
        """``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises."""
        query = select(t.certificates).where(self._c.id == certificate_id).with_for_update()
        return await self._one(query)

    async def by_code(self, verification_code: str) -> Certificate | None:
        return await self._one(
            select(t.certificates).where(self._c.verification_code == verification_code)
        )

    async def save(self, certificate: Certificate) -> None:
        values = _certificate_values(certificate)
        del values["id"], values["organization_id"]
        await self._db.execute(
            update(t.certificates).where(self._c.id == certificate.id).values(values)
        )

    async def holders(self, source_id: UUID) -> set[UUID]:
        query = select(self._c.holder_id).where(self._c.source_id == source_id)
        return set((await self._db.execute(query)).scalars())

    async def for_activity(self, source_id: UUID, holder_id: UUID) -> Certificate | None:
        c = self._c
        return await self._one(
            select(t.certificates).where(c.source_id == source_id, c.holder_id == holder_id)
        )

    async def unrendered(self, source_id: UUID, limit: int) -> list[Certificate]:
        c = self._c
        query = (
            select(t.certificates)
            .where(
                c.source_id == source_id,
                c.pdf_key.is_(None),
                c.status == CertificateStatus.ISSUED.value,
            )
            .order_by(c.sequence, c.id)
            .limit(limit)
        )
        return [_certificate(row) for row in await self._db.execute(query)]

    async def record_pdf(self, certificate_id: UUID, version: int, key: str) -> bool:
        """Conditional on the version, so a render of an outdated version writes nothing."""
        c = self._c
        result = await self._db.execute(
            update(t.certificates)
            .where(c.id == certificate_id, c.version == version)
            .values(pdf_key=key)
        )
        return bool(result.rowcount == 1)

    async def list_for_holder(self, user_id: UUID, page: PageRequest) -> Page[Certificate]:
        c = self._c
        query = (
            select(t.certificates)
            .where(c.holder_id == user_id)
            .order_by(c.issued_at.desc(), c.id.desc())
        )
        return await self._page(query, page, _certificate)

    async def list_for_activity(self, source_id: UUID, page: PageRequest) -> Page[Certificate]:
        c = self._c
        query = (
            select(t.certificates)
            .where(c.source_id == source_id)
            .order_by(c.organization_id, c.sequence)
        )
        return await self._page(query, page, _certificate)

    async def reserve_sequences(self, organization_id: UUID, count: int) -> int:
        """One upsert: the row lock it takes makes a concurrent reservation wait for this
        transaction's end, then count on from what it committed (or from the old value if it
        rolled back, so the numbers are reused)."""
        if count < 1:
            raise ValueError("Reserve at least one certificate number.")
        s = t.certificate_sequences.c
        statement = (
            _dialect_insert(self._db)(t.certificate_sequences)
            .values(organization_id=organization_id, last_sequence=count)
            .on_conflict_do_update(
                index_elements=[s.organization_id],
                set_={"last_sequence": s.last_sequence + count},
            )
            .returning(s.last_sequence)
        )
        last = int((await self._db.execute(statement)).scalar_one())
        return last - count + 1

    async def last_sequence(self, organization_id: UUID) -> int:
        s = t.certificate_sequences.c
        query = select(s.last_sequence).where(s.organization_id == organization_id)
        return int((await self._db.execute(query)).scalar() or 0)

    async def badge_awarded(self, organization_id: UUID, badge_id: UUID) -> bool:
        c = self._c
        # As ``awarded_for``: each id is a quoted fixed-length string in the JSON text.
        carried = cast(c.badge_ids, Text).contains(f'"{badge_id}"', autoescape=True)
        query = select(c.id).where(c.organization_id == organization_id, carried).limit(1)
        return (await self._db.execute(query)).first() is not None

    async def revoked_sequences(self, organization_id: UUID) -> list[int]:
        c = self._c
        query = (
            select(c.sequence)
            .where(
                c.organization_id == organization_id,
                c.status == CertificateStatus.REVOKED.value,
            )
            .order_by(c.sequence)
        )
        return list((await self._db.execute(query)).scalars())

    async def _one(self, query: Select[Any]) -> Certificate | None:
        row = (await self._db.execute(query)).first()
        return _certificate(row) if row else None


def _template_values(template: CertificateTemplate) -> dict[str, Any]:
    logo = template.logo
    return {
        "id": template.id,
        "organization_id": template.organization_id,
        "name": template.name,
        "source": template.source,
        "logo_data": logo.data if logo else None,
        "logo_mime": logo.mime if logo else None,
        "signatory_name": template.signatory_name,
        "signatory_title": template.signatory_title,
        "is_default": template.is_default,
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


def _template(row: Row[Any]) -> CertificateTemplate:
    return CertificateTemplate(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        source=bytes(row.source),
        created_at=row.created_at,
        updated_at=row.updated_at,
        logo=None if row.logo_data is None else Logo(bytes(row.logo_data), row.logo_mime),
        signatory_name=row.signatory_name,
        signatory_title=row.signatory_title,
        is_default=row.is_default,
    )


class SqlCertificateTemplateRepository(_Repository):
    _c = t.certificate_templates.c

    async def add(self, template: CertificateTemplate) -> None:
        await self._clear_default(template)
        await self._db.execute(insert(t.certificate_templates).values(_template_values(template)))

    async def get(self, template_id: UUID) -> CertificateTemplate | None:
        query = select(t.certificate_templates).where(self._c.id == template_id)
        row = (await self._db.execute(query)).first()
        return _template(row) if row else None

    async def save(self, template: CertificateTemplate) -> None:
        await self._clear_default(template)
        values = _template_values(template)
        for fixed in ("id", "organization_id", "created_at"):
            del values[fixed]
        await self._db.execute(
            update(t.certificate_templates).where(self._c.id == template.id).values(values)
        )

    async def _clear_default(self, template: CertificateTemplate) -> None:
        """Before writing a default: the partial unique index allows one per organization."""
        if not template.is_default:
            return
        c = self._c
        await self._db.execute(
            update(t.certificate_templates)
            .where(
                c.organization_id == template.organization_id,
                c.is_default.is_(True),
                c.id != template.id,
            )
            .values(is_default=False)
        )

    async def delete(self, template_id: UUID) -> None:
        """Its certificates keep theirs as NULL (ON DELETE SET NULL): the default renders them."""
        await self._db.execute(delete(t.certificate_templates).where(self._c.id == template_id))

    async def list_for_organization(
        self, organization_id: UUID, page: PageRequest
    ) -> Page[CertificateTemplate]:
        c = self._c
        query = (
            select(t.certificate_templates)
            .where(c.organization_id == organization_id)
            .order_by(func.lower(c.name), c.id)
        )
        return await self._page(query, page, _template)

    async def default_for(self, organization_id: UUID) -> CertificateTemplate | None:
        c = self._c
        query = select(t.certificate_templates).where(
            c.organization_id == organization_id, c.is_default.is_(True)
        )
        row = (await self._db.execute(query)).first()
        return _template(row) if row else None


def _badge_values(badge: Badge) -> dict[str, Any]:
    image = badge.image
    return {
        "id": badge.id,
        "organization_id": badge.organization_id,
        "name": badge.name,
        "description": badge.description,
        "criteria": badge.criteria,
        "image_data": image.data if image else None,
        "image_mime": image.mime if image else None,
        "awarded_for": _ids(badge.awarded_for),
        "created_at": badge.created_at,
        "updated_at": badge.updated_at,
    }


def _badge(row: Row[Any]) -> Badge:
    return Badge(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        description=row.description,
        criteria=row.criteria,
        created_at=row.created_at,
        updated_at=row.updated_at,
        image=None if row.image_data is None else BadgeImage(bytes(row.image_data), row.image_mime),
        awarded_for=tuple(UUID(source_id) for source_id in row.awarded_for),
    )


class SqlBadgeRepository(_Repository):
    _c = t.badges.c

    async def add(self, badge: Badge) -> None:
        await self._db.execute(insert(t.badges).values(_badge_values(badge)))

    async def get(self, badge_id: UUID) -> Badge | None:
        row = (await self._db.execute(select(t.badges).where(self._c.id == badge_id))).first()
        return _badge(row) if row else None

    async def get_many(self, badge_ids: Collection[UUID]) -> list[Badge]:
        """The badges that exist, in the order asked for (each once)."""
        wanted = list(dict.fromkeys(badge_ids))
        if not wanted:
            return []
        rows = await self._db.execute(select(t.badges).where(self._c.id.in_(wanted)))
        found = {row.id: _badge(row) for row in rows}
        return [found[badge_id] for badge_id in wanted if badge_id in found]

    async def save(self, badge: Badge) -> None:
        values = _badge_values(badge)
        for fixed in ("id", "organization_id", "created_at"):
            del values[fixed]
        await self._db.execute(update(t.badges).where(self._c.id == badge.id).values(values))

    async def delete(self, badge_id: UUID) -> None:
        await self._db.execute(delete(t.badges).where(self._c.id == badge_id))

    async def list_for_organization(self, organization_id: UUID, page: PageRequest) -> Page[Badge]:
        c = self._c
        query = (
            select(t.badges)
            .where(c.organization_id == organization_id)
            .order_by(func.lower(c.name), c.id)
        )
        return await self._page(query, page, _badge)

    async def awarded_for(self, organization_id: UUID, source_id: UUID) -> list[Badge]:
        c = self._c
        # The JSON text of the list holds each id as a quoted, fixed-length string, so this
        # matches an element exactly, the same on PostgreSQL (jsonb::text) and SQLite.
        listed = cast(c.awarded_for, Text).contains(f'"{source_id}"', autoescape=True)
        query = (
            select(t.badges)
            .where(c.organization_id == organization_id, listed)
            .order_by(func.lower(c.name), c.id)
        )
        return [_badge(row) for row in await self._db.execute(query)]


def _signing_key(row: Row[Any]) -> SigningKey:
    return SigningKey(
        kid=row.kid,
        algorithm=row.algorithm,
        public_jwk=dict(row.public_jwk),
        private_material=bytes(row.private_material),
        created_at=row.created_at,
    )


class SqlSigningKeyRepository(_Repository):
    _c = t.signing_keys.c

    async def add(self, organization_id: UUID, key: SigningKey) -> None:
        await self._db.execute(
            insert(t.signing_keys).values(
                kid=key.kid,
                organization_id=organization_id,
                algorithm=key.algorithm,
                public_jwk=dict(key.public_jwk),
                private_material=key.private_material,
                created_at=key.created_at,
            )
        )

    async def for_organization(self, organization_id: UUID) -> list[SigningKey]:
        c = self._c
        query = (
            select(t.signing_keys)
            .where(c.organization_id == organization_id)
            .order_by(c.created_at.desc(), c.kid.desc())
        )
        return [_signing_key(row) for row in await self._db.execute(query)]


class SqlCertificates:
    """Certificates' repositories, one base of ``SqlUnitOfWork``."""

    certificates = RepositorySlot(SqlCertificateRepository)
    certificate_templates = RepositorySlot(SqlCertificateTemplateRepository)
    badges = RepositorySlot(SqlBadgeRepository)
    signing_keys = RepositorySlot(SqlSigningKeyRepository)
