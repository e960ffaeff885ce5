"""Users, organizations and memberships, with the rules that guard them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cpd.domain.errors import Conflict, InvalidInput
from cpd.domain.ids import new_id
from cpd.domain.refunds import STANDARD_REFUNDS, RefundPolicy
from cpd.domain.text import checked_text
from cpd.domain.urls import checked_url

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256  # Argon2 takes any length; the cap only bounds hashing work per request.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 60
_COMMON_PASSWORDS = frozenset(
    line.strip().lower()
    for line in (Path(__file__).with_name("common_passwords.txt")).read_text().splitlines()
    if line.strip()
)


class Role(StrEnum):
    ORG_ADMIN = "org_admin"
    ORG_STAFF = "org_staff"
    MEMBER = "member"


def normalise_email(raw: str) -> str:
    """Emails are unique case-insensitively, so they are stored in one canonical form."""
    email = unicodedata.normalize("NFKC", raw).strip().lower()
    if len(email) > 254 or not _EMAIL.match(email) or not email.isprintable():
        raise InvalidInput("Enter a valid email address.", field="email")
    return email


def check_password_strength(password: str, *, field_name: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.", field=field_name
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Password must be at most {MAX_PASSWORD_LENGTH} characters long.", field=field_name
        )
    if password.lower() in _COMMON_PASSWORDS or len(set(password)) < 4:
        raise InvalidInput("This password is too common; choose another.", field=field_name)


def _check_name(value: str, field_name: str) -> str:
    return checked_text(value, field_name, 100)


def slugify(text: str, *, fallback: str = "org") -> str:
    """A URL slug from a name; ``fallback`` when nothing Latin is left (e.g. "研修の日")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG_LENGTH].rstrip("-") or fallback


def check_slug(slug: str) -> str:
    if not isinstance(slug, str) or len(slug) > MAX_SLUG_LENGTH or not _SLUG.fullmatch(slug):
        raise InvalidInput(
            "Use lowercase letters, digits and single hyphens (at most 60 characters).",
            field="slug",
        )
    return slug


_PROFILE_LINES = {
    "professional_title": 200,
    "professional_body": 200,
    "registration_number": 100,
    "phone": 50,
}


@dataclass(frozen=True, slots=True)
class UserProfile:
    professional_title: str | None = None
    professional_body: str | None = None
    registration_number: str | None = None
    phone: str | None = None
    timezone: str | None = None
    bio: str | None = None

    def __post_init__(self) -> None:
        for name, limit in _PROFILE_LINES.items():
            if (value := getattr(self, name)) is not None:
                object.__setattr__(
                    self, name, checked_text(value, f"profile.{name}", limit, blank_ok=True)
                )
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise InvalidInput("Unknown IANA time zone.", field="profile.timezone") from None
        if self.bio is not None:
            bio = checked_text(self.bio, "profile.bio", 5000, blank_ok=True, multiline=True)
            object.__setattr__(self, "bio", bio)


@dataclass(slots=True)
class User:
    id: UUID
    email: str
    password_hash: str
    first_name: str
    last_name: str
    created_at: datetime
    updated_at: datetime
    is_active: bool = True
    is_superadmin: bool = False
    profile: UserProfile = field(default_factory=UserProfile)

    @classmethod
    def register(
        cls,
        *,
        email: str,
        password_hash: str,
        first_name: str,
        last_name: str,
        now: datetime,
        is_superadmin: bool = False,
    ) -> User:
        return cls(
            id=new_id(),
            email=normalise_email(email),
            password_hash=password_hash,
            first_name=_check_name(first_name, "first_name"),
            last_name=_check_name(last_name, "last_name"),
            created_at=now,
            updated_at=now,
            is_superadmin=is_superadmin,
        )

    def update_details(
        self,
        *,
        now: datetime,
        first_name: str | None = None,
        last_name: str | None = None,
        profile_changes: dict[str, str | None] | None = None,
    ) -> None:
        if first_name is not None:
            self.first_name = _check_name(first_name, "first_name")
        if last_name is not None:
            self.last_name = _check_name(last_name, "last_name")
        if profile_changes:
            unknown = set(profile_changes) - set(UserProfile.__dataclass_fields__)
            if unknown:
                raise InvalidInput("Unknown profile field.", field=f"profile.{min(unknown)}")
            self.profile = replace(self.profile, **profile_changes)
        self.updated_at = now

    def change_password_hash(self, password_hash: str, *, now: datetime) -> None:
        self.password_hash = password_hash
        self.updated_at = now

    def grant_superadmin(self, *, now: datetime) -> None:
        self.is_superadmin = True
        self.updated_at = now


