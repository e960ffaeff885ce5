"""Sign-up, sign-in, rotation, logout, password reset and profile, through the real wiring."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from uuid import UUID

import pytest
from jose import jwt

from cpd.bootstrap import Container
from cpd.domain.accounts import Actor
from cpd.domain.errors import InvalidInput, NotAuthenticated, RateLimited
from cpd.domain.ids import new_id
from cpd.services.accounts.users import BAD_CREDENTIALS, ProfileChanges
from tests.support.clock import FakeClock
from tests.unit.fakes import PASSWORD, actor_of, register, reset_mail, reset_token_from, sent_mail

NEW_PASSWORD = "a brand new passphrase"


async def login(
    app: Container,
    email: str = "alice@example.com",
    password: str = PASSWORD,
    client: str = "203.0.113.7",
):
    return await app.accounts.login(email=email, password=password, client=client)


# --- register ---------------------------------------------------------------------------------


async def test_register_stores_a_normalised_email_and_a_hashed_password(
    container: Container,
) -> None:
    user = await register(container, "  Alice@Example.COM ")
    assert user.email == "alice@example.com"
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith("$argon2id$")
    me = await container.accounts.get_me(actor_of(user))
    assert (me.id, me.email, me.first_name) == (user.id, "alice@example.com", "Alice")


async def test_signing_up_again_with_a_known_email_tells_its_owner_and_changes_nothing(
    container: Container,
) -> None:
    alice = await register(container, "alice@example.com")
    again = await container.accounts.register(
        email="ALICE@example.com ", password=NEW_PASSWORD, first_name="Mallory", last_name="X"
    )
    assert again is None
    await container.relay.drain()
    subjects = [m.subject for m in sent_mail(container) if m.to == "alice@example.com"]
    assert subjects == ["Welcome to CPD Events", "You already have a CPD Events account"]
    assert (await login(container)).access.token  # her password, her account
    with pytest.raises(NotAuthenticated):
        await login(container, password=NEW_PASSWORD, client="elsewhere")
    assert (await container.accounts.get_me(actor_of(alice))).first_name == "Alice"


async def test_register_refuses_a_weak_password(container: Container) -> None:
    with pytest.raises(InvalidInput) as caught:
        await register(container, password="password123")
    assert caught.value.field == "password"
    with pytest.raises(NotAuthenticated):  # nothing was stored
        await login(container, password="password123")


async def test_register_refuses_an_invalid_email(container: Container) -> None:
    with pytest.raises(InvalidInput) as caught:
        await register(container, "not-an-email")
    assert caught.value.field == "email"


# --- login ------------------------------------------------------------------------------------


async def test_login_returns_tokens_the_issuer_accepts(container: Container) -> None:
    user = await register(container)
    pair = await login(container, email=" ALICE@example.com")
    assert container.tokens.decode_access(pair.access.token).user_id == user.id
    assert container.tokens.decode_refresh(pair.refresh.token).user_id == user.id
    actor = await container.accounts.authenticate(pair.access.token)
    assert actor == Actor(user.id, is_superadmin=False)


async def test_wrong_password_and_unknown_email_fail_alike(container: Container) -> None:
    await register(container)
    with pytest.raises(NotAuthenticated) as wrong_password:
        await login(container, password="not the password")
    with pytest.raises(NotAuthenticated) as unknown_email:
        await login(container, email="nobody@example.com")
    with pytest.raises(NotAuthenticated) as malformed_email:
        await login(container, email="nobody")
    assert wrong_password.value.detail == unknown_email.value.detail == BAD_CREDENTIALS
    assert malformed_email.value.detail == BAD_CREDENTIALS
    assert wrong_password.value.field is None
    assert unknown_email.value.field is None


async def test_five_failures_slow_the_account_down_for_a_new_device(
    clocked: Container, clock: FakeClock
) -> None:
    await register(clocked)
    for attempt in range(5):  # from different clients: the account's count alone trips
        with pytest.raises(NotAuthenticated):
            await login(clocked, password="wrong password", client=f"10.0.0.{attempt}")
    with pytest.raises(RateLimited) as caught:
        await login(clocked, client="10.0.0.99")
    assert caught.value.retry_after == clocked.settings.login_first_delay_seconds
    clock.advance(seconds=caught.value.retry_after)
    assert (await login(clocked, client="10.0.0.99")).access.token


async def test_each_further_failure_doubles_the_wait_up_to_the_window(
    clocked: Container, clock: FakeClock
) -> None:
    await register(clocked)
    waits: list[int] = []
    while len(waits) < 7:
        try:
            await login(clocked, password="wrong password")
        except RateLimited as limited:
            waits.append(limited.retry_after)
            clock.advance(seconds=limited.retry_after)
        except NotAuthenticated:
            pass
    assert waits == [30, 60, 120, 240, 480, 900, 900]
    assert clocked.settings.login_window_seconds == 900


async def test_failures_from_one_address_slow_that_address_down(
    container: Container,
) -> None:
    await register(container, "victim@example.com")
    limit = container.settings.login_address_max_failures
    assert limit > container.settings.login_max_failures  # many people can share an address
    for n in range(limit):
        with pytest.raises(NotAuthenticated):
            await login(container, email=f"guess{n}@example.com", client="198.51.100.1")
    with pytest.raises(RateLimited):
        await login(container, email="victim@example.com", client="198.51.100.1")
    await login(container, email="victim@example.com", client="198.51.100.2")


async def test_others_failures_never_lock_out_a_known_device(container: Container) -> None:
    await register(container)
    device = (await login(container, client="192.0.2.10")).device
    assert device
    for n in range(5):  # her account, from elsewhere
        with pytest.raises(NotAuthenticated):
            await login(container, password="wrong password", client=f"203.0.113.{n}")
    for n in range(container.settings.login_address_max_failures):  # others, from her address
        with pytest.raises(NotAuthenticated):
            await login(container, email=f"guess{n}@example.com", client="192.0.2.10")
    for stranger in ("192.0.2.10", "203.0.113.99"):
        with pytest.raises(RateLimited):
            await login(container, client=stranger)
    pair = await container.accounts.login(
        email="alice@example.com", password=PASSWORD, client="192.0.2.10", device=device
    )
    assert pair.access.token
    assert pair.device == device


async def test_a_device_is_known_only_to_the_account_it_signed_in_to(
    container: Container,
) -> None:
    await register(container)
    await register(container, "bob@example.com")
    alices_device = (await login(container)).device
    assert alices_device
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            await login(container, email="bob@example.com", password="wrong password")
    with pytest.raises(RateLimited):  # Alice's device is a stranger to Bob's account
        await container.accounts.login(
            email="bob@example.com", password=PASSWORD, client="x", device=alices_device
        )


async def test_a_known_device_has_its_own_limit(container: Container) -> None:
    await register(container)
    device = (await login(container)).device
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            await container.accounts.login(
                email="alice@example.com", password="wrong", client="x", device=device
            )
    with pytest.raises(RateLimited):
        await container.accounts.login(
            email="alice@example.com", password=PASSWORD, client="x", device=device
        )
    assert (await login(container)).access.token  # the account itself was not counted


async def test_parallel_guesses_cannot_outrun_the_limit(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 guesses at once: each is counted before its password is checked, so only the
    free attempts ever reach the hasher (which holds them until all have been decided)."""
    await register(container)
    verify = container.hasher.verify
    release = asyncio.Event()
    all_decided = asyncio.Event()
    checked: list[str] = []
    guesses = [PASSWORD, *(f"guess number {n}" for n in range(59))]
    tasks: list[asyncio.Task[object]] = []

    def decided(*_: object) -> None:  # each attempt either reached the hasher or finished
        if len(checked) + sum(task.done() for task in tasks) == len(guesses):
            all_decided.set()

    async def held_verify(password_hash: str, password: str) -> bool:
        checked.append(password)
        decided()
        await release.wait()
        return await verify(password_hash, password)

    monkeypatch.setattr(container.hasher, "verify", held_verify)
    for guess in guesses:
        tasks.append(asyncio.create_task(login(container, password=guess)))
        tasks[-1].add_done_callback(decided)
    await all_decided.wait()
    assert len(checked) == container.settings.login_max_failures
    release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, RateLimited)]
    assert len(refused) == len(guesses) - len(checked)


