"""Sign-up, sign-in, token rotation, password reset and the caller's own profile."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from cpd.domain.accounts import (
    Actor,
    User,
    check_password_strength,
    normalise_email,
)
from cpd.domain.auth import PasswordResetToken, RefreshClaims, RefreshTokenRecord, TokenPair
from cpd.domain.errors import Conflict, InvalidInput, NotAuthenticated, RateLimited
from cpd.domain.ids import new_id
from cpd.ports.persistence import UnitOfWork, UnitOfWorkFactory
from cpd.ports.services import AttemptThrottle, Clock, PasswordHasher, TokenIssuer
from cpd.services.notifications import password_reset_email, send_email_task, welcome_email

BAD_CREDENTIALS = "Incorrect email or password."
PASSWORD_RESET_TTL = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """Fields a user may change on themselves; None leaves a field as it is."""

    first_name: str | None = None
    last_name: str | None = None
    profile: dict[str, str | None] | None = None


class AccountService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
        clock: Clock,
        throttle: AttemptThrottle,
        public_base_url: str,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._throttle = throttle
        self._public_base_url = public_base_url.rstrip("/")
        self._decoy_hash: str | None = None

    async def _hash(self, password: str) -> str:
        return await self._hasher.hash(password)

    async def _decoy(self) -> str:
        """Verified against when the email is unknown, so both failures cost the same time."""
        if self._decoy_hash is None:
            self._decoy_hash = await self._hasher.hash(secrets.token_urlsafe(16))
        return self._decoy_hash

    async def register(self, *, email: str, password: str, first_name: str, last_name: str) -> User:
        email = normalise_email(email)
        check_password_strength(password)
        user = User.register(
            email=email,
            password_hash=await self._hash(password),
            first_name=first_name,
            last_name=last_name,
            now=self._clock.now(),
        )
        async with self._uow() as uow:
            await _ensure_email_free(uow, email)
            await uow.users.add(user)
            uow.outbox.add(send_email_task(welcome_email(user, site_url=self._public_base_url)))
            await uow.commit()
        return user

    async def create_superuser(
        self, *, email: str, password: str, first_name: str, last_name: str
    ) -> User:
        """Create a superadmin, or promote the existing account with that email."""
        email = normalise_email(email)
        check_password_strength(password)
        password_hash = await self._hash(password)
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
            if user is None:
                user = User.register(
                    email=email,
                    password_hash=password_hash,
                    first_name=first_name,
                    last_name=last_name,
                    now=now,
                    is_superadmin=True,
                )
                await uow.users.add(user)
            else:
                user.grant_superadmin(now=now)
                user.change_password_hash(password_hash, now=now)
                await uow.users.save(user)
                await uow.password_resets.spend_all_for_user(user.id, now)
            await uow.commit()
        return user

    async def login(self, *, email: str, password: str, client: str) -> TokenPair:
        """Exchange credentials for tokens; unknown emails and wrong passwords look the same."""
        try:
            email = normalise_email(email)
        except InvalidInput:
            raise NotAuthenticated(BAD_CREDENTIALS) from None
        keys = (f"login:email:{email}", f"login:client:{client}")
        for key in keys:
            wait = await self._throttle.retry_after(key)
            if wait:
                raise RateLimited(
                    "Too many failed sign-in attempts; try again later.", retry_after=wait
                )
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
        stored_hash = user.password_hash if user else await self._decoy()
        valid = await self._hasher.verify(stored_hash, password)
        if user is None or not valid or not user.is_active:
            for key in keys:
                await self._throttle.record_failure(key)
            raise NotAuthenticated(BAD_CREDENTIALS)
        await self._throttle.reset(keys[0])
        async with self._uow() as uow:
            if self._hasher.needs_rehash(user.password_hash):
                user.change_password_hash(await self._hash(password), now=self._clock.now())
                await uow.users.save(user)
            pair = await self._issue_pair(uow, user.id, new_id())
            await uow.commit()
        return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate a refresh token. A spent token presented again revokes its whole family."""
        claims = self._tokens.decode_refresh(refresh_token)
        now = self._clock.now()
        async with self._uow() as uow:
            record = await _own_record(uow, claims)
            if not await uow.refresh_tokens.spend(claims.jti, now):
                if record.used_at is not None:
                    await uow.refresh_tokens.revoke_family(record.family_id, now)
                    await uow.commit()
                raise NotAuthenticated("Refresh token is no longer valid.")
            user = await uow.users.get(claims.user_id)
            if user is None or not user.is_active:
                raise NotAuthenticated("Refresh token is no longer valid.")
            pair = await self._issue_pair(uow, user.id, claims.family_id)
            await uow.commit()
        return pair

    async def logout(self, actor: Actor, refresh_token: str) -> None:
        claims = self._tokens.decode_refresh(refresh_token)
        if claims.user_id != actor.user_id:
            raise NotAuthenticated("Refresh token does not belong to this user.")
        async with self._uow() as uow:
            await _own_record(uow, claims)
            await uow.refresh_tokens.revoke_family(claims.family_id, self._clock.now())
            await uow.commit()

    async def authenticate(self, access_token: str) -> Actor:
        claims = self._tokens.decode_access(access_token)
        async with self._uow() as uow:
            user = await uow.users.get(claims.user_id)
            live = await uow.refresh_tokens.session_active(claims.session_id, claims.user_id)
        if user is None or not user.is_active:
            raise NotAuthenticated("This account is not active.")
        if not live:  # signed out, password reset, or a stolen refresh token was reused
            raise NotAuthenticated("This session has ended; sign in again.")
        return Actor(user_id=user.id, is_superadmin=user.is_superadmin)

    async def request_password_reset(self, email: str) -> None:
        """Queue a reset email if the account exists; the caller never learns whether it does."""
        try:
            email = normalise_email(email)
        except InvalidInput:
            return
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
            if user is None or not user.is_active:
                return
            secret = secrets.token_urlsafe(32)
            await uow.password_resets.add(
                PasswordResetToken(
                    token_hash=_digest(secret),
                    user_id=user.id,
                    created_at=now,
                    expires_at=now + PASSWORD_RESET_TTL,
                )
            )
            link = f"{self._public_base_url}/reset-password?token={secret}"
            uow.outbox.add(send_email_task(password_reset_email(user, link)))
            await uow.commit()

    async def confirm_password_reset(self, *, token: str, new_password: str) -> None:
        check_password_strength(new_password, field_name="new_password")
        password_hash = await self._hash(new_password)
        now = self._clock.now()
        async with self._uow() as uow:
            user_id = await uow.password_resets.spend(_digest(token), now)
            user = await uow.users.get(user_id) if user_id else None
            if user is None:
                raise InvalidInput("This reset link is invalid or has expired.", field="token")
            user.change_password_hash(password_hash, now=now)
            await uow.users.save(user)
            # Any other link mailed before this reset would otherwise still set a password.
            await uow.password_resets.spend_all_for_user(user.id, now)
            await uow.refresh_tokens.revoke_all_for_user(user.id, now)
            await uow.commit()

    async def get_me(self, actor: Actor) -> User:
        async with self._uow() as uow:
            user = await uow.users.get(actor.user_id)
        if user is None:
            raise NotAuthenticated("This account no longer exists.")
        return user

    async def update_me(self, actor: Actor, changes: ProfileChanges) -> User:
        async with self._uow() as uow:
            user = await uow.users.get(actor.user_id)
            if user is None:
                raise NotAuthenticated("This account no longer exists.")
            user.update_details(
                now=self._clock.now(),
                first_name=changes.first_name,
                last_name=changes.last_name,
                profile_changes=changes.profile,
            )
            await uow.users.save(user)
            await uow.commit()
        return user

    async def _issue_pair(self, uow: UnitOfWork, user_id: UUID, family_id: UUID) -> TokenPair:
        now = self._clock.now()
        access = self._tokens.issue_access(user_id, family_id, now)
        refresh = self._tokens.issue_refresh(user_id, family_id, now)
        await uow.refresh_tokens.add(
            RefreshTokenRecord(
                jti=refresh.jti,
                user_id=user_id,
                family_id=family_id,
                issued_at=now,
                expires_at=refresh.expires_at,
            )
        )
        return TokenPair(access=access, refresh=refresh)


async def _own_record(uow: UnitOfWork, claims: RefreshClaims) -> RefreshTokenRecord:
    """The stored token the claims name, if it is the subject's and of the claimed family: a
    token signed with our key but naming someone else's session is refused before it is spent."""
    record = await uow.refresh_tokens.get(claims.jti)
    if record is None or (record.user_id, record.family_id) != (claims.user_id, claims.family_id):
        raise NotAuthenticated("Refresh token is no longer valid.")
    return record


async def _ensure_email_free(uow: UnitOfWork, email: str) -> None:
    if await uow.users.get_by_email(email) is not None:
        raise Conflict("An account with this email already exists.", field="email")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
