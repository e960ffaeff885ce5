"""Rules of the accounts domain: emails, passwords, slugs, profiles, organizations, permissions."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from cpd.domain.accounts import (
    MAX_PASSWORD_LENGTH,
    MAX_SLUG_LENGTH,
    MIN_PASSWORD_LENGTH,
    Actor,
    Membership,
    Organization,
    OrganizationStatus,
    Role,
    User,
    UserProfile,
    can_manage_members,
    can_manage_organization,
    can_view_members,
    can_view_organization,
    check_password_strength,
    check_slug,
    ensure_an_admin_remains,
    normalise_email,
    slugify,
)
from cpd.domain.errors import Conflict, InvalidInput
from tests.unit.fakes import START

# --- emails -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Alice@Example.COM", "alice@example.com"),
        ("  bob@example.org \n", "bob@example.org"),
        ("\tCarol.Jones+cpd@Mail.Example.co.uk ", "carol.jones+cpd@mail.example.co.uk"),
        ("\uff44\uff41\uff56\uff45@example.com", "dave@example.com"),  # full-width: NFKC folds
    ],
)
def test_normalise_email_gives_one_canonical_form(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "al ice@example.com",
        "alice@@example.com",
        "a@b.c" + "c" * 250,
    ],
)
def test_normalise_email_rejects_invalid_addresses_on_the_email_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_email(raw)
    assert caught.value.field == "email"
    assert "valid email" in caught.value.detail


# --- passwords ----------------------------------------------------------------------------


def test_a_long_uncommon_password_is_accepted() -> None:
    check_password_strength("correct horse battery")
    check_password_strength("x" * (MAX_PASSWORD_LENGTH - 3) + "abc")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Sh0rt!pw", f"at least {MIN_PASSWORD_LENGTH}"),
        ("a1B2c3D4e", f"at least {MIN_PASSWORD_LENGTH}"),  # one below the minimum
        ("abcdefghij" * 26, f"at most {MAX_PASSWORD_LENGTH}"),  # 260 characters
        ("password123", "too common"),
        ("PASSWORD123", "too common"),  # the list is checked case-insensitively
        ("qwertyuiop", "too common"),
        ("aaaaaaaaaaaa", "too common"),  # one distinct character
        ("abababababab", "too common"),  # two
        ("abcabcabcabc", "too common"),  # three
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_password_strength(password)
    assert message in caught.value.detail
    assert caught.value.field == "password"


def test_four_distinct_characters_are_enough() -> None:
    check_password_strength("abcdabcdabcd")


def test_password_error_names_the_field_it_was_given() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_password_strength("short", field_name="new_password")
    assert caught.value.field == "new_password"


# --- slugs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Acme Training Ltd", "acme-training-ltd"),
        ("  --Hello,   World!!--  ", "hello-world"),
        ("Société Générale de Santé", "societe-generale-de-sante"),
        ("Ärzte & Zahnärzte 2026", "arzte-zahnarzte-2026"),
        ("東京", "org"),  # nothing transliterates: a fallback, never an empty slug
        ("", "org"),
        ("!!!", "org"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_slugify_truncates_without_a_trailing_hyphen() -> None:
    slug = slugify("a" * 59 + " bcd")  # the cut at 60 lands right after the hyphen
    assert slug == "a" * 59
    assert len(slugify("word " * 40)) <= MAX_SLUG_LENGTH
    check_slug(slugify("word " * 40))


@pytest.mark.parametrize("slug", ["acme", "acme-2", "a1-b2-c3", "x" * MAX_SLUG_LENGTH])
def test_check_slug_accepts(slug: str) -> None:
    assert check_slug(slug) == slug


@pytest.mark.parametrize(
    "slug", ["", "Acme", "acme--ltd", "-acme", "acme-", "acme ltd", "acmé", "x" * 61, "a_b"]
)
def test_check_slug_rejects_on_the_slug_field(slug: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_slug(slug)
    assert caught.value.field == "slug"


# --- users and profiles ---------------------------------------------------------------------


def make_user(**overrides: object) -> User:
    fields: dict[str, object] = {
        "email": " Alice@Example.com ",
        "password_hash": "hash",
        "first_name": " Alice ",
        "last_name": "Smith",
        "now": START,
    }
    return User.register(**(fields | overrides))  # type: ignore[arg-type]


def test_profile_accepts_an_iana_zone_and_refuses_others() -> None:
    assert UserProfile(timezone="Europe/London").timezone == "Europe/London"
    for bad in ("Mars/Olympus_Mons", "GMT+25", "../etc/passwd", ""):
        with pytest.raises(InvalidInput) as caught:
            UserProfile(timezone=bad)
        assert caught.value.field == "profile.timezone"


def test_profile_bio_is_bounded() -> None:
    UserProfile(bio="x" * 5000)
    with pytest.raises(InvalidInput) as caught:
        UserProfile(bio="x" * 5001)
    assert caught.value.field == "profile.bio"


def test_register_normalises_email_and_names() -> None:
    user = make_user()
    assert user.email == "alice@example.com"
    assert user.first_name == "Alice"
    assert user.created_at == user.updated_at == START
    assert user.is_active
    assert not user.is_superadmin
    assert user.profile == UserProfile()


@pytest.mark.parametrize(("field", "value"), [("first_name", "  "), ("last_name", "x" * 101)])
def test_register_refuses_blank_or_long_names(field: str, value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_user(**{field: value})
    assert caught.value.field == field


def test_update_details_changes_only_what_is_given() -> None:
    user = make_user()
    later = START + timedelta(hours=1)
    user.update_details(
        now=later,
        last_name=" Jones ",
        profile_changes={"timezone": "Europe/Paris", "professional_title": "Nurse"},
    )
    assert (user.first_name, user.last_name) == ("Alice", "Jones")
    assert user.profile.timezone == "Europe/Paris"
    assert user.profile.professional_title == "Nurse"
    assert user.profile.bio is None
    assert user.updated_at == later

    user.update_details(now=later, profile_changes={"timezone": None})
    assert user.profile.timezone is None
    assert user.profile.professional_title == "Nurse"


def test_update_details_validates_names_and_profile() -> None:
    user = make_user()
    with pytest.raises(InvalidInput) as caught:
        user.update_details(now=START, first_name=" ")
    assert caught.value.field == "first_name"
    with pytest.raises(InvalidInput) as caught:
        user.update_details(now=START, profile_changes={"timezone": "Nowhere/Special"})
    assert caught.value.field == "profile.timezone"
    assert user.profile.timezone is None


# --- organizations --------------------------------------------------------------------------


def test_organization_create_checks_and_normalises() -> None:
    org = Organization.create(
        name="  Acme  ",
        slug="acme",
        now=START,
        approved=True,
        contact_email="Office@Acme.Example",
        logo_url="https://acme.example/logo.png",
    )
    assert (org.name, org.slug, org.contact_email) == ("Acme", "acme", "office@acme.example")
    assert org.logo_url == "https://acme.example/logo.png"
    assert org.created_at == org.updated_at == START


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url"),
        ({"logo_url": "ftp://acme.example/logo.png"}, "logo_url"),
        ({"logo_url": "https://acme.example/" + "x" * 2000}, "logo_url"),
    ],
)
def test_organization_create_refuses_bad_fields(overrides: dict[str, str], field: str) -> None:
    values: dict[str, object] = {
        "name": "Acme",
        "slug": "acme",
        "now": START,
        "approved": True,
    } | overrides
    with pytest.raises(InvalidInput) as caught:
        Organization.create(**values)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_organization_update_changes_given_fields_and_clears_named_ones() -> None:
    org = Organization.create(
        name="Acme",
        slug="acme",
        now=START,
        approved=True,
        contact_email="a@acme.example",
        logo_url="https://acme.example/l.png",
    )
    later = START + timedelta(days=1)
    org.update(now=later, name="Acme Training")
    assert org.name == "Acme Training"
    assert org.contact_email == "a@acme.example"  # None means "leave as it is"
    assert org.logo_url == "https://acme.example/l.png"
    assert org.updated_at == later

    org.update(now=later, clear=frozenset({"contact_email"}))
    assert org.contact_email is None
    assert org.logo_url == "https://acme.example/l.png"

    org.update(now=later, contact_email="New@Acme.Example", clear=frozenset({"logo_url"}))
    assert org.contact_email == "new@acme.example"
    assert org.logo_url is None
    assert org.slug == "acme"  # the slug is not changed by update


def test_organization_update_validates() -> None:
    org = Organization.create(name="Acme", slug="acme", now=START, approved=True)
    with pytest.raises(InvalidInput) as caught:
        org.update(now=START, logo_url="not a url")
    assert caught.value.field == "logo_url"


def test_a_pending_organization_may_not_publish_until_approved() -> None:
    org = Organization.create(name="Acme", slug="acme", now=START, approved=False)
    assert (org.status, org.approved_at) == (OrganizationStatus.PENDING_APPROVAL, None)
    with pytest.raises(Conflict, match="awaits approval"):
        org.ensure_approved()
    later = START + timedelta(hours=3)
    org.approve(now=later)
    org.approve(now=later + timedelta(days=1))  # again: the first approval stands
    assert (org.status, org.approved_at, org.updated_at) == (
        OrganizationStatus.APPROVED,
        later,
        later,
    )
    org.ensure_approved()
    opened = Organization.create(name="Open", slug="open", now=START, approved=True)
    assert (opened.status, opened.approved_at) == (OrganizationStatus.APPROVED, START)


# --- permissions ----------------------------------------------------------------------------

ORG = uuid4()
USER = uuid4()
PLAIN = Actor(USER)
SUPER = Actor(USER, is_superadmin=True)


def membership(role: Role) -> Membership:
    return Membership(ORG, USER, role, created_at=START)


# (role or None for "not a member") -> (view org, manage org, view members, manage members)
PERMISSIONS = {
    Role.ORG_ADMIN: (True, True, True, True),
    Role.ORG_STAFF: (True, False, True, False),
    Role.MEMBER: (True, False, False, False),
    None: (False, False, False, False),
}


@pytest.mark.parametrize("role", list(PERMISSIONS))
def test_permissions_by_role(role: Role | None) -> None:
    held = membership(role) if role else None
    got = (
        can_view_organization(PLAIN, held),
        can_manage_organization(PLAIN, held),
        can_view_members(PLAIN, held),
        can_manage_members(PLAIN, held),
    )
    assert got == PERMISSIONS[role]


@pytest.mark.parametrize("role", list(PERMISSIONS))
def test_superadmin_may_do_everything_member_or_not(role: Role | None) -> None:
    held = membership(role) if role else None
    assert can_view_organization(SUPER, held)
    assert can_manage_organization(SUPER, held)
    assert can_view_members(SUPER, held)
    assert can_manage_members(SUPER, held)


def test_the_last_admin_can_be_neither_demoted_nor_removed() -> None:
    admin = membership(Role.ORG_ADMIN)
    for new_role in (Role.ORG_STAFF, Role.MEMBER, None):
        with pytest.raises(Conflict) as caught:
            ensure_an_admin_remains(admin, new_role, admin_count=1)
        assert caught.value.field == "role"


def test_an_admin_may_go_when_another_remains() -> None:
    admin = membership(Role.ORG_ADMIN)
    for new_role in (Role.ORG_STAFF, Role.MEMBER, None):
        ensure_an_admin_remains(admin, new_role, admin_count=2)
    ensure_an_admin_remains(admin, Role.ORG_ADMIN, admin_count=1)  # no change of admin status


def test_non_admins_change_freely() -> None:
    for role in (Role.ORG_STAFF, Role.MEMBER):
        for new_role in (Role.ORG_ADMIN, Role.ORG_STAFF, Role.MEMBER, None):
            ensure_an_admin_remains(membership(role), new_role, admin_count=1)


def test_update_details_refuses_an_unknown_profile_field() -> None:
    user = make_user()
    with pytest.raises(InvalidInput) as refused:
        user.update_details(now=START, profile_changes={"shoe_size": "44"})
    assert refused.value.field == "profile.shoe_size"
    assert user.profile == UserProfile()
