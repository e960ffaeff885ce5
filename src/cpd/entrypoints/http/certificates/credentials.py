"""Open Badges 3.0: a certificate's signed credential, and what a verifier needs to check one
without an account: the issuer's public keys (JWKS), its status lists and its profile.

None of these go through the shared response cache (``front.py`` only looks up catalog
paths): a status list is built on every request, so a revocation shows at once.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Response, get

from cpd.domain.accounts import Actor
from cpd.entrypoints.http.accounts.auth import BEARER
from cpd.entrypoints.http.common import PathSlug
from cpd.entrypoints.http.problems import documented
from cpd.services.certificates.credentials import CredentialService

VC_JWT = "application/vc+jwt"
JWK_SET = "application/jwk-set+json"
JSON = "application/json"
PRIVATE = "private, no-store"
SHARED_MAX_AGE = "public, max-age=300"  # keys are only ever added; profiles rarely change
# Verifiers may reuse a status list for a minute; the server itself never serves a stale one.
STATUS_MAX_AGE = "public, max-age=60"


class CredentialsController(Controller):
    tags = ["credentials"]

    @get(
        "/certificates/{certificate_id:uuid}/credential",
        media_type=VC_JWT,
        security=BEARER,
        summary="My certificate as a signed Open Badges 3.0 credential (VC-JWT)",
        description=(
            "The compact JWS (`alg` EdDSA) whose payload is the `OpenBadgeCredential`. "
            "Verify it offline with the organization's JWKS "
            "(`/organizations/{slug}/.well-known/jwks.json`, the `kid` in its header) and "
            "check revocation in the status list its `credentialStatus` names. "
            "For the holder and the organization's staff."
        ),
        responses=documented(401, 404),
    )
    async def credential(
        self, certificate_id: UUID, actor: Actor, credentials: CredentialService
    ) -> Response[str]:
        token = await credentials.credential(actor, certificate_id)
        return Response(token, media_type=VC_JWT, headers={"Cache-Control": PRIVATE})

    @get(
        "/organizations/{organization_slug:str}/.well-known/jwks.json",
        media_type=JWK_SET,
        summary="The organization's public credential keys (JWKS)",
        description="Every key it has signed with, newest first; public members only.",
        responses=documented(400, 404),
    )
    async def jwks(
        self, organization_slug: PathSlug, credentials: CredentialService
    ) -> Response[dict[str, Any]]:
        keys = await credentials.jwks(organization_slug)
        return Response(keys, media_type=JWK_SET, headers={"Cache-Control": SHARED_MAX_AGE})

    @get(
        "/organizations/{organization_slug:str}/credentials/status/{list_number:int}",
        media_type=VC_JWT,
        summary="A signed Bitstring Status List credential (revocation)",
        description=(
            "A `BitstringStatusListCredential` as a VC-JWT: bit `statusListIndex` is set when "
            "that credential is revoked. Lists are numbered from 1; a list no certificate has "
            "reached yet is 404."
        ),
        responses=documented(400, 404),
    )
    async def status_list(
        self, organization_slug: PathSlug, list_number: int, credentials: CredentialService
    ) -> Response[str]:
        token = await credentials.status_list(organization_slug, list_number)
        return Response(token, media_type=VC_JWT, headers={"Cache-Control": STATUS_MAX_AGE})


class IssuerProfileController(Controller):
    """At the root, not under ``/api``: the issuer id of every credential is
    ``{public base URL}/organizations/{slug}`` and must stay stable across API versions."""

    path = "/organizations"
    tags = ["credentials"]

    @get(
        "/{organization_slug:str}",
        media_type=JSON,
        summary="The issuer's Open Badges 3.0 Profile (what a credential's issuer id names)",
        responses=documented(400, 404),
    )
    async def issuer_profile(
        self, organization_slug: PathSlug, credentials: CredentialService
    ) -> Response[dict[str, Any]]:
        profile = await credentials.issuer_profile(organization_slug)
        return Response(profile, media_type=JSON, headers={"Cache-Control": SHARED_MAX_AGE})

    @get(
        "/{organization_slug:str}/achievements/{achievement_id:uuid}",
        media_type=JSON,
        summary="An Open Badges 3.0 Achievement a credential names (a badge, event or course)",
        responses=documented(400, 404),
    )
    async def achievement(
        self, organization_slug: PathSlug, achievement_id: UUID, credentials: CredentialService
    ) -> Response[dict[str, Any]]:
        found = await credentials.achievement(organization_slug, achievement_id)
        return Response(found, media_type=JSON, headers={"Cache-Control": SHARED_MAX_AGE})
