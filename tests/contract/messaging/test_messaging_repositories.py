"""The communication log, notifications and preferences: one contract for every adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

from cpd.domain.accounts import Organization, User
from cpd.domain.messaging import (
    Communication,
    CommunicationStatus,
    Notification,
    NotificationPreferences,
)
from cpd.domain.pages import PageRequest
from tests.contract.builders import T0, Backend, given, make_organization, make_user

SENT, FAILED = CommunicationStatus.SENT, CommunicationStatus.FAILED


def a_communication(
    user: User | None, organization: Organization | None, *, minutes: int = 0, **fields: object
) -> Communication:
    values: dict[str, object] = {
        "id": uuid4(),
        "recipient": user.email if user else "someone@example.org",
        "template": "registration_confirmed",
        "subject": "You're booked: Zoë's day",
        "status": SENT,
        "created_at": T0 + timedelta(minutes=minutes),
        "user_id": user.id if user else None,
        "organization_id": organization.id if organization else None,
        "related_type": "registration",
        "related_id": uuid4(),
        "provider_message_id": f"<{uuid4()}@cpd.tasks>",
        "sent_at": T0 + timedelta(minutes=minutes, microseconds=7),
    } | fields
    return Communication(**values)  # type: ignore[arg-type]


def a_notification(user: User, *, minutes: int = 0, **fields: object) -> Notification:
    values: dict[str, object] = {
        "id": uuid4(),
        "user_id": user.id,
        "kind": "registration_confirmed",
        "title": "You're booked",
        "body": "Your place is confirmed.",
        "created_at": T0 + timedelta(minutes=minutes),
    } | fields
    return Notification(**values)  # type: ignore[arg-type]


async def record(backend: Backend, *communications: Communication) -> None:
    async with backend.uow() as uow:
        for communication in communications:
            await uow.communications.record(communication)
        await uow.commit()


async def test_a_communication_round_trips_and_a_retry_replaces_its_row(backend: Backend) -> None:
    user, organization = make_user(), make_organization()
    await given(backend, user, organization)
    failed = a_communication(user, organization, status=FAILED, error="SMTP 451", sent_at=None)
    await record(backend, failed)
    async with backend.uow() as uow:
        assert await uow.communications.get(failed.id) == failed
        assert await uow.communications.get(uuid4()) is None

    retried = replace(failed, status=SENT, error=None, attempts=2, sent_at=T0 + timedelta(hours=1))
    await record(backend, retried)
    async with backend.uow() as uow:
        assert await uow.communications.get(failed.id) == retried
        page = await uow.communications.list_for_user(user.id, None, PageRequest())
    assert [c.id for c in page.items] == [failed.id]  # one row, not two
    assert page.total == 1


async def test_logs_list_newest_first_by_owner_and_status(backend: Backend) -> None:
    alice, bob = make_user(), make_user()
    acme, other = make_organization(), make_organization()
    await given(backend, alice, bob, acme, other)
    first = a_communication(alice, acme, minutes=1)
    second = a_communication(bob, acme, minutes=2, status=FAILED, error="refused")
    third = a_communication(alice, acme, minutes=3)
    elsewhere = a_communication(alice, other, minutes=4)
    account_mail = a_communication(alice, None, minutes=5, template="welcome")
    await record(backend, first, second, third, elsewhere, account_mail)

    async with backend.uow() as uow:
        log = uow.communications
        everything = await log.list_for_organization(acme.id, None, PageRequest())
        failed = await log.list_for_organization(acme.id, FAILED, PageRequest())
        paged = await log.list_for_organization(acme.id, None, PageRequest(limit=1, offset=1))
        alices = await log.list_for_user(alice.id, None, PageRequest())
        alices_sent = await log.list_for_user(alice.id, SENT, PageRequest(limit=2))
    assert [c.id for c in everything.items] == [third.id, second.id, first.id]
    assert [c.id for c in failed.items] == [second.id]
    assert failed.items[0].error == "refused"
    assert ([c.id for c in paged.items], paged.total) == ([second.id], 3)
    assert [c.id for c in alices.items] == [
        account_mail.id,
        elsewhere.id,
        third.id,
        first.id,
    ]
    assert ([c.id for c in alices_sent.items], alices_sent.total) == (
        [account_mail.id, elsewhere.id],
        4,
    )


async def test_a_notification_is_added_once_and_read_once(backend: Backend) -> None:
    user = make_user()
    await given(backend, user)
    notification = a_notification(user, organization_id=None, related_id=uuid4())
    async with backend.uow() as uow:
        assert await uow.notifications.add(notification) is True
        assert await uow.notifications.add(replace(notification, title="again")) is False
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.notifications.get(notification.id) == notification
        await uow.notifications.mark_read(notification.id, T0 + timedelta(hours=1))
        await uow.notifications.mark_read(notification.id, T0 + timedelta(hours=2))
        await uow.commit()
    async with backend.uow() as uow:
        read = await uow.notifications.get(notification.id)
        assert await uow.notifications.get(uuid4()) is None
    assert read is not None
    assert read.read_at == T0 + timedelta(hours=1)  # the first reading counts
    assert read.title == "You're booked"


async def test_notifications_list_newest_first_with_unread_counts(backend: Backend) -> None:
    alice, bob = make_user(), make_user()
    await given(backend, alice, bob)
    old, middle, new = (a_notification(alice, minutes=m) for m in (1, 2, 3))
    bobs = a_notification(bob, minutes=4)
    async with backend.uow() as uow:
        for notification in (old, middle, new, bobs):
            await uow.notifications.add(notification)
        await uow.notifications.mark_read(middle.id, T0)
        await uow.commit()

    async with backend.uow() as uow:
        repo = uow.notifications
        everything = await repo.list_for_user(alice.id, unread_only=False, page=PageRequest())
        unread = await repo.list_for_user(alice.id, unread_only=True, page=PageRequest())
        paged = await repo.list_for_user(alice.id, unread_only=False, page=PageRequest(limit=1))
        assert await repo.unread_count(alice.id) == 2
        assert await repo.unread_count(bob.id) == 1
    assert [n.id for n in everything.items] == [new.id, middle.id, old.id]
    assert [n.id for n in unread.items] == [new.id, old.id]
    assert ([n.id for n in paged.items], paged.total) == ([new.id], 3)

    async with backend.uow() as uow:
        assert await uow.notifications.mark_all_read(alice.id, T0 + timedelta(days=1)) == 2
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.notifications.unread_count(alice.id) == 0
        assert await uow.notifications.unread_count(bob.id) == 1  # others' stay unread
        kept = await uow.notifications.get(middle.id)
        assert await uow.notifications.mark_all_read(alice.id, T0 + timedelta(days=2)) == 0
    assert kept is not None
    assert kept.read_at == T0


async def test_preferences_are_absent_until_saved_then_replaced(backend: Backend) -> None:
    user = make_user()
    await given(backend, user)
    async with backend.uow() as uow:
        assert await uow.notification_preferences.get(user.id) is None
        await uow.notification_preferences.save(
            NotificationPreferences(user.id, updated_at=T0, event_reminders=False)
        )
        await uow.commit()
    changed = NotificationPreferences(
        user.id, updated_at=T0 + timedelta(days=1), event_reminders=True, waitlist_updates=False
    )
    async with backend.uow() as uow:
        saved = await uow.notification_preferences.get(user.id)
        await uow.notification_preferences.save(changed)
        await uow.commit()
    assert saved == NotificationPreferences(user.id, updated_at=T0, event_reminders=False)
    async with backend.uow() as uow:
        assert await uow.notification_preferences.get(user.id) == changed


async def test_uncommitted_messaging_changes_roll_back(backend: Backend) -> None:
    user = make_user()
    await given(backend, user)
    notification = a_notification(user)
    async with backend.uow() as uow:
        await uow.notifications.add(notification)
        await uow.communications.record(a_communication(user, None))
    async with backend.uow() as uow:
        assert await uow.notifications.get(notification.id) is None
        assert (await uow.communications.list_for_user(user.id, None, PageRequest())).total == 0
