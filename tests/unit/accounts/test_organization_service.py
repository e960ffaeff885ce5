"""Organizations and memberships through the real wiring on memory adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from cpd.bootstrap import Container, build_container
from cpd.domain.accounts import Actor, Organization, Role
from cpd.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RateLimited
from cpd.domain.ids import new_id
from cpd.domain.invitations import InvitationView
from cpd.domain.pages import PageRequest
from cpd.services.accounts.organizations import OrganizationChanges
from tests.support.clock import FakeClock
from tests.unit.conftest import make_settings
from tests.unit.fakes import actor_of, invitation_token, register


@pytest.fixture
def container(clocked: Container) -> Container:
    """On a clock the test moves: invitations expire."""
    return clocked


@dataclass
class Team:
    org: Organization
    admin: Actor
    staff: Actor
    member: Actor
    outsider: Actor
    superadmin: Actor


@pytest.fixture
async def team(container: Container) -> Team:
    """An organization with one user of each role, an outsider and a platform superadmin."""
    admin = actor_of(await register(container, "admin@example.com", last_name="Adams"))
    staff = actor_of(await register(container, "staff@example.com", last_name="Stone"))
    member = actor_of(await register(container, "member@example.com", last_name="Moss"))
    outsider = actor_of(await register(container, "out@example.com", last_name="Owen"))
    root = await container.accounts.create_superuser(
        email="root@example.com", password="root password!", first_name="Root", last_name="Rook"
    )
    org = await container.organizations.create(admin, name="Acme Training")
    for email, role in (("staff@example.com", Role.ORG_STAFF), ("member@example.com", Role.MEMBER)):
        await invite_and_accept(container, admin, org.id, email, role)
    return Team(org, admin, staff, member, outsider, actor_of(root))


async def invite_and_accept(
    app: Container, admin: Actor, organization_id: UUID, email: str, role: Role
) -> None:
    sent = await app.organizations.invite(admin, organization_id, email=email, role=role)
    async with app.uow() as uow:
        user = await uow.users.get_by_email(email)
    assert user is not None
    token = await invitation_token(app.outbox_store, sent)
    await app.organizations.accept_invitation(actor_of(user), token)


async def invitations_to(app: Container, team: Team, email: str) -> list[InvitationView]:
    page = await app.organizations.invitations(team.admin, team.org.id, PageRequest())
    return [i for i in page.items if i.email == email]


async def roles_of(app: Container, team: Team) -> dict[str, Role]:
    page = await app.organizations.list_members(team.superadmin, team.org.id, PageRequest())
    return {m.email: m.role for m in page.items}


# --- create -----------------------------------------------------------------------------------


async def test_the_creator_becomes_the_first_org_admin(container: Container) -> None:
    creator = actor_of(await register(container))
    org = await container.organizations.create(
        creator, name="  Acme Training  ", contact_email="Office@Acme.Example"
    )
    assert (org.name, org.slug, org.contact_email) == (
        "Acme Training",
        "acme-training",
        "office@acme.example",
    )
    members = await container.organizations.list_members(creator, org.id, PageRequest())
    assert [(m.email, m.role) for m in members.items] == [("alice@example.com", Role.ORG_ADMIN)]
    assert await container.organizations.get(creator, org.id) == org


async def test_derived_slugs_are_deduplicated(container: Container) -> None:
    creator = actor_of(await register(container))
    slugs = [
        (await container.organizations.create(creator, name=name)).slug
        for name in ("Acme Training", "ACME training!", "Acme -- Training", "Acme Training 2")
    ]
    assert slugs == ["acme-training", "acme-training-2", "acme-training-3", "acme-training-2-2"]


async def test_a_deduplicated_slug_of_a_long_name_is_still_valid(container: Container) -> None:
    creator = actor_of(await register(container))
    name = "a" * 54 + " " + "b" * 10  # slugifies to 60 characters with a hyphen at 55
    first = await container.organizations.create(creator, name=name)
    second = await container.organizations.create(creator, name=name)
    assert first.slug == "a" * 54 + "-bbbbb"
    assert second.slug == "a" * 54 + "-2"


async def test_an_explicit_slug_is_used_checked_and_never_deduplicated(
    container: Container,
) -> None:
    creator = actor_of(await register(container))
    org = await container.organizations.create(creator, name="Acme", slug="acme-uk")
    assert org.slug == "acme-uk"
    with pytest.raises(Conflict) as taken:
        await container.organizations.create(creator, name="Other", slug="acme-uk")
    assert taken.value.field == "slug"
    with pytest.raises(InvalidInput) as invalid:
        await container.organizations.create(creator, name="Other", slug="Acme UK")
    assert invalid.value.field == "slug"
    page = await container.organizations.list_visible(creator, PageRequest())
    assert [o.name for o in page.items] == ["Acme"]  # the refused ones left nothing behind


async def test_create_refuses_a_bad_contact_email(container: Container) -> None:
    creator = actor_of(await register(container))
    with pytest.raises(InvalidInput) as caught:
        await container.organizations.create(creator, name="Acme", contact_email="nope")
    assert caught.value.field == "contact_email"


# --- list and get -----------------------------------------------------------------------------


async def test_members_see_their_own_organizations_and_superadmins_all(
    container: Container, team: Team
) -> None:
    other = await container.organizations.create(team.outsider, name="Beta Clinic")
    orgs = container.organizations
    mine = await orgs.list_visible(team.member, PageRequest())
    assert [o.id for o in mine.items] == [team.org.id]
    assert mine.total == 1
    theirs = await orgs.list_visible(team.outsider, PageRequest())
    assert [o.id for o in theirs.items] == [other.id]
    everything = await orgs.list_visible(team.superadmin, PageRequest())
    assert [o.name for o in everything.items] == ["Acme Training", "Beta Clinic"]
    assert everything.total == 2


async def test_list_visible_paginates_in_name_order(container: Container) -> None:
    user = actor_of(await register(container))
    for name in ("Delta", "alpha", "Charlie", "Bravo", "Echo"):
        await container.organizations.create(user, name=name)
    first = await container.organizations.list_visible(user, PageRequest(limit=2))
    assert [o.name for o in first.items] == ["alpha", "Bravo"]
    assert (first.total, first.limit, first.offset) == (5, 2, 0)
    last = await container.organizations.list_visible(user, PageRequest(limit=2, offset=4))
    assert [o.name for o in last.items] == ["Echo"]
    beyond = await container.organizations.list_visible(user, PageRequest(limit=2, offset=10))
    assert beyond.items == []
    assert beyond.total == 5


async def test_a_non_member_cannot_tell_an_organization_exists(
    container: Container, team: Team
) -> None:
    with pytest.raises(NotFound) as hidden:
        await container.organizations.get(team.outsider, team.org.id)
    with pytest.raises(NotFound) as missing:
        await container.organizations.get(team.outsider, new_id())
    assert hidden.value.detail == missing.value.detail
    assert (await container.organizations.get(team.member, team.org.id)).id == team.org.id
    assert (await container.organizations.get(team.superadmin, team.org.id)).id == team.org.id


# --- update -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "member"])
async def test_only_admins_update(container: Container, team: Team, who: str) -> None:
    with pytest.raises(PermissionDenied):
        await container.organizations.update(
            getattr(team, who), team.org.id, OrganizationChanges(name="Hijacked")
        )
    with pytest.raises(NotFound):
        await container.organizations.update(
            team.outsider, team.org.id, OrganizationChanges(name="Hijacked")
        )
    assert (await container.organizations.get(team.admin, team.org.id)).name == "Acme Training"


async def test_an_admin_updates_and_clears(container: Container, team: Team) -> None:
    orgs = container.organizations
    updated = await orgs.update(
        team.admin,
        team.org.id,
        OrganizationChanges(name="Acme Learning", contact_email="Hello@Acme.Example"),
    )
    assert (updated.name, updated.contact_email) == ("Acme Learning", "hello@acme.example")
    assert updated.slug == team.org.slug
    cleared = await orgs.update(
        team.superadmin, team.org.id, OrganizationChanges(clear=frozenset({"contact_email"}))
    )
    assert cleared.contact_email is None
    assert cleared.name == "Acme Learning"
    assert await orgs.get(team.member, team.org.id) == cleared


async def test_an_invalid_update_changes_nothing(container: Container, team: Team) -> None:
    with pytest.raises(InvalidInput) as caught:
        await container.organizations.update(
            team.admin, team.org.id, OrganizationChanges(name="Renamed", logo_url="not a url")
        )
    assert caught.value.field == "logo_url"
    assert (await container.organizations.get(team.admin, team.org.id)).name == "Acme Training"


# --- members ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "staff", "superadmin"])
async def test_admins_staff_and_superadmins_list_members(
    container: Container, team: Team, who: str
) -> None:
    page = await container.organizations.list_members(
        getattr(team, who), team.org.id, PageRequest()
    )
    assert [(m.last_name, m.role) for m in page.items] == [
        ("Adams", Role.ORG_ADMIN),
        ("Moss", Role.MEMBER),
        ("Stone", Role.ORG_STAFF),
    ]
    assert page.total == 3


async def test_members_and_outsiders_cannot_list_members(container: Container, team: Team) -> None:
    with pytest.raises(PermissionDenied):
        await container.organizations.list_members(team.member, team.org.id, PageRequest())
    with pytest.raises(NotFound):
        await container.organizations.list_members(team.outsider, team.org.id, PageRequest())


async def test_list_members_paginates(container: Container, team: Team) -> None:
    page = await container.organizations.list_members(
        team.admin, team.org.id, PageRequest(limit=1, offset=1)
    )
    assert [m.last_name for m in page.items] == ["Moss"]
    assert page.total == 3


async def test_an_invitation_accepted_by_its_address_makes_the_membership(
    container: Container, team: Team
) -> None:
    orgs = container.organizations
    sent = await orgs.invite(team.admin, team.org.id, email=" OUT@example.com", role=Role.ORG_STAFF)
    assert (sent.email, sent.role, sent.status) == ("out@example.com", Role.ORG_STAFF, "pending")
    assert (await roles_of(container, team)).get("out@example.com") is None  # not yet
    token = await invitation_token(container.outbox_store, sent)
    joined = await orgs.accept_invitation(team.outsider, token)
    assert (joined.organization.id, joined.membership.role) == (team.org.id, Role.ORG_STAFF)
    assert (await orgs.get(team.outsider, team.org.id)).id == team.org.id
    assert (await roles_of(container, team))["out@example.com"] is Role.ORG_STAFF
    with pytest.raises(InvalidInput) as spent:  # a link works once
        await orgs.accept_invitation(team.outsider, token)
    assert spent.value.field == "token"
    listed = await invitations_to(container, team, "out@example.com")
    assert [(i.status, i.invited_by) for i in listed] == [("accepted", team.admin.user_id)]


async def test_an_invitation_answers_alike_for_any_address_and_tells_nobody(
    container: Container, team: Team
) -> None:
    orgs = container.organizations
    known = await orgs.invite(team.admin, team.org.id, email="out@example.com", role=Role.MEMBER)
    unknown = await orgs.invite(team.admin, team.org.id, email="new@example.com", role=Role.MEMBER)
    assert type(known) is type(unknown)
    assert (known.status, unknown.status) == ("pending", "pending")
    assert (known.expires_at - known.created_at) == timedelta(days=7)
    assert await invitation_token(container.outbox_store, unknown)


async def test_only_the_invited_address_accepts_before_expiry_unless_withdrawn(
    container: Container, team: Team, clock: FakeClock
) -> None:
    orgs = container.organizations
    first = await orgs.invite(team.admin, team.org.id, email="out@example.com", role=Role.ORG_ADMIN)
    token = await invitation_token(container.outbox_store, first)
    with pytest.raises(PermissionDenied):  # the link leaked to someone else
        await orgs.accept_invitation(team.member, token)
    with pytest.raises(InvalidInput):
        await orgs.accept_invitation(team.outsider, token + "x")
    assert (await roles_of(container, team)).get("out@example.com") is None

    # Inviting again withdraws the earlier link; withdrawing the new one stops it too.
    second = await orgs.invite(team.admin, team.org.id, email="out@example.com", role=Role.MEMBER)
    newer = await invitation_token(container.outbox_store, second)
    with pytest.raises(InvalidInput):
        await orgs.accept_invitation(team.outsider, token)
    statuses = {i.id: i.status for i in await invitations_to(container, team, "out@example.com")}
    assert statuses == {first.id: "revoked", second.id: "pending"}
    await orgs.revoke_invitation(team.admin, team.org.id, second.id)
    with pytest.raises(InvalidInput):
        await orgs.accept_invitation(team.outsider, newer)

    third = await orgs.invite(team.admin, team.org.id, email="out@example.com", role=Role.MEMBER)
    lapsing = await invitation_token(container.outbox_store, third)
    clock.advance(days=7)
    with pytest.raises(InvalidInput):
        await orgs.accept_invitation(team.outsider, lapsing)
    statuses = {i.id: i.status for i in await invitations_to(container, team, "out@example.com")}
    assert statuses[third.id] == "expired"
    assert (await roles_of(container, team)).get("out@example.com") is None


async def test_a_member_accepting_again_is_told_so(container: Container, team: Team) -> None:
    orgs = container.organizations
    sent = await orgs.invite(
        team.admin, team.org.id, email="staff@example.com", role=Role.ORG_ADMIN
    )
    token = await invitation_token(container.outbox_store, sent)
    with pytest.raises(Conflict):
        await orgs.accept_invitation(team.staff, token)
    assert (await roles_of(container, team))["staff@example.com"] is Role.ORG_STAFF


async def test_an_accepted_invitation_cannot_be_withdrawn(container: Container, team: Team) -> None:
    orgs = container.organizations
    (accepted,) = await invitations_to(container, team, "staff@example.com")
    with pytest.raises(Conflict):
        await orgs.revoke_invitation(team.admin, team.org.id, accepted.id)
    with pytest.raises(NotFound):
        await orgs.revoke_invitation(team.admin, team.org.id, uuid4())


@pytest.mark.parametrize("who", ["staff", "member"])
async def test_only_admins_invite_and_see_invitations(
    container: Container, team: Team, who: str
) -> None:
    orgs = container.organizations
    actor = getattr(team, who)
    with pytest.raises(PermissionDenied):
        await orgs.invite(actor, team.org.id, email="out@example.com", role=Role.ORG_ADMIN)
    with pytest.raises(PermissionDenied):
        await orgs.invitations(actor, team.org.id, PageRequest())
    with pytest.raises(NotFound):
        await orgs.invite(team.outsider, team.org.id, email="out@example.com", role=Role.MEMBER)


async def test_change_role(container: Container, team: Team) -> None:
    changed = await container.organizations.change_role(
        team.admin, team.org.id, team.member.user_id, Role.ORG_ADMIN
    )
    assert (changed.email, changed.role) == ("member@example.com", Role.ORG_ADMIN)
    # The promoted member now manages members.
    await container.organizations.change_role(
        team.member, team.org.id, team.staff.user_id, Role.MEMBER
    )
    assert await roles_of(container, team) == {
        "admin@example.com": Role.ORG_ADMIN,
        "member@example.com": Role.ORG_ADMIN,
        "staff@example.com": Role.MEMBER,
    }


async def test_change_role_is_for_admins_and_for_existing_members(
    container: Container, team: Team
) -> None:
    orgs = container.organizations
    with pytest.raises(PermissionDenied):
        await orgs.change_role(team.staff, team.org.id, team.staff.user_id, Role.ORG_ADMIN)
    with pytest.raises(NotFound):
        await orgs.change_role(team.admin, team.org.id, team.outsider.user_id, Role.MEMBER)
    assert (await roles_of(container, team))["staff@example.com"] is Role.ORG_STAFF


async def test_the_last_admin_cannot_be_demoted_or_removed(
    container: Container, team: Team
) -> None:
    orgs = container.organizations
    with pytest.raises(Conflict) as demoted:
        await orgs.change_role(team.admin, team.org.id, team.admin.user_id, Role.MEMBER)
    assert demoted.value.field == "role"
    with pytest.raises(Conflict):
        await orgs.remove_member(team.admin, team.org.id, team.admin.user_id)
    with pytest.raises(Conflict):
        await orgs.remove_member(team.superadmin, team.org.id, team.admin.user_id)
    assert (await roles_of(container, team))["admin@example.com"] is Role.ORG_ADMIN


async def test_with_a_second_admin_the_first_may_step_down(
    container: Container, team: Team
) -> None:
    orgs = container.organizations
    await orgs.change_role(team.admin, team.org.id, team.staff.user_id, Role.ORG_ADMIN)
    await orgs.change_role(team.admin, team.org.id, team.admin.user_id, Role.MEMBER)
    with pytest.raises(Conflict):  # now staff is the last admin
        await orgs.remove_member(team.staff, team.org.id, team.staff.user_id)
    await orgs.remove_member(team.staff, team.org.id, team.admin.user_id)
    assert await roles_of(container, team) == {
        "staff@example.com": Role.ORG_ADMIN,
        "member@example.com": Role.MEMBER,
    }


async def test_an_admin_removes_a_member(container: Container, team: Team) -> None:
    await container.organizations.remove_member(team.admin, team.org.id, team.member.user_id)
    assert "member@example.com" not in await roles_of(container, team)
    with pytest.raises(NotFound):  # the removed member no longer sees the organization
        await container.organizations.get(team.member, team.org.id)
    with pytest.raises(NotFound):
        await container.organizations.remove_member(team.admin, team.org.id, team.member.user_id)


async def test_a_member_may_leave_but_not_remove_others(container: Container, team: Team) -> None:
    orgs = container.organizations
    with pytest.raises(PermissionDenied):
        await orgs.remove_member(team.member, team.org.id, team.staff.user_id)
    with pytest.raises(PermissionDenied):
        await orgs.remove_member(team.staff, team.org.id, team.member.user_id)
    await orgs.remove_member(team.member, team.org.id, team.member.user_id)
    assert set(await roles_of(container, team)) == {"admin@example.com", "staff@example.com"}
    with pytest.raises(NotFound):
        await orgs.remove_member(team.outsider, team.org.id, team.outsider.user_id)


async def test_invitations_are_limited_per_organization_and_per_address(
    clock: FakeClock,
) -> None:
    """An admin can neither mail the world nor bury one person: beyond the hourly allowance
    an invitation is refused (429) and nothing is sent; an hour later it goes again."""
    app = build_container(
        make_settings(invitations_per_organization=3, account_mail_per_recipient=2), clock=clock
    )
    await app.startup(run_relay=False)
    try:
        admin = actor_of(await register(app, "boss@example.com"))
        org = await app.organizations.create(admin, name="Busy Society")
        invite = app.organizations.invite
        before = await app.outbox_store.pending_count()
        await invite(admin, org.id, email="a@example.com", role=Role.MEMBER)
        await invite(admin, org.id, email="a@example.com", role=Role.MEMBER)
        with pytest.raises(RateLimited) as one_person:
            await invite(admin, org.id, email="a@example.com", role=Role.MEMBER)
        assert one_person.value.retry_after > 0
        await invite(admin, org.id, email="b@example.com", role=Role.MEMBER)
        with pytest.raises(RateLimited):
            await invite(admin, org.id, email="c@example.com", role=Role.MEMBER)
        # the refused ones queued nothing
        assert await app.outbox_store.pending_count() == before + 3

        clock.advance(hours=2)
        await invite(admin, org.id, email="c@example.com", role=Role.MEMBER)
    finally:
        await app.shutdown()