async def test_a_successful_login_clears_the_account_count(container: Container) -> None:
    await register(container)
    for n in range(4):
        with pytest.raises(NotAuthenticated):
            await login(container, password="wrong password", client=f"10.1.0.{n}")
    await login(container, client="10.1.0.50")
    for n in range(4):  # without the reset this would be failures 5..8
        with pytest.raises(NotAuthenticated):
            await login(container, password="wrong password", client=f"10.2.0.{n}")
    pair = await login(container, client="10.2.0.50")
    assert pair.access.token


async def test_successful_logins_from_one_address_never_add_up(container: Container) -> None:
    for n in range(container.settings.login_address_max_failures + 5):
        await register(container, f"colleague{n}@example.com")
        assert (await login(container, email=f"colleague{n}@example.com", client="nat")).device


async def test_an_inactive_account_cannot_log_in_or_use_its_tokens(container: Container) -> None:
    user = await register(container)
    pair = await login(container)
    async with container.uow() as uow:
        stored = await uow.users.get(user.id)
        assert stored is not None
        stored.is_active = False
        await uow.users.save(stored)
        await uow.commit()
    with pytest.raises(NotAuthenticated) as caught:
        await login(container)
    assert caught.value.detail == BAD_CREDENTIALS
    with pytest.raises(NotAuthenticated):
        await container.accounts.authenticate(pair.access.token)
    with pytest.raises(NotAuthenticated):
        await container.accounts.refresh(pair.refresh.token)


