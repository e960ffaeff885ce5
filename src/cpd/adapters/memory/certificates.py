"""Certificates, their templates and badges, and signing keys, in memory."""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import ClassVar
from uuid import UUID

from cpd.adapters.memory.base import ForeignKey, Keys, OnDelete, Tables, _page, _Repo, delete_rows
from cpd.adapters.repository_slots import RepositorySlot
from cpd.domain.certificate_design import Badge, CertificateTemplate
from cpd.domain.certificates import Certificate, CertificateStatus
from cpd.domain.credentials import SigningKey
from cpd.domain.errors import Conflict
from cpd.domain.pages import Page, PageRequest

ALREADY_CERTIFIED = "This person already has a certificate for this activity."


class MemoryCertificateRepository(_Repo):
    async def add(self, *certificates: Certificate) -> None:
        """All or nothing, as SQL's one statement: a clash anywhere in the batch (with a stored
        certificate or another of the batch) stores none of them."""
        stored = self._state.certificates
        seen: list[Certificate] = []
        for certificate in certificates:
            for other in (*stored.values(), *seen):
                if (other.activity.source_id, other.holder.user_id) == (
                    certificate.activity.source_id,
                    certificate.holder.user_id,
                ):
                    raise Conflict(ALREADY_CERTIFIED, field="user_id")
                if (
                    other.id == certificate.id
                    or other.verification_code == certificate.verification_code
                    or (
                        other.organization_id == certificate.organization_id
                        and other.sequence == certificate.sequence
                    )
                ):
                    raise Conflict("This change clashes with existing data.")
            seen.append(certificate)
        for certificate in certificates:
            stored[certificate.id] = copy.deepcopy(certificate)

    async def get(self, certificate_id: UUID) -> Certificate | None:
        return copy.deepcopy(self._state.certificates.get(certificate_id))

    get_for_update = get  # the transaction already holds the database lock

    async def by_code(self, verification_code: str) -> Certificate | None:
        found = (
            c for c in self._state.certificates.values() if c.verification_code == verification_code
        )
        return copy.deepcopy(next(found, None))

    async def save(self, certificate: Certificate) -> None:
        self._state.certificates[certificate.id] = copy.deepcopy(certificate)

    async def holders(self, source_id: UUID) -> set[UUID]:
        return {
            c.holder.user_id
            for c in self._state.certificates.values()
            if c.activity.source_id == source_id
        }

    async def for_activity(self, source_id: UUID, holder_id: UUID) -> Certificate | None:
        found = (
            c
            for c in self._state.certificates.values()
            if c.activity.source_id == source_id and c.holder.user_id == holder_id
        )
        return copy.deepcopy(next(found, None))

    async def unrendered(self, source_id: UUID, limit: int) -> list[Certificate]:
        found = sorted(
            (
                c
                for c in self._state.certificates.values()
                if c.activity.source_id == source_id
                and c.pdf_key is None
                and c.status is CertificateStatus.ISSUED
            ),
            key=lambda c: c.sequence,
        )
        return copy.deepcopy(found[:limit])

    async def record_pdf(self, certificate_id: UUID, version: int, key: str) -> bool:
        certificate = self._state.certificates.get(certificate_id)
        if certificate is None or certificate.version != version:
            return False
        changed = copy.deepcopy(certificate)
        changed.pdf_key = key
        self._state.certificates[certificate_id] = changed
        return True

    async def list_for_holder(self, user_id: UUID, page: PageRequest) -> Page[Certificate]:
        found = [c for c in self._state.certificates.values() if c.holder.user_id == user_id]
        found.sort(key=lambda c: (c.issued_at, c.id), reverse=True)
        return _page(copy.deepcopy(found), page)

    async def list_for_activity(self, source_id: UUID, page: PageRequest) -> Page[Certificate]:
        found = [c for c in self._state.certificates.values() if c.activity.source_id == source_id]
        found.sort(key=lambda c: (c.organization_id, c.sequence))
        return _page(copy.deepcopy(found), page)

    async def reserve_sequences(self, organization_id: UUID, count: int) -> int:
        if count < 1:
            raise ValueError("Reserve at least one certificate number.")
        last = self._state.certificate_sequences.get(organization_id, 0)
        self._state.certificate_sequences[organization_id] = last + count
        return last + 1

    async def last_sequence(self, organization_id: UUID) -> int:
        return self._state.certificate_sequences.get(organization_id, 0)

    async def badge_awarded(self, organization_id: UUID, badge_id: UUID) -> bool:
        return any(
            c.organization_id == organization_id and badge_id in c.badge_ids
            for c in self._state.certificates.values()
        )

    async def revoked_sequences(self, organization_id: UUID) -> list[int]:
        return sorted(
            c.sequence
            for c in self._state.certificates.values()
            if c.organization_id == organization_id and c.status is CertificateStatus.REVOKED
        )


