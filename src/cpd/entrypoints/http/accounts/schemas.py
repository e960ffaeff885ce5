"""Accounts over HTTP: sign-up and tokens, my account, organizations, members, invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from cpd.domain.accounts import OrganizationStatus, Role
from cpd.domain.auth import TokenPair
from cpd.domain.invitations import InvitationStatus
from cpd.entrypoints.http.common import Page, component

Email = Annotated[str, Meta(max_length=254, examples=["ada@example.org"])]
Password = Annotated[
    str,
    Meta(min_length=10, max_length=256, description="At least 10 characters, not a common one."),
]
Name = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"\S")]
OptionalText = Annotated[str, Meta(max_length=5000)] | None


# Auth


class RegisterIn(Struct):
    email: Email
    password: Password
    first_name: Name
    last_name: Name


class LoginIn(Struct):
    email: Annotated[str, Meta(max_length=320)]
    password: Annotated[str, Meta(max_length=1024)]


class RefreshIn(Struct):
    refresh_token: Annotated[str, Meta(max_length=4096)]


class PasswordResetIn(Struct):
    email: Annotated[str, Meta(max_length=320)]


class PasswordResetConfirmIn(Struct):
    token: Annotated[str, Meta(max_length=512)]
    new_password: Password


class TokenPairOut(Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - a scheme name, not a secret

    @classmethod
    def of(cls, pair: TokenPair) -> TokenPairOut:
        return cls(
            access_token=pair.access.token,
            refresh_token=pair.refresh.token,
            expires_in=pair.access.lifetime_seconds,
        )


# Users


class ProfileOut(Struct):
    professional_title: str | None
    professional_body: str | None
    registration_number: str | None
    phone: str | None
    timezone: str | None
    bio: str | None


class MeOut(Struct):
    id: UUID
    email: str
    first_name: str
    last_name: str
    is_superadmin: bool
    profile: ProfileOut
    created_at: datetime


class ProfilePatch(Struct, forbid_unknown_fields=True):
    """Absent fields stay as they are; ``null`` clears a field."""

    professional_title: Annotated[str, Meta(max_length=200)] | UnsetType | None = UNSET
    professional_body: Annotated[str, Meta(max_length=200)] | UnsetType | None = UNSET
    registration_number: Annotated[str, Meta(max_length=100)] | UnsetType | None = UNSET
    phone: Annotated[str, Meta(max_length=50)] | UnsetType | None = UNSET
    timezone: Annotated[str, Meta(max_length=64, examples=["Europe/London"])] | UnsetType | None = (
        UNSET
    )
    bio: OptionalText | UnsetType = UNSET


class MePatch(Struct, forbid_unknown_fields=True):
    first_name: Name | UnsetType = UNSET
    last_name: Name | UnsetType = UNSET
    profile: ProfilePatch | UnsetType = UNSET


# Organizations

Slug = Annotated[
    str, Meta(max_length=60, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", examples=["royal-college"])
]


class OrganizationIn(Struct):
    name: Annotated[str, Meta(max_length=200)]
    slug: Slug | None = None
    contact_email: Email | None = None
    logo_url: Annotated[str, Meta(max_length=2000)] | None = None


class OrganizationPatch(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    contact_email: Email | UnsetType | None = UNSET
    logo_url: Annotated[str, Meta(max_length=2000)] | UnsetType | None = UNSET


class OrganizationOut(Struct):
    id: UUID
    name: str
    slug: str
    contact_email: str | None
    logo_url: str | None
    created_at: datetime
    updated_at: datetime
    status: OrganizationStatus  # pending_approval: may prepare drafts, not publish
    approved_at: datetime | None


class InvitationIn(Struct):
    email: Email
    role: Role = Role.MEMBER


class InvitationOut(Struct):
    """``status``: pending, accepted, revoked or expired."""

    id: UUID
    organization_id: UUID
    email: str
    role: Role
    status: InvitationStatus
    created_at: datetime
    expires_at: datetime
    invited_by: UUID | None
    accepted_at: datetime | None
    revoked_at: datetime | None


class AcceptInvitationIn(Struct):
    token: Annotated[str, Meta(min_length=1, max_length=200)]


class JoinedOut(Struct):
    organization: OrganizationOut
    role: Role
    joined_at: datetime


class MemberPatch(Struct):
    role: Role


class MemberOut(Struct):
    user_id: UUID
    email: str
    first_name: str
    last_name: str
    role: Role
    joined_at: datetime


OrganizationPage = Annotated[Page[OrganizationOut], component("OrganizationPage")]
InvitationPage = Annotated[Page[InvitationOut], component("InvitationPage")]
MemberPage = Annotated[Page[MemberOut], component("MemberPage")]
