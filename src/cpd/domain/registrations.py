"""Registrations: seats, holds, the waitlist, payment and refunds, as a state machine.

``pending_payment -> confirmed``; ``waitlisted -> offered -> pending_payment | confirmed |
expired``; ``confirmed -> cancelled``; ``pending_payment -> expired | cancelled``. Leaving the
waitlist or declining an offer is a cancellation too. Every transition is a method that checks
its rule; anything else raises ``Conflict``. Capacity is decided by the caller under the
event's lock, from the seats that registrations hold (``holds_seats``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from cpd.domain.codes import CROCKFORD, grouped, random_symbols, typed_symbols
from cpd.domain.errors import Conflict, InvalidInput
from cpd.domain.ids import new_id
from cpd.domain.money import MAX_AMOUNT, Money
from cpd.domain.refunds import RefundPolicy
from cpd.domain.text import checked_text

DEFAULT_HOLD = timedelta(minutes=15)
DEFAULT_OFFER = timedelta(hours=48)
MAX_SEATS = 50


class RegistrationStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# One active registration per person per event; these hold seats against the capacity
# (an offer keeps its seats for the person offered until it expires).
ACTIVE = frozenset({"pending_payment", "confirmed", "waitlisted", "offered"})
SEAT_HOLDING = frozenset({"pending_payment", "confirmed", "offered"})


@dataclass(frozen=True, slots=True)
class Attendee:
    name: str
    email: str
    registration_number: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", checked_text(self.name, "attendees.name", 200))
        object.__setattr__(self, "email", checked_text(self.email, "attendees.email", 254))
        if self.registration_number is not None:
            number = checked_text(self.registration_number, "attendees.registration_number", 100)
            object.__setattr__(self, "registration_number", number)


# A check-in code is read out at the door: 8 Crockford symbols (40 bits), ``K7Q4-9XMD``. Only
# the event's staff can use one (check-in is staff-only), so it needs to resist a slip of the
# tongue more than guessing; 40 bits keep codes apart (they are unique, and one event of
# 10,000 registrations gives a new booking a 1 in 10^8 chance of drawing a taken one).
CHECK_IN_SYMBOLS = 8
CHECK_IN_GROUPS = (4, 4)


def new_check_in_code() -> str:
    return grouped(random_symbols(CHECK_IN_SYMBOLS), CHECK_IN_GROUPS)


def check_in_code_candidates(typed: str) -> tuple[str, ...]:
    """The stored codes a typed or scanned code may be: the canonical ``XXXX-XXXX`` form (any
    case, with or without the dash, O for 0, I or L for 1), else the text as given, which is
    how codes issued before this format (16 URL-safe characters) are stored and still work."""
    raw = typed.strip()
    symbols = typed_symbols(raw)
    if len(symbols) == CHECK_IN_SYMBOLS and all(s in CROCKFORD for s in symbols):
        return (grouped(symbols, CHECK_IN_GROUPS),)
    return (raw,) if raw else ()


@dataclass(slots=True)
class Registration:
    id: UUID
    event_id: UUID
    user_id: UUID
    seats: int
    status: RegistrationStatus
    amount_due: Money
    created_at: datetime
    updated_at: datetime
    check_in_code: str = field(default_factory=lambda: new_check_in_code())
    attendees: tuple[Attendee, ...] = ()
    hold_expires_at: datetime | None = None
    offer_expires_at: datetime | None = None
    waitlisted_at: datetime | None = None
    paid: int = 0  # minor units, in amount_due's currency
    refunded: int = 0
    refund_policy: RefundPolicy | None = None  # snapshotted when paid
    payment_reference: str | None = None  # the provider's id for the payment
    refund_references: tuple[str, ...] = ()  # refunds already recorded, so none counts twice
    # States entered since loaded, not persisted: their consequences (the confirmation email)
    # follow from the transition itself, whichever use case made it (``take_transitions``).
    transitions: list[RegistrationStatus] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def open(
        cls,
        *,
        event_id: UUID,
        user_id: UUID,
        seats: int,
        seats_free: int | None,
        waitlist_waiting: bool,
        unit_price: Money,
        now: datetime,
        hold: timedelta = DEFAULT_HOLD,
        attendees: tuple[Attendee, ...] = (),
    ) -> Registration:
        """Confirm (free), hold seats for payment (paid), or join the waitlist (full).

        ``seats_free`` None means unlimited. Nobody jumps a non-empty waitlist.
        """
        if not 1 <= seats <= MAX_SEATS:
            raise InvalidInput(f"Book from 1 to {MAX_SEATS} seats.", field="seats")
        if attendees and len(attendees) != seats:
            raise InvalidInput("Give one attendee per seat, or none.", field="attendees")
        if unit_price.amount * seats > MAX_AMOUNT:
            raise InvalidInput("The total for this many seats is too large.", field="seats")
        registration = cls(
            id=new_id(),
            event_id=event_id,
            user_id=user_id,
            seats=seats,
            status=RegistrationStatus.WAITLISTED,
            amount_due=Money(unit_price.amount * seats, unit_price.currency),
            created_at=now,
            updated_at=now,
            attendees=attendees,
        )
        room = seats_free is None or (seats_free >= seats and not waitlist_waiting)
        if room:
            registration._take_seats(now, hold)
        else:
            registration.waitlisted_at = now
        return registration

    def queue_behind(self, last: datetime | None) -> None:
        """Take a place strictly after ``last`` in the waitlist, even within one clock tick,
        so first come stays first served (callers decide under the event's lock)."""
        if self.waitlisted_at is not None and last is not None and self.waitlisted_at <= last:
            self.waitlisted_at = last + timedelta(microseconds=1)

    def take_transitions(self) -> tuple[RegistrationStatus, ...]:
        """The states entered since the last call (or since loaded), in order, once each."""
        entered = tuple(self.transitions)
        self.transitions.clear()
        return entered

    @property
    def holds_seats(self) -> bool:
        return self.status in SEAT_HOLDING

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def refundable_balance(self) -> int:
        return self.paid - self.refunded

    # -- transitions -----------------------------------------------------------------------

    def confirm_payment(self, amount: Money, policy: RefundPolicy, *, now: datetime) -> None:
        """The payment succeeded: confirm, and fix the refund terms as they are now."""
        self._require(RegistrationStatus.PENDING_PAYMENT, "confirm a payment for")
        if amount.currency != self.amount_due.currency or amount.amount != self.amount_due.amount:
            raise Conflict("The payment does not match the amount due.", field="amount")
        self.paid = amount.amount
        self.refund_policy = policy
        self._move(RegistrationStatus.CONFIRMED, now)
        self.hold_expires_at = None

    def attach_payment(self, reference: str, *, now: datetime) -> None:
        self._require(RegistrationStatus.PENDING_PAYMENT, "attach a payment to")
        if self.payment_reference not in (None, reference):
            raise Conflict("This registration already has a payment.")
        self.payment_reference = reference
        self.updated_at = now

    def expire_hold(self, *, now: datetime) -> None:
        self._require(RegistrationStatus.PENDING_PAYMENT, "expire the hold of")
        if self.hold_expires_at is None or now < self.hold_expires_at:
            raise Conflict("The seat hold has not expired yet.")
        self._move(RegistrationStatus.EXPIRED, now)

    def offer(self, *, now: datetime, ttl: timedelta = DEFAULT_OFFER) -> None:
        self._require(RegistrationStatus.WAITLISTED, "offer a seat to")
        self.offer_expires_at = now + ttl
        self._move(RegistrationStatus.OFFERED, now)

    def accept_offer(self, *, now: datetime, hold: timedelta = DEFAULT_HOLD) -> None:
        self._require(RegistrationStatus.OFFERED, "accept an offer for")
        if self.offer_expires_at is not None and now >= self.offer_expires_at:
            raise Conflict("This offer has expired.")
        self.offer_expires_at = None
        self._take_seats(now, hold)

    def expire_offer(self, *, now: datetime) -> None:
        self._require(RegistrationStatus.OFFERED, "expire the offer of")
        if self.offer_expires_at is None or now < self.offer_expires_at:
            raise Conflict("The offer has not expired yet.")
        self._move(RegistrationStatus.EXPIRED, now)

    def cancel(self, *, now: datetime, event_starts_at: datetime | None, by_organizer: bool) -> int:
        """Cancel; returns the refund owed in minor units. The organizer refunds in full (no
        fee); the registrant gets what the policy snapshotted at payment gives."""
        if not self.is_active:
            raise Conflict(f"A {self.status} registration cannot be cancelled.")
        refund = self.refund_if_cancelled(
            now=now, event_starts_at=event_starts_at, by_organizer=by_organizer
        )
        self._move(RegistrationStatus.CANCELLED, now)
        self.hold_expires_at = self.offer_expires_at = None
        return refund

    def refund_if_cancelled(
        self, *, now: datetime, event_starts_at: datetime | None, by_organizer: bool = False
    ) -> int:
        """What cancelling now would refund (minor units), without cancelling."""
        if by_organizer or self.refund_policy is None or event_starts_at is None:
            return self.refundable_balance
        return self.refund_policy.refund(
            self.refundable_balance, now=now, starts_at=event_starts_at
        )

    def record_refund(self, amount: int, *, now: datetime, reference: str | None = None) -> None:
        """Refunds add up to at most what was paid, whatever their order; a refund already
        recorded under its provider ``reference`` is not counted again."""
        if reference is not None and reference in self.refund_references:
            return
        if amount <= 0:
            raise InvalidInput("A refund must be positive.", field="amount")
        if amount > self.refundable_balance:
            raise Conflict(
                "A refund cannot exceed what was paid and not yet refunded.", field="amount"
            )
        self.refunded += amount
        if reference is not None:
            self.refund_references = (*self.refund_references, reference)
        self.updated_at = now

    # -- rules -----------------------------------------------------------------------------

    def _take_seats(self, now: datetime, hold: timedelta) -> None:
        if self.amount_due.is_free:
            self._move(RegistrationStatus.CONFIRMED, now)
        else:
            self.hold_expires_at = now + hold
            self._move(RegistrationStatus.PENDING_PAYMENT, now)

    def _require(self, status: RegistrationStatus, action: str) -> None:
        if self.status is not status:
            raise Conflict(f"Cannot {action} a {self.status} registration.")

    def _move(self, status: RegistrationStatus, now: datetime) -> None:
        self.status = status
        self.updated_at = now
        self.transitions.append(status)


def seats_free(capacity: int | None, seats_held: int) -> int | None:
    return None if capacity is None else max(0, capacity - seats_held)


def next_offers(waitlist: list[Registration], free: int | None) -> list[Registration]:
    """Who gets an offer now that ``free`` seats are free: strictly first come, first served.

    A group is offered only when all its seats are free, and nobody behind it skips ahead
    (the waitlist's head blocks until its seats free up)."""
    offers = []
    queue = sorted(
        (r for r in waitlist if r.status is RegistrationStatus.WAITLISTED),
        key=lambda r: (r.waitlisted_at or r.created_at, str(r.id)),
    )
    for registration in queue:
        if free is not None and registration.seats > free:
            break
        offers.append(registration)
        if free is not None:
            free -= registration.seats
    return offers


@dataclass(frozen=True, slots=True)
class Upcoming:
    """A confirmed registration of a published event that starts soon (event reminders)."""

    registration_id: UUID
    registered_at: datetime
    event_starts_at: datetime


REMINDER_LEADS = (timedelta(hours=1), timedelta(hours=24))  # nearest first


def due_reminder(upcoming: Upcoming, now: datetime) -> timedelta | None:
    """The reminder due now (its lead time), if any: the nearest lead the start is within,
    unless the person registered after that point (their confirmation was the reminder)."""
    left = upcoming.event_starts_at - now
    if left <= timedelta(0):
        return None
    for lead in REMINDER_LEADS:
        if left <= lead:
            return lead if upcoming.registered_at <= upcoming.event_starts_at - lead else None
    return None