class MemoryCertificateTemplateRepository(_Repo):
    async def add(self, template: CertificateTemplate) -> None:
        await self.save(template)

    async def get(self, template_id: UUID) -> CertificateTemplate | None:
        return copy.copy(self._state.certificate_templates.get(template_id))

    async def save(self, template: CertificateTemplate) -> None:
        templates = self._state.certificate_templates
        if template.is_default:
            for key, other in list(templates.items()):
                if other.organization_id == template.organization_id and other.is_default:
                    changed = copy.copy(other)
                    changed.is_default = False
                    templates[key] = changed
        templates[template.id] = copy.copy(template)

    async def delete(self, template_id: UUID) -> None:
        delete_rows(self._state, "certificate_templates", [template_id])

    async def list_for_organization(
        self, organization_id: UUID, page: PageRequest
    ) -> Page[CertificateTemplate]:
        found = [
            copy.copy(t)
            for t in self._state.certificate_templates.values()
            if t.organization_id == organization_id
        ]
        return _page(sorted(found, key=lambda t: (t.name.lower(), t.id)), page)

    async def default_for(self, organization_id: UUID) -> CertificateTemplate | None:
        found = (
            t
            for t in self._state.certificate_templates.values()
            if t.organization_id == organization_id and t.is_default
        )
        return copy.copy(next(found, None))


class MemoryBadgeRepository(_Repo):
    async def add(self, badge: Badge) -> None:
        self._state.badges[badge.id] = copy.copy(badge)

    async def get(self, badge_id: UUID) -> Badge | None:
        return copy.copy(self._state.badges.get(badge_id))

    async def get_many(self, badge_ids: Collection[UUID]) -> list[Badge]:
        badges = self._state.badges
        return [copy.copy(badges[i]) for i in dict.fromkeys(badge_ids) if i in badges]

    async def save(self, badge: Badge) -> None:
        self._state.badges[badge.id] = copy.copy(badge)

    async def delete(self, badge_id: UUID) -> None:
        delete_rows(self._state, "badges", [badge_id])

    async def list_for_organization(self, organization_id: UUID, page: PageRequest) -> Page[Badge]:
        found = [
            copy.copy(b)
            for b in self._state.badges.values()
            if b.organization_id == organization_id
        ]
        return _page(sorted(found, key=lambda b: (b.name.lower(), b.id)), page)

    async def awarded_for(self, organization_id: UUID, source_id: UUID) -> list[Badge]:
        found = [
            copy.copy(b)
            for b in self._state.badges.values()
            if b.organization_id == organization_id and source_id in b.awarded_for
        ]
        return sorted(found, key=lambda b: (b.name.lower(), b.id))


class MemorySigningKeyRepository(_Repo):
    async def add(self, organization_id: UUID, key: SigningKey) -> None:
        keys = self._state.signing_keys
        if any(k.kid == key.kid for found in keys.values() for k in found):
            raise Conflict("This change clashes with existing data.")
        keys[organization_id] = [key, *keys.get(organization_id, [])]

    async def for_organization(self, organization_id: UUID) -> list[SigningKey]:
        keys = self._state.signing_keys.get(organization_id, [])
        # Ties broken by kid, as the SQL adapter does (not by the order they were added in).
        return sorted(keys, key=lambda k: (k.created_at, k.kid), reverse=True)


@dataclass
class CertificatesTables(Tables):
    FOREIGN_KEYS: ClassVar[Keys] = (
        ForeignKey("certificates", "registration_id", "registrations", OnDelete.SET_NULL),
        ForeignKey("certificates", "enrollment_id", "enrollments", OnDelete.SET_NULL),
        ForeignKey("certificates", "template_id", "certificate_templates", OnDelete.SET_NULL),
    )

    certificates: dict[UUID, Certificate] = field(default_factory=dict)
    certificate_sequences: dict[UUID, int] = field(default_factory=dict)  # by organization
    certificate_templates: dict[UUID, CertificateTemplate] = field(default_factory=dict)
    badges: dict[UUID, Badge] = field(default_factory=dict)
    signing_keys: dict[UUID, list[SigningKey]] = field(default_factory=dict)  # by organization


class MemoryCertificates:
    """Certificates' repositories, one base of ``MemoryUnitOfWork``."""

    certificates = RepositorySlot(MemoryCertificateRepository)
    certificate_templates = RepositorySlot(MemoryCertificateTemplateRepository)
    badges = RepositorySlot(MemoryBadgeRepository)
    signing_keys = RepositorySlot(MemorySigningKeyRepository)