async def test_authenticate_refuses_a_token_for_a_missing_user(container: Container) -> None:
    token = container.tokens.issue_access(new_id(), new_id(), container.clock.now()).token
    with pytest.raises(NotAuthenticated):
        await container.accounts.authenticate(token)


async def test_authenticate_refuses_a_refresh_token_and_garbage(container: Container) -> None:
    await register(container)
    pair = await login(container)
    for token in (pair.refresh.token, "not.a.jwt", ""):
        with pytest.raises(NotAuthenticated):
            await container.accounts.authenticate(token)


async def test_hashing_never_waits_behind_other_blocking_work(container: Container) -> None:
    """Templates, storage and mail use the loop's default thread pool: fill it, sign up and in."""
    loop = asyncio.get_running_loop()
    release = threading.Event()
    busy_pool = ThreadPoolExecutor(max_workers=1)
    loop.set_default_executor(busy_pool)
    blocked = loop.run_in_executor(None, release.wait)
    try:
        async with asyncio.timeout(10):  # reached only when hashing queues behind the pool
            await register(container)
            assert (await login(container)).access.token
        assert not blocked.done()
    finally:
        release.set()
        await blocked
        busy_pool.shutdown()


# --- refresh rotation -------------------------------------------------------------------------


async def test_refresh_rotates_to_a_new_working_pair(container: Container) -> None:
    user = await register(container)
    first = await login(container)
    second = await container.accounts.refresh(first.refresh.token)
    assert second.refresh.token != first.refresh.token
    assert second.refresh.jti != first.refresh.jti
    assert (await container.accounts.authenticate(second.access.token)).user_id == user.id
    third = await container.accounts.refresh(second.refresh.token)
    assert container.tokens.decode_refresh(third.refresh.token).family_id == (
        container.tokens.decode_refresh(first.refresh.token).family_id
    )


async def test_reusing_a_spent_refresh_token_revokes_the_whole_family(
    container: Container,
) -> None:
    await register(container)
    first = await login(container)
    other_session = await login(container)
    second = await container.accounts.refresh(first.refresh.token)
    with pytest.raises(NotAuthenticated):
        await container.accounts.refresh(first.refresh.token)  # replayed: it leaked
    with pytest.raises(NotAuthenticated):
        await container.accounts.refresh(second.refresh.token)  # the newest is revoked too
    # A separate login (another family) is untouched.
    assert (await container.accounts.refresh(other_session.refresh.token)).access.token


async def test_refresh_refuses_an_access_token_and_an_unknown_jti(container: Container) -> None:
    user = await register(container)
    pair = await login(container)
    with pytest.raises(NotAuthenticated):
        await container.accounts.refresh(pair.access.token)
    never_stored = container.tokens.issue_refresh(user.id, new_id(), container.clock.now())
    with pytest.raises(NotAuthenticated):
        await container.accounts.refresh(never_stored.token)


async def test_an_expired_refresh_record_is_refused(clocked: Container, clock: FakeClock) -> None:
    await register(clocked)
    early, late = await login(clocked), await login(clocked)
    ttl = clocked.settings.refresh_token_ttl_seconds
    clock.advance(seconds=ttl - 60)
    assert (await clocked.accounts.refresh(early.refresh.token)).access.token
    clock.advance(seconds=61)
    # The JWT itself is still valid by the wall clock; the stored record has expired.
    with pytest.raises(NotAuthenticated):
        await clocked.accounts.refresh(late.refresh.token)


