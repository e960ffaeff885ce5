"""Sign-up, sign-in, token rotation, password reset and the caller's own profile."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from uuid import UUID, uuid5

from cpd.domain.accounts import (
    Actor,
    User,
    check_password_strength,
    normalise_email,
)
from cpd.domain.auth import (
    AttemptPolicy,
    PasswordResetToken,
    RefreshClaims,
    RefreshTokenRecord,
    TokenPair,
)
from cpd.domain.errors import Conflict, InvalidInput, NotAuthenticated, RateLimited
from cpd.domain.ids import new_id
from cpd.domain.tasks import Task
from cpd.ports.accounts import PasswordHasher, TokenIssuer
from cpd.ports.platform import AttemptThrottle, Clock
from cpd.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cpd.services.accounts.tasks import PasswordResetRequested
from cpd.services.common.tasks import handles
from cpd.services.messaging.emails import (
    account_exists_email,
    password_reset_email,
    send_email_task,
    welcome_email,
)

BAD_CREDENTIALS = "Incorrect email or password."
PASSWORD_RESET_TTL = timedelta(hours=1)
KNOWN_DEVICE_SECONDS = 30 * 24 * 3600  # a device that signed in is trusted this long after
MAX_DEVICE_SECRET = 128


@dataclass(frozen=True, slots=True)
class AccountLimits:
    """How fast sign-ins and account emails may go. ``sign_in`` holds per account for devices
    that never signed in to it, and per known device; ``sign_in_address`` per client address,
    set higher because many people can share one. ``mail_recipient`` and ``mail_address``
    limit sign-up and reset requests per target email and per client address."""

    sign_in: AttemptPolicy
    sign_in_address: AttemptPolicy
    mail_recipient: AttemptPolicy
    mail_address: AttemptPolicy


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
        limits: AccountLimits,
        public_base_url: str,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._throttle = throttle
        self._limits = limits
        self._public_base_url = public_base_url.rstrip("/")
        self._decoy_hash: str | None = None

    async def _hash(self, password: str) -> str:
        return await self._hasher.hash(password)

    async def _decoy(self) -> str:
        """Verified against when the email is unknown, so both failures cost the same time."""
        if self._decoy_hash is None:
            self._decoy_hash = await self._hasher.hash(secrets.token_urlsafe(16))
        return self._decoy_hash

    async def register(
        self,
        *,
        email: str,
        password: str,
        first_name: str,
        last_name: str,
        client: str | None = None,
    ) -> User | None:
        """Create an account and welcome it; for an email that has one already, tell its owner
        instead and create nothing (None). Callers must answer both alike: the answer must not
        reveal who has an account. ``client`` (the address asking) is limited with the email.
        """
        email = normalise_email(email)
        check_password_strength(password)
        await self._limit_mail(email, client)
        user = User.register(  # hashed either way, so both answers take the same time
            email=email,
            password_hash=await self._hash(password),
            first_name=first_name,
            last_name=last_name,
            now=self._clock.now(),
        )
        try:
            return await self._add_or_notify(user)
        except Conflict as clash:  # a racing sign-up with this email committed first
            if clash.field != "email":
                raise
            return await self._add_or_notify(user)

    async def _add_or_notify(self, user: User) -> User | None:
        async with self._uow() as uow:
            existing = await uow.users.get_by_email(user.email)
            if existing is None:
                await uow.users.add(user)
                email = welcome_email(user, site_url=self._public_base_url)
            else:
                email = account_exists_email(existing, site_url=self._public_base_url)
            uow.outbox.add(send_email_task(email))
            await uow.commit()
        return user if existing is None else None

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

    async def login(
        self, *, email: str, password: str, client: str, device: str | None = None
    ) -> TokenPair:
        """Exchange credentials for tokens; unknown emails and wrong passwords look the same.

        ``device`` is the secret a previous sign-in to this account handed the client
        (``TokenPair.device``): its attempts are counted apart, so others' failures at the
        account or the address never lock it out. The pair returned carries the secret to
        keep. Every attempt is counted before the password is checked, so parallel guesses
        cannot slip past the limit.
        """
        try:
            email = normalise_email(email)
        except InvalidInput:
            raise NotAuthenticated(BAD_CREDENTIALS) from None
        known = await self._known_device(email, device)
        if known is not None:
            keys = [(f"login:device:{known}", self._limits.sign_in)]
        else:
            keys = [
                (f"login:account:{email}", self._limits.sign_in),
                (f"login:address:{client}", self._limits.sign_in_address),
            ]
        await self._admit(keys, "Too many failed sign-in attempts; try again later.")
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
        stored_hash = user.password_hash if user else await self._decoy()
        valid = await self._hasher.verify(stored_hash, password)
        if user is None or not valid or not user.is_active:
            raise NotAuthenticated(BAD_CREDENTIALS)  # the attempt stays counted
        await self._throttle.clear(keys[0][0])
        for key, policy in keys[1:]:  # the address's count is others' failures, not cleared
            await self._throttle.refund(key, policy)
        if known is None or device is None:
            device = secrets.token_urlsafe(32)
        await self._throttle.remember(f"device:{_digest(email, device)}", KNOWN_DEVICE_SECONDS)
        async with self._uow() as uow:
            if self._hasher.needs_rehash(user.password_hash):
                user.change_password_hash(await self._hash(password), now=self._clock.now())
                await uow.users.save(user)
            pair = await self._issue_pair(uow, user.id, new_id())
            await uow.commit()
        return replace(pair, device=device)

    async def _known_device(self, email: str, device: str | None) -> str | None:
        """The device's key when it signed in to this account before, else None."""
        if not device or len(device) > MAX_DEVICE_SECRET:
            return None
        key = _digest(email, device)
        return key if await self._throttle.remembers(f"device:{key}") else None

    async def _admit(self, keys: list[tuple[str, AttemptPolicy]], refusal: str) -> None:
        """Count an attempt at every key, or refuse it (429) counted at none."""
        wait = await self._throttle.attempt(*keys)
        if wait:
            raise RateLimited(refusal, retry_after=wait)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate a refresh token. A spent token presented again revokes its whole family."""
        claims = self._tokens.decode_refresh(refresh_token)
        now = self._clock.now()
        async with self._uow() as uow:
            await _own_record(uow, claims)
            if not await uow.refresh_tokens.spend(claims.jti, now):
                record = await _own_record(uow, claims)  # as it is now: spent by a racer?
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

    async def request_password_reset(self, email: str, *, client: str | None = None) -> None:
        """Queue the reset whatever the email, so the answer takes the same time whether or not
        an account has it; the task mails a link if one does."""
        try:
            email = normalise_email(email)
        except InvalidInput:
            return
        await self._limit_mail(email, client)
        async with self._uow() as uow:
            uow.outbox.add(PasswordResetRequested(email).task())
            await uow.commit()

    @handles(PasswordResetRequested)
    async def send_password_reset(self, task: Task) -> None:
        """The ``password_reset_requested`` task: a link for an active account, else nothing.
        Its email is keyed by the task, so a retry never mails a second link."""
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.get_by_email(PasswordResetRequested.of(task).email)
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
            email = send_email_task(password_reset_email(user, link))
            uow.outbox.add(replace(email, id=uuid5(task.id, "password_reset_email")))
            await uow.commit()

    async def _limit_mail(self, email: str, client: str | None) -> None:
        keys = [(f"mail:to:{email}", self._limits.mail_recipient)]
        if client is not None:
            keys.append((f"mail:from:{client}", self._limits.mail_address))
        await self._admit(keys, "Too many requests for this email or from this address.")

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


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
