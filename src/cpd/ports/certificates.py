"""Certificates' ports: certificates, templates, badges, signing keys, rendering, signing."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from cpd.domain.certificate_design import Badge, CertificateTemplate
from cpd.domain.certificates import Certificate, CertificateFields, Logo
from cpd.domain.credentials import SigningKey
from cpd.domain.errors import InvalidInput
from cpd.domain.pages import Page, PageRequest


class CertificateRepository(Protocol):
    """Issued certificates. One per person per activity, ever: a revoked one stays revoked
    and blocks another (re-issuing corrects a certificate in place)."""

    async def add(self, *certificates: Certificate) -> None:
        """Insert; a second certificate of one holder for one activity raises Conflict."""
        ...

    async def get(self, certificate_id: UUID) -> Certificate | None: ...
    async def get_for_update(self, certificate_id: UUID) -> Certificate | None:
        """Load and lock the row until commit (revoke and re-issue serialise)."""
        ...

    async def by_code(self, verification_code: str) -> Certificate | None:
        """``verification_code`` in its canonical grouped form."""
        ...

    async def save(self, certificate: Certificate) -> None: ...
    async def holders(self, source_id: UUID) -> set[UUID]:
        """Everyone who has a certificate (issued or revoked) for the event or course."""
        ...

    async def for_activity(self, source_id: UUID, holder_id: UUID) -> Certificate | None: ...
    async def unrendered(self, source_id: UUID, limit: int) -> list[Certificate]:
        """Issued certificates of the activity whose current version has no stored PDF yet,
        oldest sequence first."""
        ...

    async def record_pdf(self, certificate_id: UUID, version: int, key: str) -> bool:
        """Note the stored PDF of ``version``; False (nothing written) when the certificate
        has moved on to another version meanwhile."""
        ...

    async def list_for_holder(self, user_id: UUID, page: PageRequest) -> Page[Certificate]:
        """Newest first."""
        ...

    async def list_for_activity(self, source_id: UUID, page: PageRequest) -> Page[Certificate]:
        """By sequence."""
        ...

    async def reserve_sequences(self, organization_id: UUID, count: int) -> int:
        """Take the organization's next ``count`` certificate numbers and return the first.
        Concurrent transactions get disjoint ranges; numbers of a rolled-back transaction
        are reused (serials stay gapless)."""
        ...

    async def badge_awarded(self, organization_id: UUID, badge_id: UUID) -> bool:
        """Whether any of the organization's certificates carries the badge."""
        ...

    async def revoked_sequences(self, organization_id: UUID) -> list[int]:
        """Sequences of the organization's revoked certificates (for its status lists)."""
        ...

    async def last_sequence(self, organization_id: UUID) -> int:
        """The organization's highest certificate number taken so far (0 before the first):
        its status lists run from 1 to ``status_position(last_sequence)``'s list."""
        ...


class CertificateTemplateRepository(Protocol):
    async def add(self, template: CertificateTemplate) -> None:
        """Insert; when it is the default, the organization's other templates stop being."""
        ...

    async def get(self, template_id: UUID) -> CertificateTemplate | None: ...
    async def save(self, template: CertificateTemplate) -> None:
        """Write; when it is the default, the organization's other templates stop being."""
        ...

    async def delete(self, template_id: UUID) -> None: ...
    async def list_for_organization(
        self, organization_id: UUID, page: PageRequest
    ) -> Page[CertificateTemplate]:
        """By name."""
        ...

    async def default_for(self, organization_id: UUID) -> CertificateTemplate | None: ...


class BadgeRepository(Protocol):
    async def add(self, badge: Badge) -> None: ...
    async def get(self, badge_id: UUID) -> Badge | None: ...
    async def get_many(self, badge_ids: Collection[UUID]) -> list[Badge]: ...
    async def save(self, badge: Badge) -> None: ...
    async def delete(self, badge_id: UUID) -> None: ...
    async def list_for_organization(self, organization_id: UUID, page: PageRequest) -> Page[Badge]:
        """By name."""
        ...

    async def awarded_for(self, organization_id: UUID, source_id: UUID) -> list[Badge]:
        """The organization's badges that come with certificates of this event or course."""
        ...


class SigningKeyRepository(Protocol):
    async def add(self, organization_id: UUID, key: SigningKey) -> None: ...
    async def for_organization(self, organization_id: UUID) -> list[SigningKey]:
        """Newest first: the first signs, all of them verify."""
        ...


class CredentialSigner(Protocol):
    """Signs Open Badges credentials (and status lists) with an organization's own key, so
    anyone can verify them from the published JWKS without calling us."""

    @property
    def algorithm(self) -> str:
        """What ``generate_key`` makes, and so what new credentials are signed with."""
        ...

    def generate_key(self, jwks_url: str, now: datetime) -> SigningKey:
        """A new key whose ``kid`` is ``{jwks_url}#{thumbprint}`` (a dereferenceable URI)."""
        ...

    def sign(self, credential: Mapping[str, object], key: SigningKey) -> str:
        """The compact JWS (VC-JWT) of ``credential``, ``alg`` and ``kid`` in the header."""
        ...

    def public_jwks(self, keys: Iterable[SigningKey]) -> dict[str, object]:
        """``{"keys": [...]}`` with public members only, for ``.well-known/jwks.json``."""
        ...


@runtime_checkable  # Litestar checks injected dependencies against their annotation
class QrCodes(Protocol):
    def svg(self, text: str, *, title: str) -> bytes:
        """``text`` as a QR code, a standalone SVG document titled ``title``."""
        ...


class CertificateRenderer(Protocol):
    """Certificates as PDF documents, one page each, from a template (``None``: the default).

    A template is the organization's own source (Typst for the Typst adapter), i.e. code: a
    template that does not compile, or outlasts the time or memory a compile may take,
    raises InvalidInput (field ``source``). A text the fonts cannot show is logged and
    rendered anyway: a certificate is never refused for a name.
    """

    async def render(self, template: bytes | None, fields: CertificateFields) -> bytes: ...
    async def render_many(
        self, template: bytes | None, many: Sequence[CertificateFields]
    ) -> list[bytes | InvalidInput]:
        """One outcome per certificate, in order: its PDF, or the InvalidInput (field
        ``source``) of that certificate alone; cheaper per certificate than ``render``."""
        ...

    async def check_template(
        self, source: bytes, samples: Sequence[tuple[str, CertificateFields]] = ()
    ) -> None:
        """Compile ``source`` with each of ``samples`` (a note for the message, the fields;
        none given: the product's sample data); raise InvalidInput (field ``source``) with the
        compiler's message and line when one fails, does not make exactly one page, or the
        check outlasts its time limit (an uploaded template is someone's code)."""
        ...

    async def check_logo(self, logo: Logo) -> None:
        """Decode ``logo`` as an image of its type; raise InvalidInput (field ``logo``) when it
        is not one (a truncated PNG, SVG that does not parse). Check uploads with this: rendering
        may leave a raster logo it cannot decode out of the certificate without a word."""
        ...


class CertificatesRepos(Protocol):
    """What a unit of work holds of certificates: one line in ``UnitOfWork``'s bases."""

    @property
    def certificates(self) -> CertificateRepository: ...
    @property
    def certificate_templates(self) -> CertificateTemplateRepository: ...
    @property
    def badges(self) -> BadgeRepository: ...
    @property
    def signing_keys(self) -> SigningKeyRepository: ...