def forged_refresh(app: Container, *, user_id: UUID, jti: str, family_id: UUID) -> str:
    """A refresh token signed with the real key whose claims mix two people's sessions."""
    now = int(app.clock.now().timestamp())
    claims = {"sub": str(user_id), "typ": "refresh", "fam": str(family_id), "jti": jti}
    settings = app.settings
    claims |= {"iss": settings.jwt_issuer, "aud": settings.jwt_audience}
    claims |= {"iat": now, "nbf": now, "exp": now + 600}
    return str(jwt.encode(claims, settings.secret_key, algorithm=settings.jwt_algorithm))


async def test_an_access_token_for_another_users_session_is_refused(
    container: Container,
) -> None:
    alice = await register(container)
    await register(container, "bob@example.com")
    bobs = await login(container, email="bob@example.com")
    bobs_session = container.tokens.decode_access(bobs.access.token).session_id
    forged = container.tokens.issue_access(alice.id, bobs_session, container.clock.now())
    with pytest.raises(NotAuthenticated):
        await container.accounts.authenticate(forged.token)


async def test_a_refresh_token_naming_another_users_session_is_refused(
    container: Container,
) -> None:
    alice = await register(container)
    await register(container, "bob@example.com")
    bobs_pair = await login(container, email="bob@example.com")
    bobs = container.tokens.decode_refresh(bobs_pair.refresh.token)
    alices = container.tokens.decode_refresh((await login(container)).refresh.token)
    bobs_token = forged_refresh(container, user_id=alice.id, jti=bobs.jti, family_id=bobs.family_id)
    bobs_family = forged_refresh(
        container, user_id=alice.id, jti=alices.jti, family_id=bobs.family_id
    )
    for forged in (bobs_token, bobs_family):
        with pytest.raises(NotAuthenticated):
            await container.accounts.refresh(forged)
        with pytest.raises(NotAuthenticated):
            await container.accounts.logout(actor_of(alice), forged)
    # Bob's session was neither spent nor ended by the forgeries.
    assert (await container.accounts.authenticate(bobs_pair.access.token)).user_id == bobs.user_id
    assert (await container.accounts.refresh(bobs_pair.refresh.token)).access.token


# --- logout -----------------------------------------------------------------------------------


async def test_logout_stops_the_refresh_token(container: Container) -> None:
    user = await register(container)
    pair = await login(container)
    rotated = await container.accounts.refresh(pair.refresh.token)
    await container.accounts.logout(actor_of(user), rotated.refresh.token)
    with pytest.raises(NotAuthenticated):
        await container.accounts.refresh(rotated.refresh.token)


async def test_logout_with_someone_elses_token_is_refused(container: Container) -> None:
    alice = await register(container)
    await register(container, "bob@example.com")
    bobs = await login(container, email="bob@example.com")
    with pytest.raises(NotAuthenticated):
        await container.accounts.logout(actor_of(alice), bobs.refresh.token)
    assert (await container.accounts.refresh(bobs.refresh.token)).access.token  # still works


# --- password reset ---------------------------------------------------------------------------


async def test_reset_for_an_unknown_or_malformed_email_sends_nothing(container: Container) -> None:
    await register(container)
    await container.relay.drain()  # the welcome email
    await container.accounts.request_password_reset("nobody@example.com")
    await container.accounts.request_password_reset("not an email")
    await container.relay.drain()
    assert await container.outbox_store.pending_count() == 0
    assert reset_mail(container) == []


async def test_a_reset_request_does_the_same_work_whether_or_not_the_account_exists(
    container: Container,
) -> None:
    """The request only queues a task; the lookup, the token and the email happen later, so
    its answer takes the same time for any email."""
    await register(container)
    await container.relay.drain()
    for email in ("alice@example.com", "nobody@example.com"):
        await container.accounts.request_password_reset(email)
        assert await container.outbox_store.pending_count() == 1
        await container.relay.drain()
    assert [m.to for m in reset_mail(container)] == ["alice@example.com"]


async def test_reset_requests_are_limited_per_email_and_per_address(
    container: Container,
) -> None:
    per_email = container.settings.account_mail_per_recipient
    for n in range(per_email):
        await container.accounts.request_password_reset("anyone@example.com", client=f"10.9.0.{n}")
    with pytest.raises(RateLimited) as caught:  # known or not: the limit is the same
        await container.accounts.request_password_reset("anyone@example.com", client="10.9.1.1")
    assert caught.value.retry_after == 60
    for n in range(container.settings.account_mail_per_address):
        await container.accounts.request_password_reset(f"p{n}@example.com", client="10.8.0.1")
    with pytest.raises(RateLimited):
        await container.accounts.request_password_reset("q@example.com", client="10.8.0.1")
    await container.relay.drain()


