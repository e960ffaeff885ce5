"""Certificates as signed Open Badges 3.0 credentials: the credential itself, the issuer's
public keys and profile, and the status lists where revocation shows.

Everything a verifier needs is public and unauthenticated (JWKS, status lists, issuer
profile); only the credential itself is for its holder and the organization's staff. An
organization's signing key is made the first time one is needed.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID

from cpd.domain.accounts import Actor, Organization
from cpd.domain.certificate_design import Badge
from cpd.domain.certificates import Activity, Certificate, CertificateSource, status_position
from cpd.domain.credentials import (
    AchievementFacts,
    BitstringStatusList,
    CredentialFacts,
    CredentialUrls,
    IssuerProfile,
    SigningKey,
    StatusEntry,
    achievement_document,
    issuer_profile_document,
    open_badge_credential,
    pseudonymous_subject_id,
    status_list_credential,
)
from cpd.domain.errors import NotFound
from cpd.ports.certificates import CredentialSigner
from cpd.ports.platform import Clock
from cpd.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cpd.services.certificates.eligibility import course_activity, event_activity
from cpd.services.common.access import is_staff

CERTIFICATE_NOT_FOUND = "Certificate not found."
ORGANIZATION_NOT_FOUND = "Organization not found."
STATUS_LIST_NOT_FOUND = "Status list not found."


class CredentialService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        clock: Clock,
        signer: CredentialSigner,
        urls: CredentialUrls,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._signer = signer
        self._urls = urls

    async def credential(self, actor: Actor, certificate_id: UUID) -> str:
        """The certificate as a signed ``OpenBadgeCredential`` (a compact VC-JWT), for its
        holder and the organization's staff; anyone else is told it does not exist. A revoked
        certificate's credential is still served: its status list entry says it is revoked."""
        async with self._uow() as uow:
            certificate = await uow.certificates.get(certificate_id)
            if certificate is None or not await self._may_see(uow, actor, certificate):
                raise NotFound(CERTIFICATE_NOT_FOUND)
            organization = await uow.organizations.get(certificate.organization_id)
            if organization is None:
                raise NotFound(CERTIFICATE_NOT_FOUND)
            badge = await self._badge_of(uow, certificate)
            key = await self._signing_key(uow, organization)
        facts = self._facts(certificate, organization, badge)
        return self._signer.sign(open_badge_credential(facts), key)

    async def jwks(self, organization_slug: str) -> dict[str, object]:
        """Every public key of the organization, newest first: a credential signed before a
        new key was made still verifies. It always holds the key the next credential will be
        signed with (made now if need be), so a verifier's cached copy is never behind."""
        async with self._uow() as uow:
            organization = await self._organization(uow, organization_slug)
            await self._signing_key(uow, organization)  # the key that will sign is listed
            keys = await uow.signing_keys.for_organization(organization.id)
        return self._signer.public_jwks(keys)

    async def status_list(self, organization_slug: str, list_number: int) -> str:
        """The signed ``BitstringStatusListCredential`` numbered ``list_number`` (from 1), its
        bits set for the revoked certificates placed in it; lists that no certificate has
        reached yet do not exist. Built on every call, so a revocation shows at once."""
        if list_number < 1:
            raise NotFound(STATUS_LIST_NOT_FOUND)
        async with self._uow() as uow:
            organization = await self._organization(uow, organization_slug)
            last = await uow.certificates.last_sequence(organization.id)
            if last < 1 or list_number > status_position(last)[0]:
                raise NotFound(STATUS_LIST_NOT_FOUND)
            revoked = await uow.certificates.revoked_sequences(organization.id)
            key = await self._signing_key(uow, organization)
        bits = BitstringStatusList.with_set(
            index
            for number, index in (status_position(sequence) for sequence in revoked)
            if number == list_number
        )
        document = status_list_credential(
            list_url=self._urls.status_list(organization.slug, list_number),
            issuer_id=self._urls.issuer(organization.slug),
            status_list=bits,
            generated_at=self._clock.now(),
        )
        return self._signer.sign(document, key)

    async def issuer_profile(self, organization_slug: str) -> dict[str, Any]:
        """The issuer's OB 3.0 ``Profile``, served where its id points."""
        async with self._uow() as uow:
            organization = await self._organization(uow, organization_slug)
        return issuer_profile_document(self._issuer(organization))

    async def achievement(self, organization_slug: str, achievement_id: UUID) -> dict[str, Any]:
        """An ``Achievement`` credentials name by id: a badge of the organization, or one of
        its public (or completed) events or published courses. Anything else is NotFound."""
        async with self._uow() as uow:
            organization = await self._organization(uow, organization_slug)
            badge = await uow.badges.get(achievement_id)
            event = await uow.events.get(achievement_id) if badge is None else None
            course = (
                await uow.courses.get(achievement_id) if badge is None and event is None else None
            )
        activity: Activity | None = None
        if event is not None and event.is_public and event.organization_id == organization.id:
            activity = event_activity(event)
        elif course is not None and course.is_public and course.organization_id == organization.id:
            activity = course_activity(course, self._clock.now().date())
        elif badge is not None and badge.organization_id == organization.id:
            activity = Activity(CertificateSource.EVENT, badge.id, badge.name, Decimal(0))
        if activity is None:
            raise NotFound("Achievement not found.")
        facts = self._achievement(activity, organization.slug, badge)
        if badge is not None:  # a badge names no one activity, so no credits of its own
            facts = replace(facts, cpd_credits=Decimal(0), credit_category=None)
        return achievement_document(facts)

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    async def _may_see(uow: UnitOfWork, actor: Actor, certificate: Certificate) -> bool:
        if actor.user_id == certificate.holder.user_id:
            return True
        return await is_staff(uow, actor, certificate.organization_id)

    @staticmethod
    async def _organization(uow: UnitOfWork, slug: str) -> Organization:
        organization = await uow.organizations.get_by_slug(slug.lower())
        if organization is None:
            raise NotFound(ORGANIZATION_NOT_FOUND)
        return organization

    @staticmethod
    async def _badge_of(uow: UnitOfWork, certificate: Certificate) -> Badge | None:
        """The first of the certificate's badges that still exists (and is its organization's)."""
        if not certificate.badge_ids:
            return None
        badges = await uow.badges.get_many(certificate.badge_ids)
        mine = (b for b in badges if b.organization_id == certificate.organization_id)
        return next(mine, None)

    async def _signing_key(self, uow: UnitOfWork, organization: Organization) -> SigningKey:
        """The organization's newest key; the first is made (and committed) on first need.

        Two first requests at once must not make two keys: the organization's row is locked
        and the keys read again before one is made, so the second request finds the first's.
        """
        keys = await self._usable_keys(uow, organization)
        if keys:
            return keys[0]
        await uow.organizations.get_for_update(organization.id)
        keys = await self._usable_keys(uow, organization)
        if keys:
            return keys[0]
        key = self._signer.generate_key(self._urls.jwks(organization.slug), self._clock.now())
        await uow.signing_keys.add(organization.id, key)
        await uow.commit()
        return key

    async def _usable_keys(self, uow: UnitOfWork, organization: Organization) -> list[SigningKey]:
        """The organization's keys of the configured algorithm, newest first: after
        CPD_CREDENTIAL_ALGORITHM changes, the next signature makes a key of the new one (the
        old keys stay published, so what they signed still verifies)."""
        keys = await uow.signing_keys.for_organization(organization.id)
        return [key for key in keys if key.algorithm == self._signer.algorithm]

    def _issuer(self, organization: Organization) -> IssuerProfile:
        issuer_id = self._urls.issuer(organization.slug)
        # No website is kept for an organization: its profile URL is its homepage here.
        return IssuerProfile(
            id=issuer_id, name=organization.name, url=issuer_id, image=organization.logo_url
        )

    def _facts(
        self, certificate: Certificate, organization: Organization, badge: Badge | None
    ) -> CredentialFacts:
        list_number, index = certificate.status_position
        return CredentialFacts(
            id=self._urls.credential(certificate.id),
            issuer=self._issuer(organization),
            subject_id=pseudonymous_subject_id(organization.id, certificate.holder.user_id),
            holder_name=certificate.holder.name,
            achievement=self._achievement(certificate.activity, organization.slug, badge),
            issued_at=certificate.issued_at,
            status=StatusEntry(self._urls.status_list(organization.slug, list_number), index),
        )

    def _achievement(
        self, activity: Activity, organization_slug: str, badge: Badge | None
    ) -> AchievementFacts:
        """The badge that came with the certificate, or else the event or course itself."""
        if badge is not None:
            return AchievementFacts(
                id=self._urls.achievement(organization_slug, badge.id),
                name=badge.name,
                description=badge.description,
                criteria=badge.criteria,
                cpd_credits=activity.cpd_credits,
                credit_category=activity.credit_category,
                image=self._urls.badge_image(badge.id) if badge.image is not None else None,
            )
        title = activity.title
        if activity.source is CertificateSource.COURSE:
            criteria = f"Completed the course {title}."
        else:
            criteria = f"Attended {title} and met the attendance threshold."
        return AchievementFacts(
            id=self._urls.achievement(organization_slug, activity.source_id),
            name=title,
            description=f"CPD {activity.source.value}: {title}",
            criteria=criteria,
            cpd_credits=activity.cpd_credits,
            credit_category=activity.credit_category,
        )
