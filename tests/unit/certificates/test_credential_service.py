"""Certificates served as signed Open Badges 3.0 credentials, through the real wiring on
memory adapters. Every signature is checked as an outside verifier would: with the public
JWKS only (``verify_credential_jwt``)."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import jsonschema_rs
import pytest

from cpd.adapters.security.credential_signing import JwsCredentialSigner, verify_credential_jwt
from cpd.bootstrap import Container
from cpd.domain.accounts import Actor, Organization, Role
from cpd.domain.certificate_design import Badge, BadgeImage
from cpd.domain.certificates import (
    Activity,
    Certificate,
    CertificateSource,
    Holder,
    status_position,
)
from cpd.domain.credentials import (
    MIN_STATUS_LIST_BITS,
    OB_CREDENTIAL_CONTEXTS,
    BitstringStatusList,
    CredentialUrls,
    pseudonymous_subject_id,
)
from cpd.domain.errors import NotFound
from cpd.domain.ids import new_id
from cpd.services.certificates.credentials import CredentialService
from tests.support.clock import FakeClock
from tests.unit.certificates.test_domain_credentials import OB3_SCHEMA
from tests.unit.fakes import actor_of, join, register

LOGO = "https://cdn.example.org/acme.png"


@dataclass
class Cast:
    app: Container
    org: Organization
    admin: Actor
    staff: Actor
    member: Actor
    holder: Actor
    outsider: Actor
    other_staff: Actor  # org_admin of another organization
    other_org: Organization

    @property
    def urls(self) -> CredentialUrls:
        return CredentialUrls(self.app.settings.public_base_url)


@pytest.fixture
async def cast(clocked: Container) -> Cast:
    app = clocked
    admin = actor_of(await register(app, "admin@example.com", last_name="Adams"))
    staff_user = await register(app, "staff@example.com", last_name="Stone")
    member_user = await register(app, "member@example.com", last_name="Moss")
    staff, member = actor_of(staff_user), actor_of(member_user)
    holder = actor_of(await register(app, "holder@example.com", last_name="Hart"))
    outsider = actor_of(await register(app, "out@example.com", last_name="Owen"))
    other = actor_of(await register(app, "other@example.com", last_name="Ortiz"))
    org = await app.organizations.create(admin, name="Acme Training", logo_url=LOGO)
    for user, role in ((staff_user, Role.ORG_STAFF), (member_user, Role.MEMBER)):
        await join(app.organizations, app.outbox_store, admin, org.id, user, role)
    other_org = await app.organizations.create(other, name="Other College")
    return Cast(app, org, admin, staff, member, holder, outsider, other, other_org)


async def issue(
    cast: Cast,
    *,
    holder: Actor | None = None,
    name: str = "Hana Hart",
    source: CertificateSource = CertificateSource.EVENT,
    title: str = "Wound care masterclass",
    badge_ids: tuple[UUID, ...] = (),
    org: Organization | None = None,
) -> Certificate:
    app, org = cast.app, org or cast.org
    dates: dict[str, Any] = (
        {"completed_on": date(2026, 11, 20)}
        if source is CertificateSource.COURSE
        else {"starts_on": date(2026, 11, 20)}
    )
    async with app.uow() as uow:
        sequence = await uow.certificates.reserve_sequences(org.id, 1)
        certificate = Certificate.issue(
            organization_id=org.id,
            organization_slug=org.slug,
            holder=Holder((holder or cast.holder).user_id, name),
            activity=Activity(
                source=source,
                source_id=new_id(),
                title=title,
                cpd_credits=Decimal("6.5"),
                credit_category="Clinical",
                **dates,
            ),
            sequence=sequence,
            now=app.clock.now(),
            badge_ids=badge_ids,
        )
        await uow.certificates.add(certificate)
        await uow.commit()
    return certificate


async def revoke(app: Container, certificate_id: UUID) -> None:
    async with app.uow() as uow:
        certificate = await uow.certificates.get(certificate_id)
        assert certificate is not None
        certificate.revoke("Issued in error.", now=app.clock.now())
        await uow.certificates.save(certificate)
        await uow.commit()


async def verified(cast: Cast, token: str, org: Organization | None = None) -> dict[str, Any]:
    """What an outside verifier reads: the token checked against the published JWKS only."""
    jwks = await cast.app.credentials.jwks((org or cast.org).slug)
    return verify_credential_jwt(token, jwks, now=cast.app.clock.now())


def kids(jwks: dict[str, object]) -> list[str]:
    keys = jwks["keys"]
    assert isinstance(keys, list)
    return [str(key["kid"]) for key in keys]


async def bits(cast: Cast, list_number: int = 1) -> BitstringStatusList:
    token = await cast.app.credentials.status_list(cast.org.slug, list_number)
    payload = await verified(cast, token)
    return BitstringStatusList.decode(payload["credentialSubject"]["encodedList"])


# --- the credential -----------------------------------------------------------------------------


async def test_the_holder_gets_a_signed_open_badge_credential(cast: Cast) -> None:
    certificate = await issue(cast)
    token = await cast.app.credentials.credential(cast.holder, certificate.id)
    payload = await verified(cast, token)

    jsonschema_rs.validator_for(OB3_SCHEMA, validate_formats=True).validate(payload)
    urls, org = cast.urls, cast.org
    assert payload["@context"] == list(OB_CREDENTIAL_CONTEXTS)
    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert payload["id"] == payload["jti"] == urls.credential(certificate.id)
    assert payload["issuer"] == {
        "id": urls.issuer(org.slug),
        "type": ["Profile"],
        "name": "Acme Training",
        "url": urls.issuer(org.slug),
        "image": {"id": LOGO, "type": "Image"},
    }
    assert payload["iss"] == urls.issuer(org.slug)
    subject = payload["credentialSubject"]
    assert subject["id"] == payload["sub"] == pseudonymous_subject_id(org.id, cast.holder.user_id)
    assert subject["identifier"][0]["identityHash"] == "Hana Hart"
    assert subject["creditsEarned"] == 6.5
    achievement = subject["achievement"]
    assert achievement["id"] == urls.achievement(org.slug, certificate.activity.source_id)
    assert achievement["name"] == "Wound care masterclass"
    assert achievement["description"] == "CPD event: Wound care masterclass"
    assert achievement["criteria"] == {
        "narrative": "Attended Wound care masterclass and met the attendance threshold."
    }
    assert (achievement["creditsAvailable"], achievement["tag"]) == (6.5, ["CPD", "Clinical"])
    assert "image" not in achievement
    list_number, index = certificate.status_position
    assert payload["credentialStatus"] == {
        "id": f"{urls.status_list(org.slug, list_number)}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": urls.status_list(org.slug, 1),
    }
    assert "holder@example.com" not in str(payload)  # no email in a credential


async def test_the_organizations_staff_may_fetch_it_and_nobody_else(cast: Cast) -> None:
    certificate = await issue(cast)
    for allowed in (cast.admin, cast.staff):
        await verified(cast, await cast.app.credentials.credential(allowed, certificate.id))
    for refused in (cast.member, cast.outsider, cast.other_staff):
        with pytest.raises(NotFound, match="Certificate not found"):
            await cast.app.credentials.credential(refused, certificate.id)
    with pytest.raises(NotFound, match="Certificate not found"):
        await cast.app.credentials.credential(cast.holder, new_id())


async def test_a_course_certificate_has_the_course_criteria(cast: Cast) -> None:
    certificate = await issue(cast, source=CertificateSource.COURSE, title="Safeguarding")
    payload = await verified(
        cast, await cast.app.credentials.credential(cast.holder, certificate.id)
    )
    achievement = payload["credentialSubject"]["achievement"]
    assert achievement["description"] == "CPD course: Safeguarding"
    assert achievement["criteria"] == {"narrative": "Completed the course Safeguarding."}


async def test_an_awarded_badge_is_the_achievement(cast: Cast) -> None:
    app, now = cast.app, cast.app.clock.now()
    shiny = Badge.create(
        organization_id=cast.org.id,
        now=now,
        details={
            "name": "Wound care practitioner",
            "description": "Knows chronic wound care.",
            "criteria": "Attend the masterclass and pass the assessment.",
            "image": BadgeImage(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        },
    )
    plain = Badge.create(
        organization_id=cast.org.id,
        now=now,
        details={"name": "Plain", "description": "No image.", "criteria": "Attend."},
    )
    async with app.uow() as uow:
        await uow.badges.add(shiny)
        await uow.badges.add(plain)
        await uow.commit()
    first = await issue(cast, badge_ids=(shiny.id, plain.id))
    second = await issue(cast, holder=cast.outsider, badge_ids=(new_id(), plain.id))

    payload = await verified(cast, await app.credentials.credential(cast.holder, first.id))
    achievement = payload["credentialSubject"]["achievement"]
    assert achievement["id"] == cast.urls.achievement(cast.org.slug, shiny.id)
    assert (achievement["name"], achievement["description"]) == (
        "Wound care practitioner",
        "Knows chronic wound care.",
    )
    assert achievement["criteria"] == {
        "narrative": "Attend the masterclass and pass the assessment."
    }
    assert achievement["image"] == {
        "id": f"{app.settings.public_base_url.rstrip('/')}/api/v1/badges/{shiny.id}/image",
        "type": "Image",
    }
    assert achievement["creditsAvailable"] == 6.5  # credits still come from the activity

    # A badge deleted since: the next one the certificate names stands in; no image, none shown.
    payload = await verified(cast, await app.credentials.credential(cast.outsider, second.id))
    achievement = payload["credentialSubject"]["achievement"]
    assert achievement["name"] == "Plain"
    assert "image" not in achievement


# --- keys and the JWKS --------------------------------------------------------------------------


async def test_an_organization_gets_one_key_on_first_need_however_many_ask(cast: Cast) -> None:
    app = cast.app
    certificate = await issue(cast)
    tokens = await asyncio.gather(
        app.credentials.credential(cast.holder, certificate.id),
        app.credentials.jwks(cast.org.slug),
        app.credentials.status_list(cast.org.slug, 1),
        app.credentials.credential(cast.staff, certificate.id),
    )
    async with app.uow() as uow:
        keys = await uow.signing_keys.for_organization(cast.org.id)
    assert len(keys) == 1
    jwks = await app.credentials.jwks(cast.org.slug)
    assert kids(jwks) == [keys[0].kid]
    assert keys[0].kid.startswith(cast.urls.jwks(cast.org.slug) + "#")
    for token in (tokens[0], tokens[2], tokens[3]):
        assert isinstance(token, str)
        verify_credential_jwt(token, jwks, now=app.clock.now())


async def test_the_jwks_is_never_empty_and_publishes_no_private_member(cast: Cast) -> None:
    jwks = await cast.app.credentials.jwks(cast.other_org.slug)  # no certificate yet
    assert jwks == await cast.app.credentials.jwks(cast.other_org.slug)  # the same key again
    keys: list[dict[str, str]] = jwks["keys"]  # type: ignore[assignment]
    assert len(keys) == 1
    assert set(keys[0]) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (keys[0]["kty"], keys[0]["crv"], keys[0]["alg"]) == ("OKP", "Ed25519", "EdDSA")
    with pytest.raises(NotFound, match="Organization not found"):
        await cast.app.credentials.jwks("no-such-org")


async def test_two_organizations_sign_with_their_own_keys(cast: Cast) -> None:
    ours = await issue(cast)
    theirs = await issue(cast, org=cast.other_org)
    token = await cast.app.credentials.credential(cast.holder, theirs.id)
    await verified(cast, token, cast.other_org)
    with pytest.raises(ValueError, match="unknown kid"):
        await verified(cast, token)  # not with the other organization's JWKS
    await verified(cast, await cast.app.credentials.credential(cast.holder, ours.id))


async def test_a_credential_signed_before_a_new_key_still_verifies(
    cast: Cast, clock: FakeClock
) -> None:
    app = cast.app
    certificate = await issue(cast)
    before = await app.credentials.credential(cast.holder, certificate.id)

    clock.advance(days=30)
    signer = JwsCredentialSigner(app.settings.credential_signing_secret)
    newer = signer.generate_key(cast.urls.jwks(cast.org.slug), clock.now())
    async with app.uow() as uow:
        await uow.signing_keys.add(cast.org.id, newer)
        await uow.commit()
    after = await app.credentials.credential(cast.holder, certificate.id)

    jwks = await app.credentials.jwks(cast.org.slug)
    assert len(kids(jwks)) == 2
    assert kids(jwks)[0] == newer.kid  # newest first, and the newest signs
    old = verify_credential_jwt(before, jwks, now=clock.now())
    new = verify_credential_jwt(after, jwks, now=clock.now())
    assert old["id"] == new["id"]
    assert before != after
    assert before.split(".")[0] != after.split(".")[0]  # a different kid in the header


async def test_switching_to_rs256_signs_the_next_credential_with_a_new_rsa_key(
    cast: Cast, clock: FakeClock
) -> None:
    """CPD_CREDENTIAL_ALGORITHM changed on a running platform: an organization whose only key
    is Ed25519 gets an RSA key at its next signature (listed in its JWKS first), and what the
    Ed25519 key signed still verifies."""
    certificate = await issue(cast)
    before = await cast.app.credentials.credential(cast.holder, certificate.id)
    clock.advance(minutes=1)
    switched = CredentialService(  # a restart with the new setting, on the same data
        cast.app.uow,
        clock=clock,
        signer=JwsCredentialSigner(cast.app.settings.credential_signing_secret, "RS256"),
        urls=cast.urls,
    )
    jwks = await switched.jwks(cast.org.slug)
    assert [key["alg"] for key in jwks["keys"]] == ["RS256", "EdDSA"]  # type: ignore[index]
    after = await switched.credential(cast.holder, certificate.id)
    assert json.loads(base64.urlsafe_b64decode(after.split(".")[0] + "=="))["alg"] == "RS256"
    for token in (before, after):
        assert verify_credential_jwt(token, jwks, now=clock.now())
    assert await switched.jwks(cast.org.slug) == jwks  # one RSA key, not one per call


# --- status lists -------------------------------------------------------------------------------


async def test_a_revoked_certificate_shows_in_the_status_list_at_once(cast: Cast) -> None:
    kept = await issue(cast)
    revoked = await issue(cast, holder=cast.outsider)
    assert not (await bits(cast)).set_indexes()

    await revoke(cast.app, revoked.id)
    status = await bits(cast)
    assert status.get(revoked.status_position[1])
    assert not status.get(kept.status_position[1])
    assert status.set_indexes() == [revoked.status_position[1]]


async def test_the_status_list_credential_document(cast: Cast) -> None:
    await issue(cast)
    token = await cast.app.credentials.status_list(cast.org.slug, 1)
    payload = await verified(cast, token)
    list_url = cast.urls.status_list(cast.org.slug, 1)
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert payload["id"] == payload["jti"] == list_url
    assert payload["issuer"] == payload["iss"] == cast.urls.issuer(cast.org.slug)
    subject = payload["credentialSubject"]
    assert (subject["type"], subject["statusPurpose"]) == ("BitstringStatusList", "revocation")
    assert BitstringStatusList.decode(subject["encodedList"]).size == MIN_STATUS_LIST_BITS


async def test_only_lists_that_certificates_have_reached_exist(cast: Cast) -> None:
    credentials = cast.app.credentials
    with pytest.raises(NotFound, match="Status list not found"):
        await credentials.status_list(cast.org.slug, 1)  # no certificate yet
    await issue(cast)
    await credentials.status_list(cast.org.slug, 1)
    for missing in (0, -1, 2):
        with pytest.raises(NotFound, match="Status list not found"):
            await credentials.status_list(cast.org.slug, missing)
    with pytest.raises(NotFound, match="Organization not found"):
        await credentials.status_list("no-such-org", 1)


async def test_the_second_list_holds_the_certificates_beyond_the_first(cast: Cast) -> None:
    app = cast.app
    async with app.uow() as uow:  # as if the first list's worth had been issued
        await uow.certificates.reserve_sequences(cast.org.id, MIN_STATUS_LIST_BITS)
        await uow.commit()
    certificate = await issue(cast)
    assert certificate.status_position == status_position(MIN_STATUS_LIST_BITS + 1)
    assert certificate.status_position[0] == 2

    payload = await verified(cast, await app.credentials.credential(cast.holder, certificate.id))
    assert payload["credentialStatus"]["statusListCredential"] == cast.urls.status_list(
        cast.org.slug, 2
    )
    await revoke(app, certificate.id)
    assert (await bits(cast, 2)).set_indexes() == [certificate.status_position[1]]
    assert not (await bits(cast, 1)).set_indexes()
    with pytest.raises(NotFound):
        await app.credentials.status_list(cast.org.slug, 3)


# --- the issuer profile -------------------------------------------------------------------------


async def test_the_issuer_profile_is_what_the_issuer_id_names(cast: Cast) -> None:
    profile = await cast.app.credentials.issuer_profile(cast.org.slug)
    issuer_id = cast.urls.issuer(cast.org.slug)
    assert profile == {
        "@context": list(OB_CREDENTIAL_CONTEXTS),
        "id": issuer_id,
        "type": ["Profile"],
        "name": "Acme Training",
        "url": issuer_id,
        "image": {"id": LOGO, "type": "Image"},
    }
    with pytest.raises(NotFound, match="Organization not found"):
        await cast.app.credentials.issuer_profile("no-such-org")
