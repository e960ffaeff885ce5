"""Invariants checked over many generated cases."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from cpd.bootstrap import build_container
from cpd.domain.accounts import (
    MAX_SLUG_LENGTH,
    Actor,
    Membership,
    Role,
    check_slug,
    ensure_an_admin_remains,
    slugify,
)
from cpd.domain.errors import Conflict
from cpd.domain.ids import new_id
from tests.unit.conftest import make_settings
from tests.unit.fakes import START

ORG = uuid4()
roles = st.sampled_from(list(Role))
# An operation: (index of the target member, new role or None for removal).
operations = st.lists(st.tuples(st.integers(min_value=0), st.none() | roles), max_size=40)


@given(
    others=st.lists(roles, max_size=8),
    admin_position=st.integers(min_value=0),
    ops=operations,
)
def test_an_organization_always_keeps_an_admin(
    others: list[Role], admin_position: int, ops: list[tuple[int, Role | None]]
) -> None:
    # Any starting membership list with at least one admin (the creator is always one).
    starting = list(others)
    starting.insert(admin_position % (len(others) + 1), Role.ORG_ADMIN)
    members: dict[UUID, Membership] = {
        user: Membership(ORG, user, role, START)
        for user, role in ((uuid4(), role) for role in starting)
    }
    for index, new_role in ops:
        if not members:
            break
        target = list(members.values())[index % len(members)]
        admins = sum(1 for m in members.values() if m.role is Role.ORG_ADMIN)
        losing_last_admin = (
            target.role is Role.ORG_ADMIN and new_role is not Role.ORG_ADMIN and admins == 1
        )
        try:
            ensure_an_admin_remains(target, new_role, admins)
        except Conflict:
            assert losing_last_admin, "refused a change that kept an admin"
            continue
        assert not losing_last_admin, "allowed the last admin to go"
        if new_role is None:
            del members[target.user_id]
        else:
            members[target.user_id] = Membership(ORG, target.user_id, new_role, START)
        assert sum(1 for m in members.values() if m.role is Role.ORG_ADMIN) >= 1


@given(st.text())
def test_slugify_output_is_always_a_valid_slug(text: str) -> None:
    slug = slugify(text)
    assert check_slug(slug) == slug
    assert 1 <= len(slug) <= MAX_SLUG_LENGTH


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 -_.", min_size=1))
def test_slugify_keeps_every_ascii_alphanumeric_word(text: str) -> None:
    words = "".join(c if c.isalnum() else " " for c in text).split()
    slug = slugify(text)
    if words and len("-".join(words)) <= MAX_SLUG_LENGTH:
        assert slug == "-".join(words)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet="abcé", min_size=1, max_size=12), min_size=1, max_size=12).map(
        " ".join
    )
)
def test_every_derived_slug_is_valid_and_unique(name: str) -> None:
    """Creating organizations with one name keeps deriving distinct, valid slugs."""

    async def scenario() -> list[str]:
        app = build_container(make_settings())
        creator = Actor(new_id())
        return [(await app.organizations.create(creator, name=name)).slug for _ in range(3)]

    slugs = asyncio.run(scenario())
    assert len(set(slugs)) == len(slugs)
    for slug in slugs:
        assert check_slug(slug) == slug
