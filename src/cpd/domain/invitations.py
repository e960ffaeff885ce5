"""Invitations to join an organization: a link emailed to an address, which only the account
with that address can accept, before it expires and unless it was revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from cpd.domain.accounts import Membership, Role, User, normalise_email
from cpd.domain.errors import Conflict, InvalidInput, PermissionDenied
from cpd.domain.ids import new_id

INVITATION_TTL = timedelta(days=7)
INVALID_LINK = "This invitation link is invalid, has expired or was withdrawn."


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(slots=True)
class Invitation:
    """``token_hash`` is the SHA-256 of the link's secret: the secret itself is only in the
    email, so a database reader cannot accept an invitation."""

    id: UUID
    organization_id: UUID
    email: str
    role: Role
    token_hash: str
    created_at: datetime
    expires_at: datetime
    invited_by: UUID | None = None
    accepted_at: datetime | None = None
    accepted_by: UUID | None = None
    revoked_at: datetime | None = None

    @classmethod
    def issue(
        cls,
        *,
        organization_id: UUID,
        email: str,
        role: Role,
        token_hash: str,
        invited_by: UUID,
        now: datetime,
        ttl: timedelta = INVITATION_TTL,
    ) -> Invitation:
        return cls(
            id=new_id(),
            organization_id=organization_id,
            email=normalise_email(email),
            role=role,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + ttl,
            invited_by=invited_by,
        )

    def status_at(self, now: datetime) -> InvitationStatus:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if now >= self.expires_at:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING

    def accept(self, user: User, *, now: datetime) -> Membership:
        """The membership this invitation grants to ``user``, who must hold its address."""
        if self.status_at(now) is not InvitationStatus.PENDING:
            raise InvalidInput(INVALID_LINK, field="token")
        if user.email != self.email:
            raise PermissionDenied(
                "This invitation is for another email address: sign in with that address's "
                "account, or register with it, to accept."
            )
        self.accepted_at = now
        self.accepted_by = user.id
        return Membership(self.organization_id, user.id, self.role, created_at=now)

    def revoke(self, *, now: datetime) -> None:
        """Withdraw a pending invitation; one already withdrawn or lapsed stays as it is."""
        if self.accepted_at is not None:
            raise Conflict("This invitation was accepted: remove the member instead.")
        if self.revoked_at is None:
            self.revoked_at = now


@dataclass(frozen=True, slots=True)
class InvitationView:
    """An invitation as its organization's admins see it (never its token)."""

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

    @classmethod
    def of(cls, invitation: Invitation, now: datetime) -> InvitationView:
        return cls(
            id=invitation.id,
            organization_id=invitation.organization_id,
            email=invitation.email,
            role=invitation.role,
            status=invitation.status_at(now),
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
            invited_by=invitation.invited_by,
            accepted_at=invitation.accepted_at,
            revoked_at=invitation.revoked_at,
        )