async def test_sign_ups_are_limited_per_email_and_per_address(container: Container) -> None:
    for n in range(container.settings.account_mail_per_recipient):
        await container.accounts.register(
            email="alice@example.com",
            password=PASSWORD,
            first_name="A",
            last_name="S",
            client=f"10.7.0.{n}",
        )
    with pytest.raises(RateLimited):
        await container.accounts.register(
            email="alice@example.com", password=PASSWORD, first_name="A", last_name="S"
        )
    for n in range(container.settings.account_mail_per_address):
        await container.accounts.register(
            email=f"p{n}@example.com",
            password=PASSWORD,
            first_name="P",
            last_name="Q",
            client="10.6.0.1",
        )
    with pytest.raises(RateLimited):
        await container.accounts.register(
            email="q@example.com",
            password=PASSWORD,
            first_name="Q",
            last_name="R",
            client="10.6.0.1",
        )


async def test_reset_for_an_inactive_account_sends_nothing(container: Container) -> None:
    user = await register(container)
    async with container.uow() as uow:
        stored = await uow.users.get(user.id)
        assert stored is not None
        stored.is_active = False
        await uow.users.save(stored)
        await uow.commit()
    await container.accounts.request_password_reset("alice@example.com")
    await container.relay.drain()
    assert reset_mail(container) == []


async def test_password_reset_end_to_end(container: Container) -> None:
    user = await register(container)
    session = await login(container)
    await container.accounts.request_password_reset(" ALICE@example.com ")
    assert reset_mail(container) == []  # nothing is sent inside the request
    await container.relay.drain()

    [message] = reset_mail(container)
    assert message.to == "alice@example.com"
    assert "reset" in message.subject.lower()
    assert message.message_id
    assert message.message_id.endswith("@cpd.tasks>")
    assert message.text.count(container.settings.public_base_url + "/reset-password?token=") == 1
    token = reset_token_from(message)
    assert await container.outbox_store.pending_count() == 0

    await container.accounts.confirm_password_reset(token=token, new_password=NEW_PASSWORD)

    assert (await login(container, password=NEW_PASSWORD)).access.token
    with pytest.raises(NotAuthenticated):
        await login(container, password=PASSWORD, client="another client")
    with pytest.raises(NotAuthenticated):  # sessions from before the reset are revoked
        await container.accounts.refresh(session.refresh.token)
    with pytest.raises(InvalidInput) as caught:  # single use
        await container.accounts.confirm_password_reset(
            token=token, new_password="yet another one!"
        )
    assert caught.value.field == "token"
    assert (await container.accounts.get_me(actor_of(user))).id == user.id


async def test_a_reset_spends_every_other_outstanding_link(container: Container) -> None:
    await register(container)
    for _ in range(2):
        await container.accounts.request_password_reset("alice@example.com")
        await container.relay.drain()
    first, second = (reset_token_from(m) for m in reset_mail(container))
    await container.accounts.confirm_password_reset(token=first, new_password=NEW_PASSWORD)
    with pytest.raises(InvalidInput) as caught:
        await container.accounts.confirm_password_reset(
            token=second, new_password="an attacker's passphrase"
        )
    assert caught.value.field == "token"
    assert (await login(container, password=NEW_PASSWORD)).access.token


async def test_a_password_change_spends_outstanding_reset_links(container: Container) -> None:
    await register(container)
    await container.accounts.request_password_reset("alice@example.com")
    await container.relay.drain()
    [message] = reset_mail(container)
    await container.accounts.create_superuser(  # the CLI's way of setting a password
        email="alice@example.com", password=NEW_PASSWORD, first_name="A", last_name="S"
    )
    with pytest.raises(InvalidInput):
        await container.accounts.confirm_password_reset(
            token=reset_token_from(message), new_password="an attacker's passphrase"
        )


async def test_reset_refuses_a_made_up_token(container: Container) -> None:
    with pytest.raises(InvalidInput) as caught:
        await container.accounts.confirm_password_reset(token="made-up", new_password=NEW_PASSWORD)
    assert caught.value.field == "token"


async def test_reset_checks_the_new_password_first(container: Container) -> None:
    await register(container)
    await container.accounts.request_password_reset("alice@example.com")
    await container.relay.drain()
    token = reset_token_from(reset_mail(container)[0])
    with pytest.raises(InvalidInput) as caught:
        await container.accounts.confirm_password_reset(token=token, new_password="password123")
    assert caught.value.field == "new_password"
    # The token was not spent by the refused attempt.
    await container.accounts.confirm_password_reset(token=token, new_password=NEW_PASSWORD)
    assert (await login(container, password=NEW_PASSWORD)).access.token


