"""Open Badges 3.0 over HTTP: the holder fetches a signed credential, and a verifier with no
account checks it from the public JWKS, the status list and the issuer profile alone."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

import jwt as pyjwt
from litestar.testing import TestClient

from cpd.adapters.security.credential_signing import JwsCredentialSigner, verify_credential_jwt
from cpd.bootstrap import build_container
from cpd.domain.certificates import Activity, Certificate, CertificateSource, Holder
from cpd.domain.credentials import BitstringStatusList, CredentialUrls
from cpd.domain.ids import new_id
from cpd.entrypoints.http.app import create_app
from cpd.entrypoints.http.front import _CACHEABLE
from tests.api.conftest import Api, Caller, assert_problem
from tests.support.settings import make_settings

T = TypeVar("T")
VC_JWT = "application/vc+jwt"


def run(api: Api, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    result: T = api.client.blocking_portal.call(work)
    return result


def issue(
    api: Api,
    org: dict[str, Any],
    holder: Caller,
    *,
    name: str = "Hana Hart",
    credits: str = "6.5",
) -> Certificate:
    """A certificate stored as the certificate service would store it."""

    async def work() -> Certificate:
        async with api.container.uow() as uow:
            organization_id = UUID(org["id"])
            sequence = await uow.certificates.reserve_sequences(organization_id, 1)
            certificate = Certificate.issue(
                organization_id=organization_id,
                organization_slug=org["slug"],
                holder=Holder(UUID(holder.id), name),
                activity=Activity(
                    source=CertificateSource.EVENT,
                    source_id=new_id(),
                    title="Ethics in practice",
                    cpd_credits=Decimal(credits),
                    credit_category="Clinical",
                    starts_on=date(2027, 3, 1),
                ),
                sequence=sequence,
                now=datetime.now(UTC),
            )
            await uow.certificates.add(certificate)
            await uow.commit()
        return certificate

    return run(api, work)


def revoke(api: Api, certificate_id: UUID) -> None:
    async def work() -> None:
        async with api.container.uow() as uow:
            certificate = await uow.certificates.get(certificate_id)
            assert certificate is not None
            certificate.revoke("Attendance was recorded in error.", now=datetime.now(UTC))
            await uow.certificates.save(certificate)
            await uow.commit()

    run(api, work)


def credential_of(api: Api, certificate_id: UUID, caller: Caller) -> str:
    response = api.client.get(
        f"/api/v1/certificates/{certificate_id}/credential", headers=caller.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(VC_JWT)
    assert response.headers["cache-control"] == "private, no-store"
    return response.text


def jwks_of(api: Api, slug: str) -> dict[str, Any]:
    response = api.client.get(f"/api/v1/organizations/{slug}/.well-known/jwks.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    return dict(response.json())


def status_bits(api: Api, list_url: str, jwks: dict[str, Any]) -> BitstringStatusList:
    """Fetched anonymously, like a verifier would, and checked against the JWKS."""
    response = api.client.get(urlsplit(list_url).path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(VC_JWT)
    assert response.headers["cache-control"] == "public, max-age=60"
    payload = verify_credential_jwt(response.text, jwks)
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert payload["id"] == list_url
    return BitstringStatusList.decode(payload["credentialSubject"]["encodedList"])


def test_the_holder_gets_a_credential_anyone_can_verify_from_the_jwks(api: Api) -> None:
    owner, holder = api.user(), api.user()
    org = api.organization(owner)
    certificate = issue(api, org, holder, name="Hana Hart", credits="6.5")

    token = credential_of(api, certificate.id, holder)
    jwks = jwks_of(api, org["slug"])  # anonymous: the public key is all a verifier has
    assert all("d" not in key for key in jwks["keys"])
    payload = verify_credential_jwt(token, jwks)

    urls = CredentialUrls(api.container.settings.public_base_url)
    assert "OpenBadgeCredential" in payload["type"]
    assert payload["issuer"]["id"] == payload["iss"] == urls.issuer(org["slug"])
    assert payload["issuer"]["name"] == "Royal College"
    subject = payload["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == "Hana Hart"
    assert subject["creditsEarned"] == 6.5
    assert subject["achievement"]["creditsAvailable"] == 6.5
    assert subject["achievement"]["name"] == "Ethics in practice"
    assert holder.email not in token  # the holder's email is nowhere in a credential
    # Staff of the organization may fetch it too.
    by_staff = verify_credential_jwt(credential_of(api, certificate.id, owner), jwks)
    assert by_staff["id"] == payload["id"]


def test_others_are_told_the_credential_does_not_exist(api: Api) -> None:
    owner, holder, stranger = api.user(), api.user(), api.user()
    org = api.organization(owner)
    certificate = issue(api, org, holder)
    other_admin = api.user()
    api.organization(other_admin, name="Other College")
    member = api.user()
    api.add_member(org, owner, member, "member")

    path = f"/api/v1/certificates/{certificate.id}/credential"
    for caller in (stranger, other_admin, member):
        assert_problem(api.client.get(path, headers=caller.headers), 404)
    assert_problem(api.client.get(f"/api/v1/certificates/{new_id()}/credential",
                                  headers=holder.headers), 404)  # fmt: skip
    assert_problem(api.client.get(path), 401)


def test_a_revocation_shows_in_the_signed_status_list_at_once(api: Api) -> None:
    owner, holder, other = api.user(), api.user(), api.user()
    org = api.organization(owner)
    revoked = issue(api, org, holder)
    kept = issue(api, org, other)
    jwks = jwks_of(api, org["slug"])
    status = verify_credential_jwt(credential_of(api, revoked.id, holder), jwks)["credentialStatus"]
    kept_status = verify_credential_jwt(credential_of(api, kept.id, other), jwks)[
        "credentialStatus"
    ]
    list_url = status["statusListCredential"]
    assert kept_status["statusListCredential"] == list_url
    index, kept_index = int(status["statusListIndex"]), int(kept_status["statusListIndex"])
    assert not status_bits(api, list_url, jwks).get(index)  # fetched (and not cached) before

    revoke(api, revoked.id)
    bits = status_bits(api, list_url, jwks)
    assert bits.get(index)
    assert not bits.get(kept_index)
    assert bits.set_indexes() == [index]
    assert not _CACHEABLE.match(urlsplit(list_url).path)  # never answered by the front door


def test_unknown_organizations_and_lists_are_404(api: Api) -> None:
    owner = api.user()
    org = api.organization(owner)
    slug = org["slug"]
    assert_problem(api.client.get("/api/v1/organizations/no-such-org/.well-known/jwks.json"), 404)
    assert_problem(api.client.get("/api/v1/organizations/no-such-org/credentials/status/1"), 404)
    assert_problem(api.client.get("/organizations/no-such-org"), 404)
    assert_problem(api.client.get(f"/api/v1/organizations/{slug}/credentials/status/1"), 404)
    # An organization without certificates still publishes a key (and always the same one).
    assert len(jwks_of(api, slug)["keys"]) == 1
    assert jwks_of(api, slug) == jwks_of(api, slug)
    issue(api, org, owner)
    for number in (0, 2):
        path = f"/api/v1/organizations/{slug}/credentials/status/{number}"
        assert_problem(api.client.get(path), 404)
    assert api.client.get(f"/api/organizations/{slug}/credentials/status/1").status_code == 200


def test_the_issuer_id_is_served_as_the_issuer_profile(api: Api) -> None:
    owner, holder = api.user(), api.user()
    org = api.organization(owner)
    certificate = issue(api, org, holder)
    payload = verify_credential_jwt(
        credential_of(api, certificate.id, holder), jwks_of(api, org["slug"])
    )

    response = api.client.get(urlsplit(payload["issuer"]["id"]).path)  # at the root, not /api
    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert {k: profile[k] for k in ("id", "type", "name")} == {
        "id": payload["issuer"]["id"],
        "type": ["Profile"],
        "name": "Royal College",
    }
    # The organizations API beside it is untouched.
    mine = api.client.get(f"/api/v1/organizations/{org['id']}", headers=owner.headers)
    assert mine.status_code == 200
    assert mine.json()["slug"] == org["slug"]


def kid_of(token: str) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return str(header["kid"])


def test_credentials_signed_before_a_new_key_still_verify(api: Api) -> None:
    owner, holder = api.user(), api.user()
    org = api.organization(owner)
    certificate = issue(api, org, holder)
    before = credential_of(api, certificate.id, holder)

    settings = api.container.settings
    signer = JwsCredentialSigner(settings.credential_signing_secret)
    newer = signer.generate_key(
        CredentialUrls(settings.public_base_url).jwks(org["slug"]), datetime.now(UTC)
    )

    async def rotate() -> None:
        async with api.container.uow() as uow:
            await uow.signing_keys.add(UUID(org["id"]), newer)
            await uow.commit()

    run(api, rotate)
    after = credential_of(api, certificate.id, holder)
    jwks = jwks_of(api, org["slug"])
    assert [key["kid"] for key in jwks["keys"]] == [newer.kid, kid_of(before)]
    assert verify_credential_jwt(before, jwks)["id"] == verify_credential_jwt(after, jwks)["id"]
    assert kid_of(after) == newer.kid


def test_the_openapi_document_lists_the_credential_routes(api: Api) -> None:
    paths = api.client.get("/schema/openapi.json").json()["paths"]
    credential = paths["/api/v1/certificates/{certificate_id}/credential"]["get"]
    assert VC_JWT in credential["responses"]["200"]["content"]
    assert "/api/v1/organizations/{organization_slug}/.well-known/jwks.json" in paths
    status = paths["/api/v1/organizations/{organization_slug}/credentials/status/{list_number}"]
    assert VC_JWT in status["get"]["responses"]["200"]["content"]
    assert "/organizations/{organization_slug}" in paths


def test_organizations_can_sign_with_rs256_for_verifiers_that_know_nothing_else() -> None:
    """CPD_CREDENTIAL_ALGORITHM=RS256: new keys are RSA, and a third-party JOSE library with
    only RS256 enabled verifies the credential from the published JWKS."""
    container = build_container(make_settings(credential_algorithm="RS256"))
    with TestClient(create_app(container)) as client:
        rs256 = Api(client, container)
        owner, holder = rs256.user(), rs256.user()
        org = rs256.organization(owner)
        certificate = issue(rs256, org, holder)
        token = credential_of(rs256, certificate.id, holder)
        jwks = jwks_of(rs256, org["slug"])
    (key,) = jwks["keys"]
    assert (key["kty"], key["alg"]) == ("RSA", "RS256")
    claims = pyjwt.decode(
        token,
        key=pyjwt.PyJWK(key).key,
        algorithms=["RS256"],
        options={"require": ["iss", "jti", "nbf"], "verify_aud": False},
    )
    assert claims["credentialSubject"]["identifier"][0]["identityHash"] == "Hana Hart"
    assert verify_credential_jwt(token, jwks)["id"] == claims["jti"]