class OrganizationSignup(StrEnum):
    """Who may create an organization, and whether it may publish before a superadmin
    approves it (``CPD_ORGANIZATION_SIGNUP``)."""

    OPEN = "open"  # anyone signed in; approved at once
    APPROVAL = "approval"  # anyone signed in; prepares, publishes once approved
    CLOSED = "closed"  # superadmins only


class OrganizationStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"


AWAITING_APPROVAL = (
    "This organization awaits approval by the platform's administrators: until then it can "
    "prepare drafts but not publish or take payments."
)


@dataclass(slots=True)
class Organization:
    id: UUID
    name: str
    slug: str
    created_at: datetime
    updated_at: datetime
    contact_email: str | None = None
    logo_url: str | None = None
    approved_at: datetime | None = None  # None: awaiting a superadmin's approval
    refund_policy: RefundPolicy = STANDARD_REFUNDS  # its events' unless one overrides it

    @classmethod
    def create(
        cls,
        *,
        name: str,
        slug: str,
        now: datetime,
        approved: bool,
        contact_email: str | None = None,
        logo_url: str | None = None,
    ) -> Organization:
        return cls(
            id=new_id(),
            name=_check_org_name(name),
            slug=check_slug(slug),
            created_at=now,
            updated_at=now,
            contact_email=_check_contact_email(contact_email),
            logo_url=_check_logo_url(logo_url),
            approved_at=now if approved else None,
        )

    @property
    def status(self) -> OrganizationStatus:
        if self.approved_at is None:
            return OrganizationStatus.PENDING_APPROVAL
        return OrganizationStatus.APPROVED

    def set_refund_policy(self, policy: RefundPolicy, *, now: datetime) -> None:
        """Applies to registrations paid from now on: paid ones keep the terms they bought."""
        self.refund_policy = policy
        self.updated_at = now

    def approve(self, *, now: datetime) -> None:
        """Let the organization publish and take payments; approving again changes nothing."""
        if self.approved_at is None:
            self.approved_at = now
            self.updated_at = now

    def ensure_approved(self) -> None:
        """What publishing an event or course (and so taking payments) requires."""
        if self.approved_at is None:
            raise Conflict(AWAITING_APPROVAL)

    def update(
        self,
        *,
        now: datetime,
        name: str | None = None,
        contact_email: str | None = None,
        logo_url: str | None = None,
        clear: frozenset[str] = frozenset(),
    ) -> None:
        """Change the given fields; names in ``clear`` are set back to empty."""
        if name is not None:
            self.name = _check_org_name(name)
        if contact_email is not None or "contact_email" in clear:
            self.contact_email = _check_contact_email(contact_email)
        if logo_url is not None or "logo_url" in clear:
            self.logo_url = _check_logo_url(logo_url)
        self.updated_at = now


def _check_org_name(name: str) -> str:
    return checked_text(name, "name", 200)


def _check_contact_email(email: str | None) -> str | None:
    if email is None:
        return None
    try:
        return normalise_email(email)
    except InvalidInput:
        raise InvalidInput("Enter a valid email address.", field="contact_email") from None


def _check_logo_url(url: str | None) -> str | None:
    return None if url is None else checked_url(url, "logo_url")


@dataclass(slots=True)
class Membership:
    organization_id: UUID
    user_id: UUID
    role: Role
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    """A membership as the member list shows it: the role with who holds it."""

    user_id: UUID
    email: str
    first_name: str
    last_name: str
    role: Role
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever is making a request, as far as permissions care."""

    user_id: UUID
    is_superadmin: bool = False


# Permission rules: named for what they allow, pure, and used only by services.


def can_view_organization(actor: Actor, membership: Membership | None) -> bool:
    return actor.is_superadmin or membership is not None


def can_manage_organization(actor: Actor, membership: Membership | None) -> bool:
    return actor.is_superadmin or (membership is not None and membership.role is Role.ORG_ADMIN)


def can_view_members(actor: Actor, membership: Membership | None) -> bool:
    return actor.is_superadmin or (
        membership is not None and membership.role in (Role.ORG_ADMIN, Role.ORG_STAFF)
    )


can_manage_members = can_manage_organization


def can_manage_events(actor: Actor, membership: Membership | None) -> bool:
    """Events, courses, sessions and attendance are run by org_admin and org_staff."""
    return can_view_members(actor, membership)


def ensure_an_admin_remains(target: Membership, new_role: Role | None, admin_count: int) -> None:
    """An organization always keeps at least one org_admin (``new_role`` None means removal)."""
    losing_an_admin = target.role is Role.ORG_ADMIN and new_role is not Role.ORG_ADMIN
    if losing_an_admin and admin_count <= 1:
        raise Conflict(
            "An organization must keep at least one org_admin; appoint another first.",
            field="role",
        )
