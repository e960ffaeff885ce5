"""The unit of work and its repositories: one contract, held by every persistence adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest

from cpd.domain.accounts import (
    Membership,
    Organization,
    OrganizationStatus,
    Role,
    User,
    UserProfile,
)
from cpd.domain.errors import Conflict
from cpd.domain.invitations import Invitation
from cpd.domain.pages import PageRequest
from cpd.domain.refunds import STANDARD_REFUNDS, RefundPolicy
from tests.contract.builders import (
    T0,
    Backend,
    given_users,
    make_membership,
    make_organization,
    make_password_reset,
    make_refresh_token,
    make_user,
)

FULL_PROFILE = UserProfile(
    professional_title="Consultant Anaesthetist",
    professional_body="GMC",
    registration_number="1234567",
    phone="+44 20 7946 0000",
    timezone="Europe/London",
    bio="Línea dos — ünïcödé ✓\nsecond line",
)


async def add_and_commit(
    backend: Backend,
    *entities: User | Organization | Membership,
    progress: list[str] | None = None,
) -> None:
    """Add the entities in one unit of work and commit; ``progress`` records how far it got."""
    steps = [] if progress is None else progress
    async with backend.uow() as uow:
        for entity in entities:
            if isinstance(entity, User):
                await uow.users.add(entity)
            elif isinstance(entity, Organization):
                await uow.organizations.add(entity)
            else:
                await uow.memberships.add(entity)
        steps.append("added")
        await uow.commit()
        steps.append("committed")


# Users


async def test_user_round_trips_with_profile_and_aware_utc_times(backend: Backend) -> None:
    user = make_user(created_at=T0, profile=FULL_PROFILE)
    await given_users(backend, user)

    async with backend.uow() as uow:
        by_id = await uow.users.get(user.id)
        by_email = await uow.users.get_by_email(user.email)

    assert by_id == user
    assert by_email == user
    assert by_id is not None
    for moment in (by_id.created_at, by_id.updated_at):
        assert moment.tzinfo is not None
        assert moment.utcoffset() == timedelta(0)
        assert moment == T0


async def test_unknown_user_is_none(backend: Backend) -> None:
    async with backend.uow() as uow:
        assert await uow.users.get(uuid4()) is None
        assert await uow.users.get_by_email("nobody@example.org") is None


async def test_save_changes_a_user(backend: Backend) -> None:
    user = make_user()
    await given_users(backend, user)
    later = T0 + timedelta(days=1, microseconds=7)

    async with backend.uow() as uow:
        loaded = await uow.users.get(user.id)
        assert loaded is not None
        loaded.update_details(
            now=later, first_name="Grace", profile_changes={"bio": "Rear admiral", "phone": None}
        )
        loaded.change_password_hash("new-hash", now=later)
        loaded.grant_superadmin(now=later)
        loaded.is_active = False
        await uow.users.save(loaded)
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.users.get(user.id) == loaded
    assert loaded.created_at == T0
    assert loaded.updated_at == later


async def test_a_callers_changes_are_invisible_until_saved(backend: Backend) -> None:
    user = make_user(first_name="Ada")
    async with backend.uow() as uow:
        await uow.users.add(user)
        user.first_name = "Changed after add"
        await uow.commit()

    async with backend.uow() as uow:
        loaded = await uow.users.get(user.id)
        assert loaded is not None
        assert loaded.first_name == "Ada"
        loaded.first_name = "Changed without save"
        await uow.commit()

    async with backend.uow() as uow:
        again = await uow.users.get(user.id)
    assert again is not None
    assert again.first_name == "Ada"


async def test_duplicate_email_is_a_conflict_on_email(backend: Backend) -> None:
    first = make_user("same@example.org")
    await given_users(backend, first)

    progress: list[str] = []
    with pytest.raises(Conflict) as raised:
        await add_and_commit(backend, make_user("same@example.org"), progress=progress)
    assert raised.value.field == "email"
    assert "committed" not in progress  # at add or at commit, never after a "successful" commit

    async with backend.uow() as uow:  # the first account is intact and the store still works
        assert await uow.users.get_by_email("same@example.org") == first


async def test_duplicate_email_within_one_unit_of_work_is_a_conflict(backend: Backend) -> None:
    twins = make_user("twice@example.org"), make_user("twice@example.org")
    with pytest.raises(Conflict) as raised:
        await add_and_commit(backend, *twins)
    assert raised.value.field == "email"

    async with backend.uow() as uow:
        assert await uow.users.get_by_email("twice@example.org") is None


# Organizations


async def test_organization_add_get_save_and_slug(backend: Backend) -> None:
    organization = make_organization("Royal College", slug="royal-college")
    async with backend.uow() as uow:
        assert not await uow.organizations.slug_exists("royal-college")
        await uow.organizations.add(organization)
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.organizations.get(organization.id) == organization
        assert await uow.organizations.get_for_update(organization.id) == organization
        assert await uow.organizations.get(uuid4()) is None
        assert await uow.organizations.slug_exists("royal-college")
        assert not await uow.organizations.slug_exists("royal")

        organization.update(
            now=T0 + timedelta(hours=1),
            name="Royal College of Tests",
            contact_email="Office@Example.org",
            logo_url="https://example.org/logo.png",
        )
        await uow.organizations.save(organization)
        await uow.commit()

    async with backend.uow() as uow:
        loaded = await uow.organizations.get(organization.id)
    assert loaded == organization
    assert loaded is not None
    assert loaded.contact_email == "office@example.org"
    assert loaded.slug == "royal-college"


async def test_an_organizations_approval_round_trips(backend: Backend) -> None:
    organization = make_organization("Newcomers")
    assert organization.approved_at is None
    await add_and_commit(backend, organization)
    async with backend.uow() as uow:
        loaded = await uow.organizations.get(organization.id)
        assert loaded is not None
        assert loaded.approved_at is None
        loaded.approve(now=T0 + timedelta(days=1, microseconds=3))
        await uow.organizations.save(loaded)
        await uow.commit()
    async with backend.uow() as uow:
        approved = await uow.organizations.get(organization.id)
    assert approved is not None
    assert approved.approved_at == T0 + timedelta(days=1, microseconds=3)
    assert approved.status is OrganizationStatus.APPROVED


async def test_invitations_round_trip_list_newest_first_and_find_open_ones(
    backend: Backend,
) -> None:
    organization, other, admin, invitee = (
        make_organization(),
        make_organization(),
        make_user(),
        make_user(),
    )
    await add_and_commit(backend, organization, other, admin, invitee)

    def invite(email: str, minutes: int, where: Organization = organization) -> Invitation:
        return Invitation.issue(
            organization_id=where.id,
            email=email,
            role=Role.ORG_STAFF,
            token_hash=f"{minutes:064d}",
            invited_by=admin.id,
            now=T0 + timedelta(minutes=minutes, microseconds=5),
        )

    first, second, third = (
        invite("a@example.org", 1),
        invite("a@example.org", 2),
        invite("b@x.io", 3),
    )
    elsewhere = invite("a@example.org", 4, other)
    async with backend.uow() as uow:
        for invitation in (first, second, third, elsewhere):
            await uow.invitations.add(invitation)
        await uow.commit()
    async with backend.uow() as uow:
        first.revoke(now=T0 + timedelta(hours=1))
        second.accept(invitee_as("a@example.org", invitee), now=T0 + timedelta(hours=2))
        await uow.invitations.save(first)
        await uow.invitations.save(second)
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.invitations.get_by_token_hash(second.token_hash) == second
        assert await uow.invitations.get(organization.id, third.id) == third
        assert await uow.invitations.get(other.id, third.id) is None  # another tenant's id
        assert await uow.invitations.get_by_token_hash("0" * 64) is None
        assert await uow.invitations.open_for_email(organization.id, "a@example.org") == []
        assert await uow.invitations.open_for_email(organization.id, "b@x.io") == [third]
        page = await uow.invitations.list_for_organization(organization.id, PageRequest(2, 0))
        rest = await uow.invitations.list_for_organization(organization.id, PageRequest(2, 2))
    assert (page.items, page.total) == ([third, second], 3)
    assert rest.items == [first]
    assert second.accepted_by == invitee.id


async def test_a_duplicate_invitation_token_is_a_conflict(backend: Backend) -> None:
    organization, admin = make_organization(), make_user()
    await add_and_commit(backend, organization, admin)
    twins = [
        Invitation.issue(
            organization_id=organization.id,
            email=f"{n}@example.org",
            role=Role.MEMBER,
            token_hash="f" * 64,
            invited_by=admin.id,
            now=T0,
        )
        for n in range(2)
    ]

    async def add_both() -> None:
        async with backend.uow() as uow:
            for invitation in twins:
                await uow.invitations.add(invitation)
            await uow.commit()

    with pytest.raises(Conflict):
        await add_both()
    async with backend.uow() as uow:
        assert await uow.invitations.get_by_token_hash("f" * 64) is None


def invitee_as(email: str, user: User) -> User:
    """``user`` holding ``email`` (the address an invitation was sent to)."""
    return replace(user, email=email)


async def test_duplicate_slug_is_a_conflict_on_slug(backend: Backend) -> None:
    async with backend.uow() as uow:
        await uow.organizations.add(make_organization("One", slug="taken"))
        await uow.commit()

    with pytest.raises(Conflict) as raised:
        await add_and_commit(backend, make_organization("Two", slug="taken"))
    assert raised.value.field == "slug"


async def test_list_all_paginates_by_case_insensitive_name(backend: Backend) -> None:
    names = ["gamma", "Alpha", "epsilon", "beta", "Delta"]
    async with backend.uow() as uow:
        for name in names:
            await uow.organizations.add(make_organization(name))
        await uow.commit()

    async with backend.uow() as uow:
        everything = await uow.organizations.list_all(PageRequest(limit=50))
        middle = await uow.organizations.list_all(PageRequest(limit=2, offset=1))
        tail = await uow.organizations.list_all(PageRequest(limit=2, offset=4))
        beyond = await uow.organizations.list_all(PageRequest(limit=2, offset=10))

    assert [o.name for o in everything.items] == ["Alpha", "beta", "Delta", "epsilon", "gamma"]
    assert (everything.total, everything.limit, everything.offset) == (5, 50, 0)
    assert [o.name for o in middle.items] == ["beta", "Delta"]
    assert (middle.total, middle.limit, middle.offset) == (5, 2, 1)
    assert [o.name for o in tail.items] == ["gamma"]
    assert tail.total == 5
    assert beyond.items == []
    assert beyond.total == 5


async def test_list_for_user_shows_only_their_organizations(backend: Backend) -> None:
    alice, bob = make_user(), make_user()
    orgs = {name: make_organization(name) for name in ["Zeta", "alpha", "Mu", "beta"]}
    async with backend.uow() as uow:
        await uow.users.add(alice)
        await uow.users.add(bob)
        for organization in orgs.values():
            await uow.organizations.add(organization)
        for name in ["Zeta", "alpha", "Mu"]:
            await uow.memberships.add(make_membership(orgs[name], alice, Role.MEMBER))
        await uow.memberships.add(make_membership(orgs["beta"], bob, Role.ORG_ADMIN))
        await uow.commit()

    async with backend.uow() as uow:
        alices = await uow.organizations.list_for_user(alice.id, PageRequest(limit=2))
        alices_rest = await uow.organizations.list_for_user(alice.id, PageRequest(offset=2))
        bobs = await uow.organizations.list_for_user(bob.id, PageRequest())
        nobodys = await uow.organizations.list_for_user(uuid4(), PageRequest())

    assert [o.name for o in alices.items] == ["alpha", "Mu"]
    assert alices.total == 3
    assert [o.name for o in alices_rest.items] == ["Zeta"]
    assert [o.name for o in bobs.items] == ["beta"]
    assert bobs.items[0] == orgs["beta"]
    assert (nobodys.items, nobodys.total) == ([], 0)


# Memberships


async def test_memberships_add_get_change_role_remove_and_count(backend: Backend) -> None:
    admin, staff, member = make_user(), make_user(), make_user()
    organization, other = make_organization("Org"), make_organization("Other")
    joined = T0 + timedelta(minutes=5, microseconds=3)
    async with backend.uow() as uow:
        for user in (admin, staff, member):
            await uow.users.add(user)
        await uow.organizations.add(organization)
        await uow.organizations.add(other)
        await uow.memberships.add(make_membership(organization, admin, Role.ORG_ADMIN, joined))
        await uow.memberships.add(make_membership(organization, staff, Role.ORG_STAFF))
        await uow.memberships.add(make_membership(organization, member, Role.MEMBER))
        await uow.memberships.add(make_membership(other, member, Role.ORG_ADMIN))
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.memberships.get(organization.id, admin.id) == make_membership(
            organization, admin, Role.ORG_ADMIN, joined
        )
        assert await uow.memberships.get(other.id, admin.id) is None
        assert await uow.memberships.count_with_role(organization.id, Role.ORG_ADMIN) == 1
        assert await uow.memberships.count_with_role(organization.id, Role.MEMBER) == 1

        await uow.memberships.change_role(organization.id, staff.id, Role.ORG_ADMIN)
        await uow.memberships.remove(organization.id, member.id)
        await uow.memberships.remove(organization.id, uuid4())  # absent: nothing happens
        await uow.commit()

    async with backend.uow() as uow:
        changed = await uow.memberships.get(organization.id, staff.id)
        assert changed is not None
        assert changed.role is Role.ORG_ADMIN
        assert await uow.memberships.get(organization.id, member.id) is None
        assert await uow.memberships.get(other.id, member.id) is not None  # other org untouched
        assert await uow.memberships.count_with_role(organization.id, Role.ORG_ADMIN) == 2
        assert await uow.memberships.count_with_role(organization.id, Role.MEMBER) == 0
        assert await uow.memberships.count_with_role(other.id, Role.ORG_ADMIN) == 1


async def test_duplicate_membership_is_a_conflict(backend: Backend) -> None:
    user, organization = make_user(), make_organization()
    async with backend.uow() as uow:
        await uow.users.add(user)
        await uow.organizations.add(organization)
        await uow.memberships.add(make_membership(organization, user))
        await uow.commit()

    with pytest.raises(Conflict) as raised:
        await add_and_commit(backend, make_membership(organization, user, Role.ORG_ADMIN))
    assert raised.value.field == "email"


async def test_list_members_orders_by_name_and_paginates(backend: Backend) -> None:
    organization = make_organization()
    people = [
        make_user(first_name="zoe", last_name="Brown"),
        make_user(first_name="Amy", last_name="brown"),
        make_user(first_name="Carl", last_name="Adams"),
        make_user(first_name="Dan", last_name="Cole"),
    ]
    outsider = make_user(first_name="Aaron", last_name="Aardvark")
    roles = [Role.MEMBER, Role.ORG_STAFF, Role.ORG_ADMIN, Role.MEMBER]
    async with backend.uow() as uow:
        for user in [*people, outsider]:
            await uow.users.add(user)
        await uow.organizations.add(organization)
        for n, (user, role) in enumerate(zip(people, roles, strict=True)):
            await uow.memberships.add(
                make_membership(organization, user, role, T0 + timedelta(seconds=n))
            )
        await uow.commit()

    async with backend.uow() as uow:
        first = await uow.memberships.list_members(organization.id, PageRequest(limit=3))
        second = await uow.memberships.list_members(organization.id, PageRequest(limit=3, offset=3))

    assert [(m.first_name, m.last_name) for m in first.items] == [
        ("Carl", "Adams"),
        ("Amy", "brown"),
        ("zoe", "Brown"),
    ]
    assert [(m.first_name, m.last_name) for m in second.items] == [("Dan", "Cole")]
    assert (first.total, first.limit, first.offset) == (4, 3, 0)
    assert second.total == 4
    carl = first.items[0]
    assert (carl.user_id, carl.email, carl.role) == (people[2].id, people[2].email, Role.ORG_ADMIN)
    assert carl.joined_at == T0 + timedelta(seconds=2)


# Refresh tokens


async def test_refresh_token_round_trips_and_is_spent_once(backend: Backend) -> None:
    user = make_user()
    record = make_refresh_token(user)
    async with backend.uow() as uow:
        await uow.users.add(user)
        await uow.refresh_tokens.add(record)
        await uow.commit()

    spent_at = T0 + timedelta(minutes=1, microseconds=11)
    async with backend.uow() as uow:
        assert await uow.refresh_tokens.get(record.jti) == record
        assert await uow.refresh_tokens.get("unknown") is None
        assert await uow.refresh_tokens.spend(record.jti, spent_at) is True
        assert await uow.refresh_tokens.spend(record.jti, spent_at) is False
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.refresh_tokens.get(record.jti) == replace(record, used_at=spent_at)
        assert await uow.refresh_tokens.spend(record.jti, spent_at) is False
        assert await uow.refresh_tokens.spend("unknown", spent_at) is False


async def test_expired_or_revoked_refresh_token_cannot_be_spent(backend: Backend) -> None:
    user = make_user()
    expiring = make_refresh_token(user, expires_at=T0 + timedelta(hours=1))
    revoked = make_refresh_token(user, revoked_at=T0)
    async with backend.uow() as uow:
        await uow.users.add(user)
        await uow.refresh_tokens.add(expiring)
        await uow.refresh_tokens.add(revoked)
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.refresh_tokens.spend(expiring.jti, expiring.expires_at) is False
        later = expiring.expires_at + timedelta(seconds=1)
        assert await uow.refresh_tokens.spend(expiring.jti, later) is False
        assert await uow.refresh_tokens.spend(revoked.jti, T0 + timedelta(seconds=1)) is False
        just_before = expiring.expires_at - timedelta(microseconds=1)
        assert await uow.refresh_tokens.spend(expiring.jti, just_before) is True


async def test_revoke_family_and_revoke_all_for_user(backend: Backend) -> None:
    alice, bob = make_user(), make_user()
    family = uuid4()
    earlier = T0 - timedelta(days=1)
    in_family = [make_refresh_token(alice, family_id=family) for _ in range(2)]
    already_revoked = make_refresh_token(alice, family_id=family, revoked_at=earlier)
    alice_other = make_refresh_token(alice)
    bobs = make_refresh_token(bob)
    tokens = [*in_family, already_revoked, alice_other, bobs]
    async with backend.uow() as uow:
        await uow.users.add(alice)
        await uow.users.add(bob)
        for token in tokens:
            await uow.refresh_tokens.add(token)
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.refresh_tokens.session_active(family, alice.id) is True
        assert await uow.refresh_tokens.session_active(family, bob.id) is False  # not Bob's
        assert await uow.refresh_tokens.session_active(uuid4(), alice.id) is False  # unknown

    first_revocation = T0 + timedelta(hours=1)
    async with backend.uow() as uow:
        await uow.refresh_tokens.revoke_family(family, first_revocation)
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.refresh_tokens.session_active(family, alice.id) is False
        assert await uow.refresh_tokens.session_active(alice_other.family_id, alice.id) is True

    async with backend.uow() as uow:
        for token in in_family:
            loaded = await uow.refresh_tokens.get(token.jti)
            assert loaded is not None
            assert loaded.revoked_at == first_revocation
        loaded = await uow.refresh_tokens.get(already_revoked.jti)
        assert loaded is not None
        assert loaded.revoked_at == earlier  # the first revocation time is kept
        assert await uow.refresh_tokens.get(alice_other.jti) == alice_other
        assert await uow.refresh_tokens.spend(in_family[0].jti, first_revocation) is False

        second_revocation = T0 + timedelta(hours=2)
        await uow.refresh_tokens.revoke_all_for_user(alice.id, second_revocation)
        await uow.commit()

    async with backend.uow() as uow:
        loaded = await uow.refresh_tokens.get(alice_other.jti)
        assert loaded is not None
        assert loaded.revoked_at == second_revocation
        loaded = await uow.refresh_tokens.get(in_family[1].jti)
        assert loaded is not None
        assert loaded.revoked_at == first_revocation
        assert await uow.refresh_tokens.get(bobs.jti) == bobs
        assert await uow.refresh_tokens.spend(bobs.jti, second_revocation) is True


# Password resets


async def test_password_reset_is_single_use(backend: Backend) -> None:
    user = make_user()
    token = make_password_reset(user)
    async with backend.uow() as uow:
        await uow.users.add(user)
        await uow.password_resets.add(token)
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.password_resets.spend("0" * 64, T0) is None
        assert await uow.password_resets.spend(token.token_hash, T0) == user.id
        assert await uow.password_resets.spend(token.token_hash, T0) is None
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.password_resets.spend(token.token_hash, T0) is None


async def test_spending_a_users_resets_leaves_other_users_alone(backend: Backend) -> None:
    alice, bob = make_user(), make_user()
    alices = [make_password_reset(alice) for _ in range(2)]
    bobs = make_password_reset(bob)
    await given_users(backend, alice, bob)
    async with backend.uow() as uow:
        for token in (*alices, bobs):
            await uow.password_resets.add(token)
        await uow.commit()

    async with backend.uow() as uow:
        await uow.password_resets.spend_all_for_user(alice.id, T0)
        await uow.commit()

    async with backend.uow() as uow:
        for token in alices:
            assert await uow.password_resets.spend(token.token_hash, T0) is None
        assert await uow.password_resets.spend(bobs.token_hash, T0) == bob.id


async def test_expired_password_reset_cannot_be_spent(backend: Backend) -> None:
    user = make_user()
    token = make_password_reset(user, expires_at=T0 + timedelta(hours=1))
    async with backend.uow() as uow:
        await uow.users.add(user)
        await uow.password_resets.add(token)
        await uow.commit()

    async with backend.uow() as uow:
        assert await uow.password_resets.spend(token.token_hash, token.expires_at) is None
        assert (
            await uow.password_resets.spend(
                token.token_hash, token.expires_at + timedelta(minutes=1)
            )
            is None
        )


# Transactions


async def test_changes_without_commit_are_rolled_back(backend: Backend) -> None:
    user = make_user()
    async with backend.uow() as uow:
        await uow.users.add(user)
        await uow.commit()
    organization = make_organization(slug="never")
    token = make_refresh_token(user)
    reset = make_password_reset(user)

    async with backend.uow() as uow:
        await uow.users.add(make_user("ghost@example.org"))
        await uow.organizations.add(organization)
        await uow.memberships.add(make_membership(organization, user))
        await uow.refresh_tokens.add(token)
        await uow.password_resets.add(reset)
        renamed = await uow.users.get(user.id)
        assert renamed is not None
        renamed.first_name = "Renamed"
        await uow.users.save(renamed)
        assert await uow.users.get_by_email("ghost@example.org") is not None  # own writes seen

    async with backend.uow() as uow:
        assert await uow.users.get_by_email("ghost@example.org") is None
        assert await uow.organizations.get(organization.id) is None
        assert not await uow.organizations.slug_exists("never")
        assert await uow.memberships.get(organization.id, user.id) is None
        assert await uow.refresh_tokens.get(token.jti) is None
        assert await uow.password_resets.spend(reset.token_hash, T0) is None
        assert await uow.users.get(user.id) == user


async def test_an_error_rolls_back_and_propagates(backend: Backend) -> None:
    user = make_user()
    await given_users(backend, user)
    token = make_refresh_token(user)
    async with backend.uow() as uow:
        await uow.refresh_tokens.add(token)
        await uow.commit()

    async def spend_then_fail() -> None:
        async with backend.uow() as uow:
            assert await uow.refresh_tokens.spend(token.jti, T0) is True
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await spend_then_fail()

    async with backend.uow() as uow:  # the spend was undone: the token is live again
        assert await uow.refresh_tokens.spend(token.jti, T0) is True


async def test_work_after_a_commit_rolls_back_to_that_commit(backend: Backend) -> None:
    kept, dropped = make_user(), make_user()
    async with backend.uow() as uow:
        await uow.users.add(kept)
        await uow.commit()
        await uow.users.add(dropped)

    async with backend.uow() as uow:
        assert await uow.users.get(kept.id) == kept
        assert await uow.users.get(dropped.id) is None


async def test_an_organization_starts_with_the_standard_refund_policy_and_keeps_its_own(
    backend: Backend,
) -> None:
    organization = make_organization("Refunders")
    await add_and_commit(backend, organization)
    async with backend.uow() as uow:
        loaded = await uow.organizations.get(organization.id)
        assert loaded is not None
        assert loaded.refund_policy == STANDARD_REFUNDS
        loaded.set_refund_policy(RefundPolicy((), fee=0), now=T0 + timedelta(days=1))
        await uow.organizations.save(loaded)
        await uow.commit()
    async with backend.uow() as uow:
        again = await uow.organizations.get(organization.id)
    assert again is not None
    assert again.refund_policy == RefundPolicy.no_refunds()