async def test_an_expired_reset_token_is_refused(clocked: Container, clock: FakeClock) -> None:
    await register(clocked)
    await clocked.accounts.request_password_reset("alice@example.com")
    await clocked.relay.drain()
    token = reset_token_from(reset_mail(clocked)[0])
    clock.advance(hours=1, seconds=1)
    with pytest.raises(InvalidInput) as caught:
        await clocked.accounts.confirm_password_reset(token=token, new_password=NEW_PASSWORD)
    assert caught.value.field == "token"
    assert (await login(clocked)).access.token  # the old password still works


async def test_a_reset_token_just_inside_its_hour_works(
    clocked: Container, clock: FakeClock
) -> None:
    await register(clocked)
    await clocked.accounts.request_password_reset("alice@example.com")
    await clocked.relay.drain()
    token = reset_token_from(reset_mail(clocked)[0])
    clock.advance(minutes=59)
    await clocked.accounts.confirm_password_reset(token=token, new_password=NEW_PASSWORD)
    assert (await login(clocked, password=NEW_PASSWORD)).access.token


# --- me ---------------------------------------------------------------------------------------


async def test_update_me_changes_names_and_profile(clocked: Container, clock: FakeClock) -> None:
    user = await register(clocked)
    clock.advance(minutes=5)
    updated = await clocked.accounts.update_me(
        actor_of(user),
        ProfileChanges(
            first_name="Alicia",
            profile={"timezone": "America/New_York", "professional_body": "NMC"},
        ),
    )
    assert updated.first_name == "Alicia"
    assert updated.last_name == "Smith"
    assert updated.updated_at == clock.now() != updated.created_at
    me = await clocked.accounts.get_me(actor_of(user))
    assert me.first_name == "Alicia"
    assert me.profile.timezone == "America/New_York"
    assert me.profile.professional_body == "NMC"


async def test_update_me_with_an_invalid_profile_changes_nothing(container: Container) -> None:
    user = await register(container)
    with pytest.raises(InvalidInput) as caught:
        await container.accounts.update_me(
            actor_of(user), ProfileChanges(first_name="Alicia", profile={"timezone": "Nope/Nope"})
        )
    assert caught.value.field == "profile.timezone"
    me = await container.accounts.get_me(actor_of(user))
    assert me.first_name == "Alice"
    assert me.profile.timezone is None


async def test_me_for_a_missing_account_is_not_authenticated(container: Container) -> None:
    ghost = Actor(new_id())
    with pytest.raises(NotAuthenticated):
        await container.accounts.get_me(ghost)
    with pytest.raises(NotAuthenticated):
        await container.accounts.update_me(ghost, ProfileChanges(first_name="Ghost"))


# --- superusers -------------------------------------------------------------------------------


async def test_create_superuser_creates_a_superadmin(container: Container) -> None:
    admin = await container.accounts.create_superuser(
        email="Root@Example.com", password=PASSWORD, first_name="Root", last_name="Admin"
    )
    assert admin.is_superadmin
    assert admin.email == "root@example.com"
    pair = await login(container, email="root@example.com")
    assert (await container.accounts.authenticate(pair.access.token)).is_superadmin


async def test_create_superuser_promotes_an_existing_account(container: Container) -> None:
    user = await register(container)
    promoted = await container.accounts.create_superuser(
        email="alice@example.com", password=NEW_PASSWORD, first_name="X", last_name="Y"
    )
    assert promoted.id == user.id
    assert promoted.is_superadmin
    assert promoted.first_name == "Alice"  # an existing account keeps its details
    pair = await login(container, password=NEW_PASSWORD)
    assert (await container.accounts.authenticate(pair.access.token)).is_superadmin


async def test_create_superuser_checks_the_password(container: Container) -> None:
    with pytest.raises(InvalidInput):
        await container.accounts.create_superuser(
            email="root@example.com", password="short", first_name="R", last_name="A"
        )


async def test_access_tokens_carry_the_configured_lifetime(container: Container) -> None:
    await register(container)
    pair = await login(container)
    claims = container.tokens.decode_access(pair.access.token)
    lifetime = claims.expires_at - container.clock.now()
    ttl = timedelta(seconds=container.settings.access_token_ttl_seconds)
    assert ttl - timedelta(seconds=5) < lifetime <= ttl
